package importers

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"

	"github.com/paulmach/orb"
)

// orb's encoding/wkb reads only two-dimensional WKB: the ISO Z, M and ZM
// types (1001, 2002, 3003...) that GDAL writes into GeoPackages are errors
// there, and EWKB's Z flag is silently misread. parseWKB reads all of them
// and keeps x and y.

// maxWKBDepth bounds the nesting of collections.
const maxWKBDepth = 32

var errWKBTruncated = errors.New("truncated WKB")

// parseWKB decodes one WKB geometry, 2D, Z, M or ZM, ISO or EWKB.
func parseWKB(b []byte) (orb.Geometry, error) {
	w := wkbReader{b: b}
	g, err := w.geometry(0, 0)
	if err != nil {
		return nil, fmt.Errorf("WKB at byte %d: %w", w.pos, err)
	}
	return g, nil
}

type wkbReader struct {
	b     []byte
	pos   int
	order binary.ByteOrder
}

func (w *wkbReader) uint32() (uint32, error) {
	if len(w.b)-w.pos < 4 {
		return 0, errWKBTruncated
	}
	v := w.order.Uint32(w.b[w.pos:])
	w.pos += 4
	return v, nil
}

// count reads a number of items of at least min bytes each and checks that
// the rest of the input can hold them, so that a corrupt count cannot make
// the reader allocate gigabytes.
func (w *wkbReader) count(min int) (int, error) {
	n, err := w.uint32()
	if err != nil {
		return 0, err
	}
	if uint64(n)*uint64(min) > uint64(len(w.b)-w.pos) {
		return 0, fmt.Errorf("count %d runs past the end of the data", n)
	}
	return int(n), nil
}

// points reads n points of dims coordinates each and keeps x and y.
func (w *wkbReader) points(n, dims int) []orb.Point {
	ps := make([]orb.Point, n)
	for i := range ps {
		ps[i] = orb.Point{
			math.Float64frombits(w.order.Uint64(w.b[w.pos:])),
			math.Float64frombits(w.order.Uint64(w.b[w.pos+8:])),
		}
		w.pos += 8 * dims
	}
	return ps
}

// Base WKB geometry types.
const (
	wkbPoint = 1 + iota
	wkbLineString
	wkbPolygon
	wkbMultiPoint
	wkbMultiLineString
	wkbMultiPolygon
	wkbCollection
)

// geometry reads a geometry; want, if not 0, is the base type a member of a
// Multi* geometry must have.
func (w *wkbReader) geometry(depth int, want uint32) (orb.Geometry, error) {
	if depth > maxWKBDepth {
		return nil, errors.New("geometry collections nested too deeply")
	}
	if len(w.b)-w.pos < 5 {
		return nil, errWKBTruncated
	}
	switch w.b[w.pos] {
	case 0:
		w.order = binary.BigEndian
	case 1:
		w.order = binary.LittleEndian
	default:
		return nil, fmt.Errorf("invalid byte order %d", w.b[w.pos])
	}
	w.pos++
	typ, _ := w.uint32()
	dims := 2
	// EWKB (PostGIS) flags, then ISO's thousands.
	if typ&0x80000000 != 0 {
		dims++
	}
	if typ&0x40000000 != 0 {
		dims++
	}
	if typ&0x20000000 != 0 {
		if _, err := w.uint32(); err != nil { // SRID
			return nil, err
		}
	}
	typ &= 0x0fffffff
	switch typ / 1000 {
	case 1, 2:
		dims++
	case 3:
		dims += 2
	case 0:
	default:
		return nil, fmt.Errorf("unknown geometry type %d", typ)
	}
	if dims > 4 {
		return nil, fmt.Errorf("geometry type %d has both EWKB and ISO dimension flags", typ)
	}
	base := typ % 1000
	if want != 0 && base != want {
		return nil, fmt.Errorf("a member of type %d in a collection of type %d", base, want+3)
	}
	size := 8 * dims
	switch base {
	case wkbPoint:
		if len(w.b)-w.pos < size {
			return nil, errWKBTruncated
		}
		p := w.points(1, dims)[0]
		if math.IsNaN(p[0]) && math.IsNaN(p[1]) {
			return nil, errors.New("empty point")
		}
		return p, nil
	case wkbLineString:
		n, err := w.count(size)
		if err != nil {
			return nil, err
		}
		return orb.LineString(w.points(n, dims)), nil
	case wkbPolygon:
		n, err := w.count(4)
		if err != nil {
			return nil, err
		}
		p := make(orb.Polygon, 0, n)
		for range n {
			m, err := w.count(size)
			if err != nil {
				return nil, err
			}
			p = append(p, w.points(m, dims))
		}
		return p, nil
	case wkbMultiPoint, wkbMultiLineString, wkbMultiPolygon, wkbCollection:
		n, err := w.count(9)
		if err != nil {
			return nil, err
		}
		var member uint32
		if base != wkbCollection {
			member = base - 3
		}
		members := make([]orb.Geometry, 0, n)
		for range n {
			g, err := w.geometry(depth+1, member)
			if err != nil {
				return nil, err
			}
			members = append(members, g)
		}
		switch base {
		case wkbMultiPoint:
			mp := make(orb.MultiPoint, len(members))
			for i, g := range members {
				mp[i] = g.(orb.Point)
			}
			return mp, nil
		case wkbMultiLineString:
			ml := make(orb.MultiLineString, len(members))
			for i, g := range members {
				ml[i] = g.(orb.LineString)
			}
			return ml, nil
		case wkbMultiPolygon:
			mp := make(orb.MultiPolygon, len(members))
			for i, g := range members {
				mp[i] = g.(orb.Polygon)
			}
			return mp, nil
		}
		return orb.Collection(members), nil
	case 8, 9, 10, 11, 12, 13, 14:
		return nil, fmt.Errorf("curved geometry type %d (CircularString, CompoundCurve, CurvePolygon, MultiCurve, MultiSurface...) is not supported; convert it to linear geometry first (ogr2ogr -nlt CONVERT_TO_LINEAR)", typ)
	case 15, 16, 17:
		return nil, fmt.Errorf("geometry type %d (PolyhedralSurface, TIN, Triangle) is not supported", typ)
	}
	return nil, fmt.Errorf("unknown geometry type %d", typ)
}
