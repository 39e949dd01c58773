// Package importers reads the files that departments upload and turns them
// into streams of geo.Feature for the catalog to store. Every reader streams:
// memory does not grow with the size of the file.
package importers
