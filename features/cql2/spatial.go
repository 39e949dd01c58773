package cql2

import (
	"cmp"
	"math"
	"math/big"
	"slices"

	"github.com/paulmach/orb"
)

// The spatial functions are decided on the DE-9IM matrix of the two
// geometries, computed in the plane of their coordinates as PostGIS and
// GEOS do: both geometries are cut where they meet, every vertex, crossing
// and piece of edge between cuts is located in both geometries, and each
// side of an edge piece stands for the faces of polygons it bounds.
// Orientation tests are exact, so shared vertices, touching edges and
// points on boundaries are decided exactly. Only proper crossings of two
// edges get computed (rounded) coordinates; their location follows from
// the two edges, and the pieces of edge either side of them are located
// by midpoints that lie away from every edge of the other geometry.

// Locations of a point relative to a geometry, the rows and columns of
// a matrix.
const (
	inside  = 0 // interior
	onBound = 1 // boundary
	outside = 2 // exterior
)

// matrix is a DE-9IM intersection matrix: m[i][j] is the dimension of the
// intersection of location i of the first geometry with location j of
// the second, -1 when it is empty.
type matrix [3][3]int8

// seg is an edge of a line or of a polygon ring, of non-zero length.
type seg struct {
	a, b orb.Point
	ring bool // a polygon ring edge, else a line segment
	left bool // of a ring edge: the polygon's interior is on its left
}

// loc is where the inside of the edge lies in its own geometry.
func (s *seg) loc() int {
	if s.ring {
		return onBound
	}
	return inside
}

func (s *seg) bound() orb.Bound {
	return orb.Bound{Min: orb.Point{min(s.a[0], s.b[0]), min(s.a[1], s.b[1])}, Max: orb.Point{max(s.a[0], s.b[0]), max(s.a[1], s.b[1])}}
}

// axis is the coordinate along which the edge runs farther; positions
// along it order the points of the edge.
func (s *seg) axis() int {
	if math.Abs(s.b[0]-s.a[0]) >= math.Abs(s.b[1]-s.a[1]) {
		return 0
	}
	return 1
}

// shape is a geometry taken apart for relate: points, edges and polygons.
type shape struct {
	pts      []orb.Point
	segs     []seg
	polys    []orb.Polygon     // rings closed, without repeated points
	polyBox  []orb.Bound       // bound of each polygon
	lineEnds map[orb.Point]int // how many line ends fall on a point
	dim      int               // highest dimension of a part, -1 when empty
	bound    orb.Bound
}

func newShape(g orb.Geometry) *shape {
	s := &shape{dim: -1}
	s.add(g)
	first := true
	extend := func(p orb.Point) {
		if first {
			s.bound, first = orb.Bound{Min: p, Max: p}, false
		}
		s.bound = s.bound.Extend(p)
	}
	for _, p := range s.pts {
		extend(p)
	}
	for _, sg := range s.segs {
		extend(sg.a)
		extend(sg.b)
	}
	return s
}

func (s *shape) add(g orb.Geometry) {
	switch g := g.(type) {
	case orb.Point:
		s.pts = append(s.pts, g)
		s.dim = max(s.dim, 0)
	case orb.MultiPoint:
		for _, p := range g {
			s.add(p)
		}
	case orb.LineString:
		pts := dedupe(g)
		if len(pts) == 1 {
			s.add(pts[0])
			return
		}
		for i := 1; i < len(pts); i++ {
			s.segs = append(s.segs, seg{a: pts[i-1], b: pts[i]})
		}
		if len(pts) > 1 {
			if s.lineEnds == nil {
				s.lineEnds = map[orb.Point]int{}
			}
			s.lineEnds[pts[0]]++
			s.lineEnds[pts[len(pts)-1]]++
			s.dim = max(s.dim, 1)
		}
	case orb.MultiLineString:
		for _, l := range g {
			s.add(l)
		}
	case orb.Ring:
		s.add(orb.Polygon{g})
	case orb.Polygon:
		var poly orb.Polygon
		for i, r := range g {
			r := orb.Ring(dedupe(r))
			if len(r) > 0 && r[0] != r[len(r)-1] {
				r = append(r, r[0])
			}
			area := signedArea(r)
			if area == 0 { // degenerate: a shell without area has no polygon
				if i == 0 {
					return
				}
				continue
			}
			// Shells keep their interior on the left when counter-clockwise,
			// holes when clockwise.
			left := (area > 0) == (i == 0)
			for j := 1; j < len(r); j++ {
				s.segs = append(s.segs, seg{a: r[j-1], b: r[j], ring: true, left: left})
			}
			poly = append(poly, r)
		}
		if len(poly) == 0 {
			return
		}
		s.polys = append(s.polys, poly)
		s.polyBox = append(s.polyBox, poly[0].Bound())
		s.dim = 2
	case orb.MultiPolygon:
		for _, p := range g {
			s.add(p)
		}
	case orb.Collection:
		for _, c := range g {
			s.add(c)
		}
	case orb.Bound:
		s.add(g.ToPolygon())
	}
}

// dedupe drops consecutive repeated points.
func dedupe(ps []orb.Point) []orb.Point {
	out := make([]orb.Point, 0, len(ps))
	for _, p := range ps {
		if len(out) == 0 || out[len(out)-1] != p {
			out = append(out, p)
		}
	}
	return out
}

func signedArea(r orb.Ring) float64 {
	var a float64
	for i := 1; i < len(r); i++ {
		a += (r[i-1][0]-r[0][0])*(r[i][1]-r[0][1]) - (r[i][0]-r[0][0])*(r[i-1][1]-r[0][1])
	}
	return a / 2
}

// orient is the side of line a→b that c lies on: 1 left, -1 right, 0 on
// it. The floating-point determinant is trusted when it is farther from
// zero than its rounding error can reach (Shewchuk's first bound); else
// it is computed exactly.
func orient(a, b, c orb.Point) int {
	l := (b[0] - a[0]) * (c[1] - a[1])
	r := (b[1] - a[1]) * (c[0] - a[0])
	det, bound := l-r, 3.3306690738754716e-16*(math.Abs(l)+math.Abs(r))
	switch {
	case det > bound:
		return 1
	case det < -bound:
		return -1
	}
	rat := func(f float64) *big.Rat { return new(big.Rat).SetFloat64(f) }
	sub := func(x, y float64) *big.Rat { return new(big.Rat).Sub(rat(x), rat(y)) }
	el := new(big.Rat).Mul(sub(b[0], a[0]), sub(c[1], a[1]))
	er := new(big.Rat).Mul(sub(b[1], a[1]), sub(c[0], a[0]))
	return el.Cmp(er)
}

// onSegment reports whether p lies on the closed segment a-b.
func onSegment(p, a, b orb.Point) bool {
	return min(a[0], b[0]) <= p[0] && p[0] <= max(a[0], b[0]) &&
		min(a[1], b[1]) <= p[1] && p[1] <= max(a[1], b[1]) && orient(a, b, p) == 0
}

// locateRing finds p relative to a closed ring by counting the edges that
// cross the horizontal ray to its right, with exact side tests.
func locateRing(p orb.Point, r orb.Ring) int {
	in := false
	for i := 1; i < len(r); i++ {
		a, b := r[i-1], r[i]
		if (a[1] > p[1]) != (b[1] > p[1]) {
			o := orient(a, b, p)
			if o == 0 {
				return onBound
			}
			if (o > 0) == (b[1] > a[1]) {
				in = !in
			}
		} else if a[1] == p[1] && b[1] == p[1] && min(a[0], b[0]) <= p[0] && p[0] <= max(a[0], b[0]) {
			return onBound
		} else if a == p || b == p {
			return onBound
		}
	}
	if in {
		return inside
	}
	return outside
}

func locatePolygon(p orb.Point, poly orb.Polygon) int {
	switch locateRing(p, poly[0]) {
	case outside:
		return outside
	case onBound:
		return onBound
	}
	for _, h := range poly[1:] {
		switch locateRing(p, h) {
		case inside:
			return outside
		case onBound:
			return onBound
		}
	}
	return inside
}

// locateArea finds p relative to the polygons of s alone.
func (s *shape) locateArea(p orb.Point) int {
	loc := outside
	for i, poly := range s.polys {
		if !s.polyBox[i].Contains(p) {
			continue
		}
		switch locatePolygon(p, poly) {
		case inside:
			return inside
		case onBound:
			loc = onBound
		}
	}
	return loc
}

// locate finds p relative to s: area parts first, then lines, whose
// boundary is the ends that an odd number of lines share (the mod-2
// rule), then points.
func (s *shape) locate(p orb.Point) int {
	if !s.bound.Contains(p) {
		return outside
	}
	if loc := s.locateArea(p); loc != outside {
		return loc
	}
	for _, sg := range s.segs {
		if !sg.ring && onSegment(p, sg.a, sg.b) {
			if s.lineEnds[p]%2 == 1 {
				return onBound
			}
			return inside
		}
	}
	if slices.Contains(s.pts, p) {
		return inside
	}
	return outside
}

// side is where the faces beside an edge piece at p lie in s's polygons.
func (s *shape) side(p orb.Point) int {
	if len(s.polys) > 0 && s.locateArea(p) == inside {
		return inside
	}
	return outside
}

// cuts gathers, for one edge, the points where the other geometry meets
// it and the spans it shares with edges of the other geometry.
type cuts struct {
	pts   []orb.Point
	along []span
}

// span is a stretch [lo, hi] of an edge, in positions along its axis,
// that runs along the edge o of the other geometry.
type span struct {
	lo, hi float64
	o      *seg
}

// relate computes the DE-9IM matrix of a and b.
func relate(a, b *shape) matrix {
	var m matrix
	for i := range m {
		for j := range m[i] {
			m[i][j] = -1
		}
	}
	m[outside][outside] = 2
	if a.dim < 0 || b.dim < 0 {
		return m
	}
	set := func(i, j int, d int8) { m[i][j] = max(m[i][j], d) }
	ac, bc := make([]cuts, len(a.segs)), make([]cuts, len(b.segs))
	if a.bound.Intersects(b.bound) {
		for i := range a.segs {
			sa := &a.segs[i]
			box := sa.bound()
			if !box.Intersects(b.bound) {
				continue
			}
			for j := range b.segs {
				sb := &b.segs[j]
				if box.Intersects(sb.bound()) && meet(sa, sb, &ac[i], &bc[j]) {
					set(sa.loc(), sb.loc(), 0) // a proper crossing
				}
			}
		}
	}
	pieces(a, b, ac, false, set)
	pieces(b, a, bc, true, set)
	for _, p := range a.pts {
		set(a.locate(p), b.locate(p), 0)
	}
	for _, p := range b.pts {
		set(a.locate(p), b.locate(p), 0)
	}
	a.vertices(func(p orb.Point, loc int) { set(loc, b.locate(p), 0) })
	b.vertices(func(p orb.Point, loc int) { set(a.locate(p), loc, 0) })
	return m
}

// vertices calls fn with every vertex of the edges of s and its location
// in s, known without searching: on a ring it is boundary, on a line
// boundary when it ends an odd number of lines.
func (s *shape) vertices(fn func(p orb.Point, loc int)) {
	at := func(p orb.Point, sg *seg) {
		if !sg.ring && s.lineEnds[p]%2 == 1 {
			fn(p, onBound)
			return
		}
		fn(p, sg.loc())
	}
	for i := range s.segs {
		sg := &s.segs[i]
		at(sg.a, sg)
		if i+1 == len(s.segs) || s.segs[i+1].a != sg.b {
			at(sg.b, sg)
		}
	}
}

// intersects is relate(a, b).intersects() for the commonest function,
// stopping at the first point the geometries share.
func intersects(a, b *shape) bool {
	if a.dim < 0 || b.dim < 0 || !a.bound.Intersects(b.bound) {
		return false
	}
	for _, s := range [][2]*shape{{a, b}, {b, a}} {
		own, other := s[0], s[1]
		for _, p := range own.pts {
			if other.locate(p) != outside {
				return true
			}
		}
		found := false
		own.vertices(func(p orb.Point, _ int) { found = found || other.locate(p) != outside })
		if found {
			return true
		}
	}
	// No vertex of one lies on the other: they meet only where edges cross.
	for i := range a.segs {
		sa := &a.segs[i]
		box := sa.bound()
		for j := range b.segs {
			sb := &b.segs[j]
			if box.Intersects(sb.bound()) && orient(sa.a, sa.b, sb.a)*orient(sa.a, sa.b, sb.b) < 0 &&
				orient(sb.a, sb.b, sa.a)*orient(sb.a, sb.b, sa.b) < 0 {
				return true
			}
		}
	}
	return false
}

// meet records where edges sa and sb meet in their cuts, and reports
// whether they cross properly, at a point inside both.
func meet(sa, sb *seg, ca, cb *cuts) bool {
	o1, o2 := orient(sa.a, sa.b, sb.a), orient(sa.a, sa.b, sb.b)
	if o1 == 0 && o2 == 0 { // collinear
		ax := sa.axis()
		within := func(p orb.Point, s *seg) bool {
			return min(s.a[ax], s.b[ax]) <= p[ax] && p[ax] <= max(s.a[ax], s.b[ax])
		}
		var shared []orb.Point
		for _, p := range []orb.Point{sa.a, sa.b, sb.a, sb.b} {
			if within(p, sa) && within(p, sb) {
				shared = append(shared, p)
			}
		}
		if len(shared) == 0 {
			return false
		}
		byAxis := func(p, q orb.Point) int { return cmp.Compare(p[ax], q[ax]) }
		lo, hi := slices.MinFunc(shared, byAxis), slices.MaxFunc(shared, byAxis)
		ca.pts = append(ca.pts, lo, hi)
		cb.pts = append(cb.pts, lo, hi)
		if lo != hi {
			ca.along = append(ca.along, span{lo[ax], hi[ax], sb})
			cb.along = append(cb.along, span{lo[ax], hi[ax], sa})
		}
		return false
	}
	o3, o4 := orient(sb.a, sb.b, sa.a), orient(sb.a, sb.b, sa.b)
	if o1*o2 > 0 || o3*o4 > 0 {
		return false
	}
	if o1 != 0 && o2 != 0 && o3 != 0 && o4 != 0 {
		x := crossing(sa, sb)
		ca.pts = append(ca.pts, x)
		cb.pts = append(cb.pts, x)
		return true
	}
	// An end of one edge lies on the other: the lines are not parallel,
	// so it is the point where they meet.
	if o1 == 0 {
		ca.pts = append(ca.pts, sb.a)
	}
	if o2 == 0 {
		ca.pts = append(ca.pts, sb.b)
	}
	if o3 == 0 {
		cb.pts = append(cb.pts, sa.a)
	}
	if o4 == 0 {
		cb.pts = append(cb.pts, sa.b)
	}
	return false
}

// crossing is the point where two properly crossing edges meet, kept
// within both edges' boxes against rounding.
func crossing(s, t *seg) orb.Point {
	dx, dy := s.b[0]-s.a[0], s.b[1]-s.a[1]
	ex, ey := t.b[0]-t.a[0], t.b[1]-t.a[1]
	u := ((t.a[0]-s.a[0])*ey - (t.a[1]-s.a[1])*ex) / (dx*ey - dy*ex)
	if math.IsNaN(u) { // parallel within rounding: any point of the overlap will do
		u = 0.5
	}
	u = min(max(u, 0), 1)
	x := orb.Point{s.a[0] + u*dx, s.a[1] + u*dy}
	for _, box := range []orb.Bound{s.bound(), t.bound()} {
		x[0] = min(max(x[0], box.Min[0]), box.Max[0])
		x[1] = min(max(x[1], box.Min[1]), box.Max[1])
	}
	return x
}

// pieces cuts every edge of own where the other geometry meets it and
// records, for each piece between cuts, its location in both geometries
// and that of the faces on either side of it. flip says own is the
// second geometry of the matrix.
func pieces(own, other *shape, cs []cuts, flip bool, set func(i, j int, d int8)) {
	areas := own.dim == 2 || other.dim == 2
	var pts []orb.Point
	for i := range own.segs {
		sg := &own.segs[i]
		c := &cs[i]
		ax := sg.axis()
		dir := 1.0
		if sg.b[ax] < sg.a[ax] {
			dir = -1
		}
		pts = append(append(pts[:0], sg.a, sg.b), c.pts...)
		slices.SortFunc(pts, func(p, q orb.Point) int { return cmp.Compare(dir*p[ax], dir*q[ax]) })
		pts = slices.Compact(pts)
		for k := 1; k < len(pts); k++ {
			p, q := pts[k-1], pts[k]
			mid := orb.Point{(p[0] + q[0]) / 2, (p[1] + q[1]) / 2}
			var o *seg
			for _, sp := range c.along {
				if sp.lo < mid[ax] && mid[ax] < sp.hi {
					o = sp.o
					break
				}
			}
			ownLoc, otherLoc := sg.loc(), outside
			switch {
			case o != nil:
				otherLoc = o.loc()
			case len(other.polys) > 0:
				otherLoc = other.side(mid)
			}
			put := func(x, y int, d int8) {
				if flip {
					x, y = y, x
				}
				set(x, y, d)
			}
			put(ownLoc, otherLoc, 1)
			if !areas {
				continue
			}
			ownL, ownR := sides(sg, sg.left, own, mid)
			otherL, otherR := outside, outside
			if o != nil && o.ring {
				// o's interior side, seen along sg's direction.
				same := (o.b[0]-o.a[0])*(sg.b[0]-sg.a[0])+(o.b[1]-o.a[1])*(sg.b[1]-sg.a[1]) > 0
				otherL, otherR = sides(o, o.left == same, other, mid)
			} else if len(other.polys) > 0 {
				otherL = other.side(mid)
				otherR = otherL
			}
			put(ownL, otherL, 2)
			put(ownR, otherR, 2)
		}
	}
}

// sides is where the faces left and right of an edge piece at mid lie in
// the edge's geometry s: a ring edge has its interior on one side
// (left says which), a line edge has the same on both.
func sides(sg *seg, left bool, s *shape, mid orb.Point) (int, int) {
	if sg.ring {
		if left {
			return inside, outside
		}
		return outside, inside
	}
	loc := s.side(mid)
	return loc, loc
}

// The spatial functions on a matrix, as in OGC Simple Features.

func (m matrix) intersects() bool {
	return m[inside][inside] >= 0 || m[inside][onBound] >= 0 || m[onBound][inside] >= 0 || m[onBound][onBound] >= 0
}

func (m matrix) within() bool {
	return m[inside][inside] >= 0 && m[inside][outside] < 0 && m[onBound][outside] < 0
}

func (m matrix) contains() bool {
	return m[inside][inside] >= 0 && m[outside][inside] < 0 && m[outside][onBound] < 0
}

// spatial evaluates the function op on a and b.
func spatial(op string, a, b *shape) bool {
	switch op {
	case "s_intersects":
		return intersects(a, b)
	case "s_disjoint":
		return !intersects(a, b)
	}
	m := relate(a, b)
	switch op {
	case "s_within":
		return m.within()
	case "s_contains":
		return m.contains()
	case "s_equals":
		return m.within() && m.contains()
	case "s_touches":
		return m[inside][inside] < 0 && m.intersects()
	case "s_crosses":
		switch {
		case a.dim < b.dim:
			return m[inside][inside] >= 0 && m[inside][outside] >= 0
		case a.dim > b.dim:
			return m[inside][inside] >= 0 && m[outside][inside] >= 0
		case a.dim == 1:
			return m[inside][inside] == 0
		}
	case "s_overlaps":
		if a.dim != b.dim || (a.dim == 1 && m[inside][inside] != 1) {
			return false
		}
		return m[inside][inside] >= 0 && m[inside][outside] >= 0 && m[outside][inside] >= 0
	}
	return false
}
