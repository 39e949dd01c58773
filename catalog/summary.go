package catalog

import (
	"fmt"

	"github.com/paulmach/orb"

	"github.com/csdi-hk/csdi/geo"
)

// Summary accumulates what a store records about the features it writes, so
// that every store derives the metadata the same way.
type Summary struct {
	Count   int64
	Bounds  orb.Bound
	schema  geo.Schema
	geomTyp string
}

// Add checks one feature and records it. It refuses what no store may hold:
// a zero id or a missing geometry. Repeated ids are left to the store's
// primary key, which sees them without holding every id in memory here.
func (s *Summary) Add(f geo.Feature) error {
	if f.ID == 0 {
		return fmt.Errorf("feature %d: id must be a positive integer", s.Count+1)
	}
	if f.Geometry == nil {
		return fmt.Errorf("feature id %d: no geometry", f.ID)
	}
	if err := s.schema.Observe(f.Properties); err != nil {
		return fmt.Errorf("feature id %d: %w", f.ID, err)
	}
	b := f.Geometry.Bound()
	if s.Count == 0 {
		s.Bounds = b
	} else {
		s.Bounds = s.Bounds.Union(b)
	}
	t := baseType(f.Geometry)
	switch {
	case s.Count == 0:
		s.geomTyp = t
	case s.geomTyp != t:
		s.geomTyp = "Geometry"
	}
	s.Count++
	return nil
}

// Apply writes the summary into info: counts, bounds, geometry type and fields.
func (s *Summary) Apply(info *LayerInfo) {
	info.FeatureCount = s.Count
	info.Bounds = s.Bounds
	info.GeometryType = s.geomTyp
	if info.GeometryType == "" {
		info.GeometryType = "Geometry"
	}
	info.Fields = s.schema.Fields()
}

// baseType folds multi-geometries into their single kind, which is what a
// map style or a GIS client cares about.
func baseType(g orb.Geometry) string {
	switch g.(type) {
	case orb.Point, orb.MultiPoint:
		return "Point"
	case orb.LineString, orb.MultiLineString:
		return "LineString"
	case orb.Polygon, orb.MultiPolygon, orb.Ring, orb.Bound:
		return "Polygon"
	}
	return "Geometry"
}
