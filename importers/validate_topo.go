package importers

import (
	"cmp"
	"fmt"
	"math"
	"math/big"
	"slices"

	"github.com/paulmach/orb"
)

// The topology checks of polygons. Every segment of every ring goes into
// one sort-and-sweep over their bounding boxes, which compares only the
// segments whose boxes overlap: O(n log n) for real rings, whose segments
// are short against the ring, and 500k-vertex coastlines take well under a
// second (BenchmarkValidateRing). Rings whose segments are long in both
// axes at once (a star of 100k spikes) would make it quadratic. Segment
// tests use exact orientation predicates, so collinear and touching
// points, common in surveyed data on round coordinates, are decided
// exactly rather than by a tolerance.

type ringRef struct {
	pts  orb.Ring
	poly int32 // the polygon it belongs to, from 0
	hole int32 // 0 for the exterior ring, else the hole's number from 1
}

type segRef struct {
	ring int32 // index into Validator.rings
	i    int32 // the segment runs from pts[i] to pts[i+1]
}

// contact is a point where two different rings meet without crossing.
type contact struct {
	a, b   int32 // rings, a < b
	sa, sb int32 // the segments of a and b that meet there
	at     orb.Point
}

// bruteForce is the number of segments up to which every pair is
// compared: cheaper than sorting for the building footprints that make up
// most layers.
const bruteForce = 32

// checkPolygons checks the topology of cleaned polygons: each ring
// simple, rings meeting only at points where they do not cross, holes
// inside their exterior ring and outside each other, each interior in one
// piece, and the polygons' interiors apart.
func (v *Validator) checkPolygons(mp orb.MultiPolygon, multi bool) error {
	v.rings, v.segs, v.boxes, v.contacts = v.rings[:0], v.segs[:0], v.boxes[:0], v.contacts[:0]
	for pi, p := range mp {
		for hi, ring := range p {
			ri := int32(len(v.rings))
			v.rings = append(v.rings, ringRef{pts: ring, poly: int32(pi), hole: int32(hi)})
			for i := 0; i < len(ring)-1; i++ {
				v.segs = append(v.segs, segRef{ring: ri, i: int32(i)})
				v.boxes = append(v.boxes, orb.Bound{Min: ring[i], Max: ring[i]}.Extend(ring[i+1]))
			}
		}
	}
	if err := v.pairs(v.boxes, v.segPair); err != nil {
		return v.named(err, multi)
	}
	if len(v.contacts) > 0 {
		if err := v.checkContacts(); err != nil {
			return v.named(err, multi)
		}
	}
	for pi, p := range mp {
		if err := v.checkHoles(p); err != nil {
			if multi {
				return fmt.Errorf("polygon %d: %w", pi+1, err)
			}
			return err
		}
	}
	if len(mp) > 1 {
		return v.checkNesting(mp)
	}
	return nil
}

// ringError is a problem found in a ring, named once the polygon is known.
type ringError struct {
	ring int32
	msg  string
}

func (e *ringError) Error() string { return e.msg }

// named prefixes a ring problem with the polygon it is in.
func (v *Validator) named(err error, multi bool) error {
	re, ok := err.(*ringError)
	if !ok || !multi {
		return err
	}
	return fmt.Errorf("polygon %d: %w", v.rings[re.ring].poly+1, err)
}

func (v *Validator) ringName(ri int32) string {
	if h := v.rings[ri].hole; h > 0 {
		return fmt.Sprintf("hole %d", h)
	}
	return "the exterior ring"
}

// otherRingName names ring b in a message about ring a, saying which
// polygon it is in when that is another one.
func (v *Validator) otherRingName(a, b int32) string {
	if v.rings[a].poly != v.rings[b].poly {
		return fmt.Sprintf("%s of polygon %d", v.ringName(b), v.rings[b].poly+1)
	}
	return v.ringName(b)
}

func fmtPoint(p orb.Point) string { return fmt.Sprintf("(%.7f %.7f)", p[0], p[1]) }

// segPair tests two segments whose boxes overlap.
func (v *Validator) segPair(i, j int) error {
	sa, sb := v.segs[i], v.segs[j]
	if sa.ring > sb.ring || (sa.ring == sb.ring && sa.i > sb.i) {
		sa, sb = sb, sa
	}
	ra, rb := v.rings[sa.ring].pts, v.rings[sb.ring].pts
	p1, p2, q1, q2 := ra[sa.i], ra[sa.i+1], rb[sb.i], rb[sb.i+1]
	if sa.ring == sb.ring {
		if n := int32(len(ra) - 1); sb.i == sa.i+1 || (sa.i == 0 && sb.i == n-1) {
			// Neighbours share a vertex; they may only fold back on
			// each other, which makes a spike of no width.
			if k, at := intersect(p1, p2, q1, q2); k == overlap {
				return &ringError{sa.ring, fmt.Sprintf("self-intersection at %s: %s folds back on itself (a spike)", fmtPoint(at), v.ringName(sa.ring))}
			}
			return nil
		}
		switch k, at := intersect(p1, p2, q1, q2); k {
		case cross:
			return &ringError{sa.ring, fmt.Sprintf("self-intersection at %s: %s crosses itself", fmtPoint(at), v.ringName(sa.ring))}
		case touch:
			return &ringError{sa.ring, fmt.Sprintf("self-intersection at %s: %s touches itself", fmtPoint(at), v.ringName(sa.ring))}
		case overlap:
			return &ringError{sa.ring, fmt.Sprintf("self-intersection at %s: %s runs over itself", fmtPoint(at), v.ringName(sa.ring))}
		}
		return nil
	}
	switch k, at := intersect(p1, p2, q1, q2); k {
	case cross:
		return &ringError{sa.ring, fmt.Sprintf("self-intersection at %s: %s crosses %s", fmtPoint(at), v.ringName(sa.ring), v.otherRingName(sa.ring, sb.ring))}
	case overlap:
		return &ringError{sa.ring, fmt.Sprintf("self-intersection at %s: %s shares an edge with %s", fmtPoint(at), v.ringName(sa.ring), v.otherRingName(sa.ring, sb.ring))}
	case touch:
		v.contacts = append(v.contacts, contact{a: sa.ring, b: sb.ring, sa: sa.i, sb: sb.i, at: at})
	}
	return nil
}

// checkContacts looks at the points where rings touch: there they must
// not cross, and within a polygon the rings and the points they touch at
// must not form a loop, which would cut the interior in two.
func (v *Validator) checkContacts() error {
	slices.SortFunc(v.contacts, func(x, y contact) int {
		return cmp.Or(cmp.Compare(x.a, y.a), cmp.Compare(x.b, y.b), cmp.Compare(x.at[0], y.at[0]), cmp.Compare(x.at[1], y.at[1]))
	})
	v.contacts = slices.CompactFunc(v.contacts, func(x, y contact) bool { return x.a == y.a && x.b == y.b && x.at == y.at })
	for _, c := range v.contacts {
		ua, wa := around(v.rings[c.a].pts, c.sa, c.at)
		ub, wb := around(v.rings[c.b].pts, c.sb, c.at)
		if inside(c.at, ub, wb, ua) != inside(c.at, ub, wb, wa) {
			return &ringError{c.a, fmt.Sprintf("self-intersection at %s: %s crosses %s", fmtPoint(c.at), v.ringName(c.a), v.otherRingName(c.a, c.b))}
		}
	}
	// Union-find over rings and touching points, one polygon at a time
	// (rings of different polygons never share a polygon's interior).
	parent := make([]int32, len(v.rings), len(v.rings)+len(v.contacts))
	for i := range parent {
		parent[i] = int32(i)
	}
	find := func(x int32) int32 {
		for parent[x] != x {
			parent[x] = parent[parent[x]]
			x = parent[x]
		}
		return x
	}
	points := map[[3]float64]int32{} // (polygon, point) -> node
	linked := map[[2]int32]bool{}    // (ring, point node)
	for _, c := range v.contacts {
		poly := v.rings[c.a].poly
		if v.rings[c.b].poly != poly {
			continue
		}
		key := [3]float64{float64(poly), c.at[0], c.at[1]}
		node, ok := points[key]
		if !ok {
			node = int32(len(parent))
			parent = append(parent, node)
			points[key] = node
		}
		for _, ring := range [2]int32{c.a, c.b} {
			if linked[[2]int32{ring, node}] {
				continue
			}
			linked[[2]int32{ring, node}] = true
			x, y := find(ring), find(node)
			if x == y {
				return &ringError{c.a, fmt.Sprintf("interior is disconnected: the rings touching at %s cut the polygon in two", fmtPoint(c.at))}
			}
			parent[x] = y
		}
	}
	return nil
}

// around returns the points before and after at on ring r, where at is
// on segment s: its neighbours if it is a vertex, else the segment's ends.
func around(r orb.Ring, s int32, at orb.Point) (orb.Point, orb.Point) {
	n := int32(len(r) - 1)
	switch at {
	case r[s]:
		return r[(s-1+n)%n], r[s+1]
	case r[s+1]:
		return r[s], r[(s+2)%n]
	}
	return r[s], r[s+1]
}

// inside reports whether the direction from p to d lies strictly within
// the counter-clockwise turn from direction p→u to direction p→w.
func inside(p, u, w, d orb.Point) bool {
	du, dw := orient(p, u, d), orient(p, w, d)
	if orient(p, u, w) >= 0 {
		return du > 0 && dw < 0
	}
	return du > 0 || dw < 0
}

// checkHoles checks that each hole of p is inside its exterior ring and
// outside every other hole. The rings do not cross by now, so one point
// of a hole off the other ring tells where the whole hole is.
func (v *Validator) checkHoles(p orb.Polygon) error {
	if len(p) < 2 {
		return nil
	}
	for i, h := range p[1:] {
		if where(p[0], h) < 0 {
			return fmt.Errorf("hole %d lies outside the exterior ring", i+1)
		}
	}
	holes := v.boxes[:0]
	for _, h := range p[1:] {
		holes = append(holes, h.Bound())
	}
	return v.pairs(holes, func(i, j int) error {
		for _, k := range [2][2]int{{i, j}, {j, i}} {
			a, b := k[0], k[1]
			if within(holes[a], holes[b]) && where(p[b+1], p[a+1]) > 0 {
				return fmt.Errorf("hole %d lies inside hole %d", a+1, b+1)
			}
		}
		return nil
	})
}

// checkNesting refuses a polygon inside another one (not in a hole of it).
func (v *Validator) checkNesting(mp orb.MultiPolygon) error {
	shells := v.boxes[:0]
	for _, p := range mp {
		shells = append(shells, p[0].Bound())
	}
	return v.pairs(shells, func(i, j int) error {
		for _, k := range [2][2]int{{i, j}, {j, i}} {
			a, b := k[0], k[1]
			if !within(shells[a], shells[b]) || where(mp[b][0], mp[a][0]) <= 0 {
				continue
			}
			inHole := false
			for _, h := range mp[b][1:] {
				if where(h, mp[a][0]) > 0 {
					inHole = true
					break
				}
			}
			if !inHole {
				return fmt.Errorf("polygon %d lies inside polygon %d (nested shells)", a+1, b+1)
			}
		}
		return nil
	})
}

func within(a, b orb.Bound) bool {
	return a.Min[0] >= b.Min[0] && a.Min[1] >= b.Min[1] && a.Max[0] <= b.Max[0] && a.Max[1] <= b.Max[1]
}

// where tells whether ring s, which does not cross ring r, lies inside r
// (1) or outside it (-1), from the first of its vertices, then of its
// segments' midpoints, that is not on r; 0 if every one is on r.
func where(r, s orb.Ring) int {
	for _, p := range s[:len(s)-1] {
		if l := locate(r, p); l != 0 {
			return l
		}
	}
	for i := 0; i < len(s)-1; i++ {
		m := orb.Point{(s[i][0] + s[i+1][0]) / 2, (s[i][1] + s[i+1][1]) / 2}
		if l := locate(r, m); l != 0 {
			return l
		}
	}
	return 0
}

// locate tells whether p is inside ring r (1), outside (-1) or on it (0),
// by counting the edges a ray from p to the east crosses.
func locate(r orb.Ring, p orb.Point) int {
	in := false
	for i := 0; i < len(r)-1; i++ {
		a, b := r[i], r[i+1]
		if (a[1] > p[1]) != (b[1] > p[1]) {
			o := orient(a, b, p)
			if o == 0 {
				return 0
			}
			if (b[1] > a[1]) == (o > 0) {
				in = !in
			}
		} else if a[1] == p[1] && b[1] == p[1] && p[0] >= min(a[0], b[0]) && p[0] <= max(a[0], b[0]) {
			return 0 // on a horizontal edge
		} else if p == a || p == b {
			return 0
		}
	}
	if in {
		return 1
	}
	return -1
}

// pairs calls fn for every pair of boxes that overlap (touching counts).
// Above bruteForce boxes it sorts them along the axis in which they are
// shorter against the whole extent, and sweeps.
func (v *Validator) pairs(boxes []orb.Bound, fn func(i, j int) error) error {
	n := len(boxes)
	if n <= bruteForce {
		for i := range n {
			for j := i + 1; j < n; j++ {
				if overlaps(boxes[i], boxes[j]) {
					if err := fn(i, j); err != nil {
						return err
					}
				}
			}
		}
		return nil
	}
	all := boxes[0]
	var sum [2]float64
	for _, b := range boxes {
		all = all.Union(b)
		sum[0] += b.Max[0] - b.Min[0]
		sum[1] += b.Max[1] - b.Min[1]
	}
	axis := 0
	if sum[1]*(all.Max[0]-all.Min[0]) < sum[0]*(all.Max[1]-all.Min[1]) {
		axis = 1
	}
	other := 1 - axis
	order := v.order[:0]
	for i := range n {
		order = append(order, int32(i))
	}
	slices.SortFunc(order, func(a, b int32) int { return cmp.Compare(boxes[a].Min[axis], boxes[b].Min[axis]) })
	v.order = order
	active := v.active[:0]
	defer func() { v.active = active[:0] }()
	for _, i := range order {
		b := boxes[i]
		k := 0
		for _, j := range active {
			bj := boxes[j]
			if bj.Max[axis] < b.Min[axis] {
				continue // behind the sweep for good
			}
			active[k] = j
			k++
			if bj.Min[other] <= b.Max[other] && b.Min[other] <= bj.Max[other] {
				if err := fn(int(j), int(i)); err != nil {
					return err
				}
			}
		}
		active = append(active[:k], i)
	}
	return nil
}

func overlaps(a, b orb.Bound) bool {
	return a.Min[0] <= b.Max[0] && b.Min[0] <= a.Max[0] && a.Min[1] <= b.Max[1] && b.Min[1] <= a.Max[1]
}

// How two segments meet.
type meeting int

const (
	apart   meeting = iota
	touch           // at one point that is an end of one of them
	cross           // at one point inside both
	overlap         // along a stretch: they are collinear
)

// intersect tells how segments p1p2 and q1q2 (each of non-zero length)
// meet, and where: the meeting point for touch, the first point of the
// shared stretch for overlap, an approximation for cross.
func intersect(p1, p2, q1, q2 orb.Point) (meeting, orb.Point) {
	o1, o2 := orient(p1, p2, q1), orient(p1, p2, q2)
	if o1 == o2 && o1 != 0 {
		return apart, orb.Point{}
	}
	o3, o4 := orient(q1, q2, p1), orient(q1, q2, p2)
	if o3 == o4 && o3 != 0 {
		return apart, orb.Point{}
	}
	switch {
	case o1 == 0 && o2 == 0:
		return collinear(p1, p2, q1, q2)
	case o1 != 0 && o2 != 0 && o3 != 0 && o4 != 0:
		return cross, crossing(p1, p2, q1, q2)
	case o1 == 0:
		return touch, q1
	case o2 == 0:
		return touch, q2
	case o3 == 0:
		return touch, p1
	}
	return touch, p2
}

// collinear compares segments on one line along the axis p1p2 is longer in.
func collinear(p1, p2, q1, q2 orb.Point) (meeting, orb.Point) {
	k := 0
	if math.Abs(p2[1]-p1[1]) > math.Abs(p2[0]-p1[0]) {
		k = 1
	}
	lo := max(min(p1[k], p2[k]), min(q1[k], q2[k]))
	hi := min(max(p1[k], p2[k]), max(q1[k], q2[k]))
	if lo > hi {
		return apart, orb.Point{}
	}
	var at orb.Point
	for _, p := range [...]orb.Point{p1, p2, q1, q2} {
		if p[k] == lo {
			at = p
			break
		}
	}
	if lo == hi {
		return touch, at
	}
	return overlap, at
}

// crossing approximates where two segments that cross do so.
func crossing(p1, p2, q1, q2 orb.Point) orb.Point {
	d := (p2[0]-p1[0])*(q2[1]-q1[1]) - (p2[1]-p1[1])*(q2[0]-q1[0])
	t := ((q1[0]-p1[0])*(q2[1]-q1[1]) - (q1[1]-p1[1])*(q2[0]-q1[0])) / d
	return orb.Point{p1[0] + t*(p2[0]-p1[0]), p1[1] + t*(p2[1]-p1[1])}
}

// ccwErrBound bounds the rounding error of orient's floating-point
// determinant relative to the sum of its terms (Shewchuk, "Adaptive
// Precision Floating-Point Arithmetic and Fast Robust Geometric
// Predicates", 1997).
const ccwErrBound = (3 + 16*0x1p-53) * 0x1p-53

// orient is the sign of the turn a→b→c: 1 counter-clockwise, -1
// clockwise, 0 collinear. It is exact: when the floating-point
// determinant is too close to zero to trust, it is redone in rationals.
func orient(a, b, c orb.Point) int {
	l := (a[0] - c[0]) * (b[1] - c[1])
	r := (a[1] - c[1]) * (b[0] - c[0])
	det := l - r
	bound := ccwErrBound * (math.Abs(l) + math.Abs(r))
	switch {
	case det > bound:
		return 1
	case -det > bound:
		return -1
	}
	return orientExact(a, b, c)
}

// orientExact computes the determinant without rounding: each
// difference and product is split into a rounded value and its exact
// error (Knuth's TwoSum, and a fused multiply-add), and the sixteen parts
// are summed into a non-overlapping expansion whose largest part has the
// sign of the whole (Shewchuk's Grow-Expansion). Numbers so small that
// the error terms would underflow go through big.Rat instead.
func orientExact(a, b, c orb.Point) int {
	acx, acxt := twoSum(a[0], -c[0])
	bcy, bcyt := twoSum(b[1], -c[1])
	acy, acyt := twoSum(a[1], -c[1])
	bcx, bcxt := twoSum(b[0], -c[0])
	for _, f := range [...]float64{acx, acxt, bcy, bcyt, acy, acyt, bcx, bcxt} {
		if f != 0 && math.Abs(f) < 0x1p-450 {
			return orientRat(a, b, c)
		}
	}
	var e [18]float64
	n := 0
	add := func(x, y float64) {
		if x == 0 || y == 0 {
			return
		}
		p := x * y
		for _, q := range [2]float64{p, math.FMA(x, y, -p)} {
			// Grow the expansion by q, dropping zero parts.
			k := 0
			for _, ei := range e[:n] {
				var h float64
				q, h = twoSum(q, ei)
				if h != 0 {
					e[k] = h
					k++
				}
			}
			if q != 0 {
				e[k] = q
				k++
			}
			n = k
		}
	}
	add(acx, bcy)
	add(acx, bcyt)
	add(acxt, bcy)
	add(acxt, bcyt)
	add(-acy, bcx)
	add(-acy, bcxt)
	add(-acyt, bcx)
	add(-acyt, bcxt)
	switch {
	case n == 0:
		return 0
	case e[n-1] > 0:
		return 1
	}
	return -1
}

// twoSum returns a+b rounded and the exact error of that rounding.
func twoSum(a, b float64) (float64, float64) {
	x := a + b
	bv := x - a
	av := x - bv
	return x, (a - av) + (b - bv)
}

func orientRat(a, b, c orb.Point) int {
	var x [6]big.Rat
	for i, f := range [6]float64{a[0], a[1], b[0], b[1], c[0], c[1]} {
		x[i].SetFloat64(f)
	}
	ax, ay, bx, by, cx, cy := &x[0], &x[1], &x[2], &x[3], &x[4], &x[5]
	var l, r, t big.Rat
	l.Mul(t.Sub(ax, cx), new(big.Rat).Sub(by, cy))
	r.Mul(t.Sub(ay, cy), new(big.Rat).Sub(bx, cx))
	return l.Cmp(&r)
}
