package features

import (
	"fmt"
	"strconv"
	"time"

	"github.com/paulmach/orb"

	"github.com/csdi-hk/csdi/catalog"
	"github.com/csdi-hk/csdi/geo"
	"github.com/csdi-hk/csdi/internal/jsonw"
)

// The GeoJSON of the items pages is written by hand: through orb/geojson
// and encoding/json it cost as much as finding the features. The output is
// byte for byte what encoding/json (HTML escaping off) writes, which the
// tests check.

// appendGeometry writes g as a GeoJSON geometry as orb/geojson does: a Ring
// or a Bound as a Polygon, nil or an empty collection as null.
func appendGeometry(buf []byte, g orb.Geometry) ([]byte, error) {
	switch g := g.(type) {
	case nil:
		return append(buf, "null"...), nil
	case orb.Ring:
		return appendGeometry(buf, orb.Polygon{g})
	case orb.Bound:
		return appendGeometry(buf, g.ToPolygon())
	case orb.Collection:
		if len(g) == 0 {
			return append(buf, "null"...), nil
		}
		buf = append(buf, `{"type":"GeometryCollection","geometries":[`...)
		for i, m := range g {
			if i > 0 {
				buf = append(buf, ',')
			}
			var err error
			if buf, err = appendGeometry(buf, m); err != nil {
				return nil, err
			}
		}
		return append(buf, "]}"...), nil
	}
	buf = append(buf, `{"type":"`...)
	buf = append(buf, g.GeoJSONType()...)
	buf = append(buf, `","coordinates":`...)
	var ok bool
	switch g := g.(type) {
	case orb.Point:
		buf, ok = appendPoint(buf, g)
	case orb.MultiPoint:
		buf, ok = appendPoints(buf, g)
	case orb.LineString:
		buf, ok = appendPoints(buf, g)
	case orb.MultiLineString:
		buf, ok = appendLines(buf, g)
	case orb.Polygon:
		buf, ok = appendLines(buf, g)
	case orb.MultiPolygon:
		if g == nil {
			buf, ok = append(buf, "null"...), true
			break
		}
		buf, ok = append(buf, '['), true
		for i, p := range g {
			if i > 0 {
				buf = append(buf, ',')
			}
			if buf, ok = appendLines(buf, p); !ok {
				break
			}
		}
		buf = append(buf, ']')
	default:
		return nil, fmt.Errorf("geometry of type %T has no GeoJSON encoding", g)
	}
	if !ok {
		return nil, fmt.Errorf("%s with a NaN or infinite coordinate, which JSON cannot hold", g.GeoJSONType())
	}
	return append(buf, '}'), nil
}

// appendLines writes rings or line strings, which are both []orb.Point
// underneath; the type parameter saves a conversion per member.
func appendLines[L ~[]P, P ~[]orb.Point](buf []byte, ls L) ([]byte, bool) {
	if ls == nil {
		return append(buf, "null"...), true
	}
	buf = append(buf, '[')
	for i, l := range ls {
		if i > 0 {
			buf = append(buf, ',')
		}
		var ok bool
		if buf, ok = appendPoints(buf, []orb.Point(l)); !ok {
			return buf, false
		}
	}
	return append(buf, ']'), true
}

func appendPoints[P ~[]orb.Point](buf []byte, ps P) ([]byte, bool) {
	if ps == nil {
		return append(buf, "null"...), true
	}
	buf = append(buf, '[')
	for i, p := range ps {
		if i > 0 {
			buf = append(buf, ',')
		}
		var ok bool
		if buf, ok = appendPoint(buf, p); !ok {
			return buf, false
		}
	}
	return append(buf, ']'), true
}

func appendPoint(buf []byte, p orb.Point) ([]byte, bool) {
	buf = append(buf, '[')
	buf, ok0 := jsonw.AppendFloat(buf, p[0])
	buf = append(buf, ',')
	buf, ok1 := jsonw.AppendFloat(buf, p[1])
	return append(buf, ']'), ok0 && ok1
}

// appendValue writes a property value of the feature model; t, the
// field's type, tells a date from a date-time.
func appendValue(buf []byte, v catalog.Scalar, t geo.FieldType) ([]byte, error) {
	switch v.Type {
	case geo.String:
		return jsonw.AppendString(buf, v.Str, false), nil
	case geo.Integer:
		return strconv.AppendInt(buf, v.Int, 10), nil
	case geo.Number:
		if b, ok := jsonw.AppendFloat(buf, v.Num); ok {
			return b, nil
		}
		return append(buf, "null"...), nil // JSON has no NaN or infinity
	case geo.Boolean:
		return strconv.AppendBool(buf, v.Bool), nil
	}
	switch x := v.Any.(type) {
	case nil:
		return append(buf, "null"...), nil
	case time.Time:
		// ISO 8601: a date field carries the day only.
		buf = append(buf, '"')
		if t == geo.Date {
			buf = x.AppendFormat(buf, time.DateOnly)
		} else {
			buf = x.AppendFormat(buf, time.RFC3339Nano)
		}
		return append(buf, '"'), nil
	}
	// Outside the model; the general encoder still writes it faithfully.
	j, err := marshal(v.Any)
	if err != nil {
		return nil, err
	}
	return append(buf, j...), nil
}
