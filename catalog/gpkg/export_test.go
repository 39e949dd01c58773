package gpkg

// DecodeGeometry lets the external tests decode blobs GDAL wrote.
var DecodeGeometry = decodeGeometry
