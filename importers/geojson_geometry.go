package importers

import (
	"bytes"
	"errors"
	"fmt"

	"github.com/paulmach/orb"
)

// geometry reads a GeoJSON geometry object at depth into an orb geometry,
// as orb/geojson.UnmarshalGeometry would, but stricter where it would make
// up numbers: a null or missing coordinate, or a position with fewer than
// two, is an error rather than a 0. bad is what makes the geometry
// unusable; err is a syntax error, or errMore.
func (g *geojsonReader) geometry(depth int) (geom orb.Geometry, bad error, err error) {
	s := g.s
	c, err := s.peek()
	if err != nil {
		return nil, nil, err
	}
	switch c {
	case '{':
	case 'n':
		_, err := s.literal()
		return nil, nil, err // no geometry
	default:
		return nil, errors.New("not a JSON object"), s.skip(depth)
	}
	if depth >= maxJSONDepth {
		return nil, nil, s.syntaxf("nested deeper than %d", maxJSONDepth)
	}
	s.pos++
	var (
		typ        string
		coordsAt   = -1 // where the last "coordinates" value starts
		parsedAt   = -1 // where the value parsed into coords starts
		parsedType string
		coords     orb.Geometry
		coordsBad  error
		geoms      orb.Collection
		geomsBad   error
		typeBad    error
	)
	more, err := s.objectStart()
	for more && err == nil {
		var k []byte
		if k, _, err = s.key(); err != nil {
			return nil, nil, err
		}
		switch geometryMember(k) {
		case "type":
			if c, err = s.peek(); err != nil {
				return nil, nil, err
			}
			switch c {
			case '"':
				var b []byte
				if b, _, err = s.str(); err != nil {
					return nil, nil, err
				}
				typ = geometryType(b)
			case 'n':
				if _, err = s.literal(); err != nil {
					return nil, nil, err
				}
			default:
				if typeBad == nil {
					typeBad = errors.New(`"type" is not a string`)
				}
				if err = s.skip(depth + 1); err != nil {
					return nil, nil, err
				}
			}
		case "coordinates":
			if _, err = s.peek(); err != nil {
				return nil, nil, err
			}
			coordsAt = s.pos
			if isCoordType(typ) {
				// The usual order: the type is known, so the coordinates
				// go straight into their orb type.
				parsedAt, parsedType = s.pos, typ
				coords, coordsBad, err = g.coordinates(typ, depth+1)
			} else {
				err = s.skip(depth + 1)
			}
			if err != nil {
				return nil, nil, err
			}
		case "geometries":
			var bad error
			geoms, bad, err = g.geometries(depth + 1)
			if err != nil {
				return nil, nil, err
			}
			if geomsBad == nil {
				geomsBad = bad
			}
		default:
			if err = s.skip(depth + 1); err != nil {
				return nil, nil, err
			}
		}
		more, err = s.objectNext()
	}
	if err != nil {
		return nil, nil, err
	}
	switch {
	case typeBad != nil:
		return nil, typeBad, nil
	case geomsBad != nil:
		return nil, geomsBad, nil
	case typ == "GeometryCollection":
		if geoms == nil {
			geoms = orb.Collection{}
		}
		return geoms, nil, nil
	case !isCoordType(typ):
		if typ == "" {
			return nil, errors.New(`no "type"`), nil
		}
		return nil, fmt.Errorf("%q is not a GeoJSON geometry type", typ), nil
	case coordsAt < 0:
		return nil, errors.New(`no "coordinates"`), nil
	case parsedAt != coordsAt || parsedType != typ:
		// "type" came after "coordinates" (or a member was repeated):
		// read them again, still in the buffer, now the type is known.
		end := s.pos
		s.pos = coordsAt
		coords, coordsBad, err = g.coordinates(typ, depth+1)
		s.pos = end
		if err != nil {
			return nil, nil, err
		}
	}
	if coordsBad != nil {
		return nil, coordsBad, nil
	}
	return coords, nil, nil
}

// geometryMember is featureMember for a geometry object.
func geometryMember(key []byte) string {
	switch string(key) {
	case "type":
		return "type"
	case "coordinates":
		return "coordinates"
	case "geometries":
		return "geometries"
	}
	for _, m := range [...]string{"type", "coordinates", "geometries"} {
		if bytes.EqualFold(key, []byte(m)) {
			return m
		}
	}
	return ""
}

// geometryType returns the type name as a constant where it is one of
// GeoJSON's, so that reading it allocates nothing.
func geometryType(b []byte) string {
	switch string(b) {
	case "Point":
		return "Point"
	case "MultiPoint":
		return "MultiPoint"
	case "LineString":
		return "LineString"
	case "MultiLineString":
		return "MultiLineString"
	case "Polygon":
		return "Polygon"
	case "MultiPolygon":
		return "MultiPolygon"
	case "GeometryCollection":
		return "GeometryCollection"
	}
	return string(b)
}

func isCoordType(typ string) bool {
	switch typ {
	case "Point", "MultiPoint", "LineString", "MultiLineString", "Polygon", "MultiPolygon":
		return true
	}
	return false
}

// geometries reads the "geometries" array of a GeometryCollection.
func (g *geojsonReader) geometries(depth int) (orb.Collection, error, error) {
	s := g.s
	c, err := s.peek()
	if err != nil {
		return nil, nil, err
	}
	if c == 'n' {
		_, err := s.literal()
		return nil, nil, err
	}
	out := orb.Collection{}
	var bad error
	err = s.list(depth, &bad, `"geometries"`, func() error {
		geom, b, err := g.geometry(depth + 1)
		if err != nil {
			return err
		}
		if b == nil && geom == nil {
			b = errors.New("null in \"geometries\"")
		}
		if bad == nil && b != nil {
			bad = fmt.Errorf("geometry %d of the collection: %w", len(out)+1, b)
		}
		out = append(out, geom)
		return nil
	})
	return out, bad, err
}

// coordinates reads a "coordinates" value for a geometry of type typ.
func (g *geojsonReader) coordinates(typ string, depth int) (orb.Geometry, error, error) {
	s := g.s
	var bad error
	var err error
	switch typ {
	case "Point":
		var p orb.Point
		p, err = s.position(depth, &bad)
		return p, bad, err
	case "MultiPoint":
		var ps []orb.Point
		ps, err = s.points(depth, &bad)
		return orb.MultiPoint(ps), bad, err
	case "LineString":
		var ps []orb.Point
		ps, err = s.points(depth, &bad)
		return orb.LineString(ps), bad, err
	case "MultiLineString":
		ml := orb.MultiLineString{}
		err = s.list(depth, &bad, "a list of lines", func() error {
			ps, err := s.points(depth+1, &bad)
			ml = append(ml, ps)
			return err
		})
		return ml, bad, err
	case "Polygon":
		var p orb.Polygon
		p, err = s.rings(depth, &bad)
		return p, bad, err
	default: // MultiPolygon
		mp := orb.MultiPolygon{}
		err = s.list(depth, &bad, "a list of polygons", func() error {
			p, err := s.rings(depth+1, &bad)
			mp = append(mp, p)
			return err
		})
		return mp, bad, err
	}
}

// list reads an array, calling elem at each element; what names the
// array expected, for the error when the value is something else.
func (s *jsonScanner) list(depth int, bad *error, what string, elem func() error) error {
	c, err := s.peek()
	if err != nil {
		return err
	}
	if c != '[' {
		if *bad == nil {
			if c == 'n' {
				*bad = fmt.Errorf("null where %s should be", what)
			} else {
				*bad = fmt.Errorf("%s is not an array", what)
			}
		}
		return s.skip(depth)
	}
	if depth >= maxJSONDepth {
		return s.syntaxf("nested deeper than %d", maxJSONDepth)
	}
	s.pos++
	more, err := s.arrayStart()
	for more && err == nil {
		if err = elem(); err != nil {
			return err
		}
		more, err = s.arrayNext()
	}
	return err
}

// rings reads the rings of a polygon.
func (s *jsonScanner) rings(depth int, bad *error) (orb.Polygon, error) {
	p := orb.Polygon{}
	err := s.list(depth, bad, "a list of rings", func() error {
		ps, err := s.points(depth+1, bad)
		p = append(p, ps)
		return err
	})
	return p, err
}

// points reads a list of positions.
func (s *jsonScanner) points(depth int, bad *error) ([]orb.Point, error) {
	var pts [64]orb.Point // most lists fit: one allocation, of the right size
	buf := pts[:0]
	err := s.list(depth, bad, "a list of positions", func() error {
		p, err := s.position(depth+1, bad)
		buf = append(buf, p)
		return err
	})
	out := make([]orb.Point, len(buf))
	copy(out, buf)
	return out, err
}

// position reads [x, y, ...]; numbers after the second are dropped.
func (s *jsonScanner) position(depth int, bad *error) (orb.Point, error) {
	var p orb.Point
	n := 0
	err := s.list(depth, bad, "a position", func() error {
		if n >= 2 {
			n++
			return s.skip(depth + 1)
		}
		c, err := s.peek()
		if err != nil {
			return err
		}
		if c != '-' && (c < '0' || c > '9') {
			if *bad == nil {
				if c == 'n' {
					*bad = errors.New("null coordinate")
				} else {
					*bad = errors.New("a coordinate is not a number")
				}
			}
			n++
			return s.skip(depth + 1)
		}
		b, err := s.number()
		if err != nil {
			return err
		}
		v, ok := parseJSONFloat(b)
		if !ok && *bad == nil {
			*bad = fmt.Errorf("coordinate %s out of range", b)
		}
		p[n] = v
		n++
		return nil
	})
	if err == nil && n < 2 && *bad == nil {
		*bad = fmt.Errorf("a position with %d numbers, fewer than 2", n)
	}
	return p, err
}
