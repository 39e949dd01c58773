// Package geo is the feature model shared by every other package: a feature
// is an orb geometry in WGS84 (longitude, latitude) with a stable id and typed
// attributes. Formats and databases convert to and from it at their boundary.
package geo

import (
	"github.com/paulmach/orb"
)

// Feature is one record of a layer.
//
// ID is positive and stable across reloads: it is the OGC API feature id and
// the MVT feature id, so clients can keep state about a feature.
// Property values are one of: nil, string, int64, float64, bool, time.Time
// (dates and date-times); Field.Type says which.
type Feature struct {
	ID         uint64
	Geometry   orb.Geometry
	Properties map[string]any
}
