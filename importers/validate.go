package importers

import (
	"errors"
	"fmt"
	"strings"

	"github.com/paulmach/orb"
)

// Repair is the set of repairs Validate made to one geometry. Each is
// faithful: the repaired geometry covers the same points as the one read.
type Repair uint8

const (
	// RepairDuplicates: consecutive duplicate points were removed.
	RepairDuplicates Repair = 1 << iota
	// RepairClosed: a ring whose last point was not its first was closed.
	RepairClosed
	// RepairShortHole: a hole of fewer than 4 points (3 distinct), which
	// encloses nothing, was dropped.
	RepairShortHole
	// RepairEmptyPart: an empty part of a multi-geometry or collection, or
	// an empty hole, was dropped.
	RepairEmptyPart
	// RepairWinding: rings were turned to the RFC 7946 order, exterior
	// rings counter-clockwise and holes clockwise.
	RepairWinding
)

var repairNames = [...]string{
	"removed consecutive duplicate points",
	"closed an unclosed ring",
	"dropped a hole of fewer than 4 points",
	"dropped an empty part",
	"rewound rings to RFC 7946 order",
}

// Kinds names the repairs in r, one string each.
func (r Repair) Kinds() []string {
	var out []string
	for i, name := range repairNames {
		if r&(1<<i) != 0 {
			out = append(out, name)
		}
	}
	return out
}

func (r Repair) String() string { return strings.Join(r.Kinds(), "; ") }

var errEmpty = errors.New("empty geometry")

// Validate checks one geometry in WGS84 and repairs what can be repaired
// faithfully; see Validator.
func Validate(g orb.Geometry) (orb.Geometry, Repair, error) {
	var v Validator
	return v.Validate(g)
}

// Validator checks geometries against the OGC simple features rules, as
// PostGIS's ST_IsValid does, before they go into a store. It repairs
// unclosed rings, consecutive duplicate points, holes of fewer than 4
// points, empty parts of multi-geometries and wrong winding, and rejects
// with the reason: non-finite or out-of-range coordinates, empty
// geometries, lines of fewer than 2 distinct points, exterior rings of
// fewer than 4 points, rings that cross or touch themselves, rings that
// cross each other or share an edge, holes outside their exterior ring or
// inside another hole, interiors cut in two by touching rings, and
// polygons of a multi-polygon that overlap. A bow-tie is rejected rather
// than split: which of its halves the author meant is a guess.
//
// Validate may change the geometry it is given in place and returns the
// repaired one. A Validator keeps its buffers from one call to the next,
// so it is not safe for concurrent use; the zero value is ready.
type Validator struct {
	rings    []ringRef
	segs     []segRef
	boxes    []orb.Bound
	order    []int32
	active   []int32
	contacts []contact
}

// Validate checks and repairs g; see Validator.
func (v *Validator) Validate(g orb.Geometry) (orb.Geometry, Repair, error) {
	if g == nil {
		return nil, 0, errors.New("no geometry")
	}
	// Coordinates first: NaN compares unequal to itself, which would
	// confuse the duplicate and closure checks below.
	if err := CheckLonLat(g); err != nil {
		return nil, 0, err
	}
	var r Repair
	g, err := v.validate(g, &r)
	if err != nil {
		return nil, r, err
	}
	return g, r, nil
}

func (v *Validator) validate(g orb.Geometry, r *Repair) (orb.Geometry, error) {
	switch g := g.(type) {
	case orb.Point:
		return g, nil
	case orb.MultiPoint:
		if len(g) == 0 {
			return nil, errEmpty
		}
		return g, nil
	case orb.LineString:
		return cleanLine(g, r)
	case orb.MultiLineString:
		out := g[:0]
		for i, l := range g {
			if len(l) == 0 {
				*r |= RepairEmptyPart
				continue
			}
			l, err := cleanLine(l, r)
			if err != nil {
				return nil, fmt.Errorf("line %d: %w", i+1, err)
			}
			out = append(out, l)
		}
		if len(out) == 0 {
			return nil, errEmpty
		}
		return out, nil
	case orb.Polygon:
		p, err := cleanPolygon(g, r)
		if err != nil {
			return nil, err
		}
		if err := v.checkPolygons(orb.MultiPolygon{p}, false); err != nil {
			return nil, err
		}
		wind(p, r)
		return p, nil
	case orb.MultiPolygon:
		out := g[:0]
		for i, p := range g {
			p, err := cleanPolygon(p, r)
			if errors.Is(err, errEmpty) {
				*r |= RepairEmptyPart
				continue
			}
			if err != nil {
				return nil, fmt.Errorf("polygon %d: %w", i+1, err)
			}
			out = append(out, p)
		}
		if len(out) == 0 {
			return nil, errEmpty
		}
		if err := v.checkPolygons(out, true); err != nil {
			return nil, err
		}
		for _, p := range out {
			wind(p, r)
		}
		return out, nil
	case orb.Collection:
		out := g[:0]
		for i, m := range g {
			if m == nil {
				*r |= RepairEmptyPart
				continue
			}
			m, err := v.validate(m, r)
			if errors.Is(err, errEmpty) {
				*r |= RepairEmptyPart
				continue
			}
			if err != nil {
				return nil, fmt.Errorf("member %d: %w", i+1, err)
			}
			out = append(out, m)
		}
		if len(out) == 0 {
			return nil, errEmpty
		}
		return out, nil
	case orb.Ring:
		return v.validate(orb.Polygon{g}, r)
	case orb.Bound:
		return v.validate(g.ToPolygon(), r)
	}
	return nil, fmt.Errorf("unsupported geometry type %T", g)
}

// dedupe removes consecutive duplicate points in place.
func dedupe(pts []orb.Point, r *Repair) []orb.Point {
	if len(pts) < 2 {
		return pts
	}
	j := 1
	for i := 1; i < len(pts); i++ {
		if pts[i] != pts[j-1] {
			pts[j] = pts[i]
			j++
		}
	}
	if j < len(pts) {
		*r |= RepairDuplicates
	}
	return pts[:j]
}

func cleanLine(l orb.LineString, r *Repair) (orb.LineString, error) {
	l = dedupe(l, r)
	if len(l) < 2 {
		return nil, fmt.Errorf("a line needs 2 distinct points, it has %d", len(l))
	}
	return l, nil
}

// cleanRing removes duplicate points and closes the ring.
func cleanRing(ring orb.Ring, r *Repair) orb.Ring {
	ring = dedupe(ring, r)
	if len(ring) > 0 && ring[0] != ring[len(ring)-1] {
		ring = append(ring, ring[0])
		*r |= RepairClosed
	}
	return ring
}

// cleanPolygon cleans every ring, drops holes that enclose nothing and
// refuses an exterior ring that does not; errEmpty for no exterior ring.
func cleanPolygon(p orb.Polygon, r *Repair) (orb.Polygon, error) {
	if len(p) == 0 || len(p[0]) == 0 {
		if len(p) > 1 {
			return nil, errors.New("holes without an exterior ring")
		}
		return nil, errEmpty
	}
	out := p[:1]
	out[0] = cleanRing(p[0], r)
	if n := len(out[0]); n < 4 {
		return nil, fmt.Errorf("the exterior ring has %d distinct points, a polygon needs at least 3", max(n-1, 1))
	}
	for _, h := range p[1:] {
		if len(h) == 0 {
			*r |= RepairEmptyPart
			continue
		}
		if h = cleanRing(h, r); len(h) < 4 {
			*r |= RepairShortHole
			continue
		}
		out = append(out, h)
	}
	return out, nil
}

// wind turns the exterior ring counter-clockwise and the holes clockwise.
// The rings are simple by now, so their areas are not zero.
func wind(p orb.Polygon, r *Repair) {
	for i, ring := range p {
		if ccw := area2(ring) > 0; ccw != (i == 0) {
			ring.Reverse()
			*r |= RepairWinding
		}
	}
}

// area2 is twice the signed area of a closed ring, positive when it runs
// counter-clockwise. Coordinates are taken relative to the first point,
// which keeps the products small and the sum precise.
func area2(r orb.Ring) float64 {
	var s float64
	x0, y0 := r[0][0], r[0][1]
	for i := 1; i < len(r)-1; i++ {
		s += (r[i][0]-x0)*(r[i+1][1]-y0) - (r[i+1][0]-x0)*(r[i][1]-y0)
	}
	return s
}
