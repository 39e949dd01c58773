package tiles

import (
	"cmp"
	"math"
	"slices"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/planar"
)

// clipPolygon returns the part of p inside box. The rings of p must be
// closed, the exterior with positive signed area (see signedArea) and the
// holes negative.
//
// It is Weiler-Atherton specialised to a rectangle, so that a concave polygon
// that leaves and re-enters the box becomes separate polygons instead of one
// ring with zero-width slivers along the border (what Sutherland-Hodgman, and
// so orb/clip, produce). Each ring is cut into chains, the runs of it inside
// the box; a chain that leaves the box is continued along the border, in the
// box's own winding, to the next place where a chain enters. With both
// windings the same, the polygon's interior stays on the same side throughout.
func clipPolygon(box orb.Bound, p orb.Polygon) orb.MultiPolygon {
	return new(clipScratch).polygon(box, p)
}

// clipScratch is clipPolygon's working space and output, kept by a tile
// builder from polygon to polygon: allocating the chains, their points, the
// rings and the polygons anew for every polygon that crossed the border was
// about 60% of the allocations of a dense z16 tile.
type clipScratch struct {
	chains []chain
	pts    []orb.Point // the chains' points
	byIn   []int
	used   []bool
	rings  []orb.Ring
	around []orb.Ring // rings that never enter the box; they may enclose it
	// What polygon returns: its rings' points, its polygons' rings and the
	// polygons. They stay valid until reset, so that a tile builder can
	// clip every part of a feature before encoding it.
	outPts   []orb.Point
	outRings []orb.Ring
	outPolys orb.MultiPolygon
	// assemble's working space.
	areas []float64
	owner []int
}

// reset lets s reuse the space of what polygon returned before.
func (s *clipScratch) reset() {
	s.outPts, s.outRings = s.outPts[:0], s.outRings[:0]
}

// polygon is clipPolygon with s's space; what it returns is valid until
// s.reset.
func (s *clipScratch) polygon(box orb.Bound, p orb.Polygon) orb.MultiPolygon {
	box = avoidVertices(box, p)
	s.chains, s.pts, s.rings, s.around = s.chains[:0], s.pts[:0], s.rings[:0], s.around[:0]
	for _, r := range p {
		n := len(s.chains)
		whole := s.ringChains(box, r)
		switch {
		case whole:
			s.rings = append(s.rings, r)
		case len(s.chains) == n:
			s.around = append(s.around, r)
		}
	}
	if len(s.chains) > 0 {
		s.linkChains(box)
	} else if evenOdd(s.around, box.Center()) {
		// No ring crosses the border, so the whole border is inside the
		// polygon or outside it.
		s.rings = append(s.rings, boxRing(box))
	}
	return s.assemble()
}

// chain is a run of a ring inside the box, s.pts[from:to], from where it
// enters (in) to where it leaves (out), both given as positions along the
// border.
type chain struct {
	from, to int
	in, out  float64
}

// avoidVertices moves the edges of box outward, by far less than the rounding
// to the tile grid, until no vertex of p lies on them. Then no vertex or edge
// of p runs along the border, and the chains never touch it but where they
// cross it: the degenerate cases of Weiler-Atherton cannot arise.
func avoidVertices(box orb.Bound, p orb.Polygon) orb.Bound {
	const nudge = 1.0 / (1 << 20)
	for moved := true; moved; {
		moved = false
		for _, r := range p {
			for _, v := range r {
				// Nextafter keeps the move going where nudge is below the
				// precision of huge coordinates.
				switch down, up := math.Inf(-1), math.Inf(1); {
				case v[0] == box.Min[0]:
					box.Min[0] = math.Nextafter(box.Min[0]-nudge, down)
				case v[0] == box.Max[0]:
					box.Max[0] = math.Nextafter(box.Max[0]+nudge, up)
				case v[1] == box.Min[1]:
					box.Min[1] = math.Nextafter(box.Min[1]-nudge, down)
				case v[1] == box.Max[1]:
					box.Max[1] = math.Nextafter(box.Max[1]+nudge, up)
				default:
					continue
				}
				moved = true
			}
		}
	}
	return box
}

// ringChains cuts a closed ring into its chains inside box, appended to
// s.chains; whole reports a ring entirely inside.
func (s *clipScratch) ringChains(box orb.Bound, r orb.Ring) (whole bool) {
	n := len(r) - 1 // the closing point repeats the first
	start := -1
	for i := range n {
		if !inside(box, r[i]) {
			start = i
			break
		}
	}
	if start < 0 {
		return n >= 3
	}
	// Starting outside, every chain that begins in the loop ends in it.
	from := -1 // where the open chain starts in s.pts
	ain := false
	for k := range n {
		a, b := r[(start+k)%n], r[(start+k+1)%n]
		bin := inside(box, b)
		switch {
		case ain && bin:
			s.pts = append(s.pts, b)
		case ain:
			_, t1, _, s1, _ := clipSegment(box, a, b)
			s.pts = append(s.pts, onSide(box, a, b, t1, s1))
			s.addChain(box, from)
		case bin:
			t0, _, s0, _, _ := clipSegment(box, a, b)
			from = len(s.pts)
			s.pts = append(s.pts, onSide(box, a, b, t0, s0), b)
		default:
			// Both ends outside: the segment may still cut a corner.
			if t0, t1, s0, s1, ok := clipSegment(box, a, b); ok && t0 < t1 {
				from = len(s.pts)
				s.pts = append(s.pts, onSide(box, a, b, t0, s0), onSide(box, a, b, t1, s1))
				s.addChain(box, from)
			}
		}
		ain = bin
	}
	return false
}

// addChain ends the chain s.pts[from:].
func (s *clipScratch) addChain(box orb.Bound, from int) {
	to := len(s.pts)
	s.chains = append(s.chains, chain{from: from, to: to, in: position(box, s.pts[from]), out: position(box, s.pts[to-1])})
}

// linkChains joins the chains into closed rings along the border, appended
// to s.rings.
func (s *clipScratch) linkChains(box orb.Bound) {
	chains := s.chains
	byIn := s.byIn[:0]
	used := s.used[:0]
	for i := range chains {
		byIn = append(byIn, i)
		used = append(used, false)
	}
	s.byIn, s.used = byIn, used
	slices.SortFunc(byIn, func(i, j int) int { return cmp.Compare(chains[i].in, chains[j].in) })
	// next is the chain entering first after position at, going round the border.
	next := func(at float64) int {
		i, _ := slices.BinarySearchFunc(byIn, at, func(c int, at float64) int {
			if chains[c].in >= at {
				return 1
			}
			return -1
		})
		return byIn[i%len(byIn)]
	}
	for first := range chains {
		if used[first] {
			continue
		}
		start := len(s.outPts)
		for c := first; ; {
			used[c] = true
			s.outPts = append(s.outPts, s.pts[chains[c].from:chains[c].to]...)
			n := next(chains[c].out)
			s.outPts = appendCorners(box, s.outPts, chains[c].out, chains[n].in)
			// A used chain other than the first means invalid input (rings
			// that cross); closing here still terminates with some output.
			if used[n] {
				break
			}
			c = n
		}
		s.outPts = append(s.outPts, s.outPts[start])
		end := len(s.outPts)
		s.rings = append(s.rings, orb.Ring(s.outPts[start:end:end]))
	}
}

// appendCorners appends the corners of box met going round the border from
// position from to position to.
func appendCorners(box orb.Bound, r []orb.Point, from, to float64) []orb.Point {
	w, h := box.Max[0]-box.Min[0], box.Max[1]-box.Min[1]
	perimeter := 2 * (w + h)
	dist := to - from
	if dist < 0 {
		dist += perimeter
	}
	corners := boxRing(box)[:4]
	at := [4]float64{0, w, w + h, 2*w + h}
	// Start from the first corner after from, then go round.
	k := 0
	for k < 4 && at[k] <= from {
		k++
	}
	for range 4 {
		d := at[k%4] - from
		if d <= 0 {
			d += perimeter
		}
		if d >= dist {
			break
		}
		r = append(r, corners[k%4])
		k++
	}
	return r
}

// boxRing is box as a closed ring wound like an exterior ring. Its corners
// are the positions 0, w, w+h and 2w+h along the border.
func boxRing(box orb.Bound) orb.Ring {
	return orb.Ring{
		box.Min,
		{box.Max[0], box.Min[1]},
		box.Max,
		{box.Min[0], box.Max[1]},
		box.Min,
	}
}

// position is the distance along the border of box to p, going round from
// the corner Min in the winding of an exterior ring (along y = Min[1] first).
// p must be on the border.
func position(box orb.Bound, p orb.Point) float64 {
	w, h := box.Max[0]-box.Min[0], box.Max[1]-box.Min[1]
	switch {
	case p[1] == box.Min[1] && p[0] < box.Max[0]:
		return p[0] - box.Min[0]
	case p[0] == box.Max[0] && p[1] < box.Max[1]:
		return w + p[1] - box.Min[1]
	case p[1] == box.Max[1] && p[0] > box.Min[0]:
		return w + h + box.Max[0] - p[0]
	}
	return 2*w + h + box.Max[1] - p[1]
}

func inside(box orb.Bound, p orb.Point) bool {
	return p[0] > box.Min[0] && p[0] < box.Max[0] && p[1] > box.Min[1] && p[1] < box.Max[1]
}

// clipSegment is Liang-Barsky: the part of a->b inside box runs from t0 to
// t1, where it crosses sides s0 and s1 (0 x=Min, 1 x=Max, 2 y=Min, 3 y=Max;
// -1 when the end is inside).
func clipSegment(box orb.Bound, a, b orb.Point) (t0, t1 float64, s0, s1 int, ok bool) {
	t0, t1, s0, s1 = 0, 1, -1, -1
	dx, dy := b[0]-a[0], b[1]-a[1]
	pq := [4][2]float64{
		{-dx, a[0] - box.Min[0]},
		{dx, box.Max[0] - a[0]},
		{-dy, a[1] - box.Min[1]},
		{dy, box.Max[1] - a[1]},
	}
	for side, v := range pq {
		p, q := v[0], v[1]
		if p == 0 {
			if q < 0 {
				return 0, 0, -1, -1, false
			}
			continue
		}
		t := q / p
		if p < 0 {
			if t > t1 {
				return 0, 0, -1, -1, false
			}
			if t > t0 {
				t0, s0 = t, side
			}
		} else {
			if t < t0 {
				return 0, 0, -1, -1, false
			}
			if t < t1 {
				t1, s1 = t, side
			}
		}
	}
	return t0, t1, s0, s1, true
}

// onSide is the point at t on a->b, put exactly on the side it crosses so
// that position sees it on the border.
func onSide(box orb.Bound, a, b orb.Point, t float64, side int) orb.Point {
	p := orb.Point{a[0] + t*(b[0]-a[0]), a[1] + t*(b[1]-a[1])}
	switch side {
	case 0:
		p[0] = box.Min[0]
	case 1:
		p[0] = box.Max[0]
	case 2:
		p[1] = box.Min[1]
	case 3:
		p[1] = box.Max[1]
	}
	p[0] = math.Min(math.Max(p[0], box.Min[0]), box.Max[0])
	p[1] = math.Min(math.Max(p[1], box.Min[1]), box.Max[1])
	return p
}

// evenOdd reports whether p is inside an odd number of rings.
func evenOdd(rings []orb.Ring, p orb.Point) bool {
	in := false
	for _, r := range rings {
		if planar.RingContains(r, p) {
			in = !in
		}
	}
	return in
}

// assemble groups s.rings into polygons: each hole goes to the smallest
// exterior that contains it. A polygon's rings are laid out together in
// s.outRings, exterior first.
func (s *clipScratch) assemble() orb.MultiPolygon {
	rings, areas, owner := s.rings, s.areas[:0], s.owner[:0]
	// owner[i] is the exterior (an index into rings) that ring i belongs
	// to, itself for an exterior, -1 for a ring dropped.
	for _, r := range rings {
		a := signedArea(r)
		areas = append(areas, a)
		owner = append(owner, -1)
	}
	ext := 0
	last := -1
	for i := range rings {
		if areas[i] > 0 {
			owner[i] = i
			ext++
			last = i
		}
	}
	for i, r := range rings {
		if areas[i] >= 0 {
			continue
		}
		if ext == 1 {
			owner[i] = last
			continue
		}
		best := -1
		for e := range rings {
			if owner[e] == e && (best < 0 || areas[e] < areas[best]) && boundOf(rings[e]).Contains(r[0]) && planar.RingContains(rings[e], r[0]) {
				best = e
			}
		}
		owner[i] = best
	}
	s.areas, s.owner = areas, owner
	mp := s.outPolys[:0]
	for e := range rings {
		if owner[e] != e {
			continue
		}
		start := len(s.outRings)
		s.outRings = append(s.outRings, rings[e])
		for i := range rings {
			if i != e && owner[i] == e {
				s.outRings = append(s.outRings, rings[i])
			}
		}
		end := len(s.outRings)
		mp = append(mp, orb.Polygon(s.outRings[start:end:end]))
	}
	s.outPolys = mp
	return mp
}

// signedArea is the area by the surveyor's formula as the MVT specification
// applies it: positive for an exterior ring, which is clockwise on screen in
// tile coordinates (y down).
func signedArea(r orb.Ring) float64 {
	var a float64
	for i := 0; i+1 < len(r); i++ {
		a += r[i][0]*r[i+1][1] - r[i+1][0]*r[i][1]
	}
	return a / 2
}

// orient makes a polygon's rings closed and wound as clipPolygon expects; it
// owns p.
func orient(p orb.Polygon) orb.Polygon {
	out := p[:0]
	for i, r := range p {
		if len(r) > 0 && r[0] != r[len(r)-1] {
			r = append(r, r[0])
		}
		if len(r) < 4 {
			if i == 0 {
				return nil
			}
			continue
		}
		if a := signedArea(r); (i == 0) != (a > 0) {
			slices.Reverse(r)
		}
		out = append(out, r)
	}
	return out
}

// appendClipLine appends to dst the parts of line in inside box, one after
// another, and to ends where each part ends in dst. It is orb/clip's
// LineString (mapbox/lineclip: the same points, the same parts), but its
// parts share the builder's point arena: orb allocates every part and grows
// it point by point, which was a third of the allocations of a dense z16
// tile.
func appendClipLine(box orb.Bound, dst, in []orb.Point, ends []int) ([]orb.Point, []int) {
	if len(in) == 0 {
		return dst, ends
	}
	open := false // a part has been started and not yet ended
	push := func(p orb.Point) {
		dst = append(dst, p)
		open = true
	}
	end := func() {
		if open {
			ends = append(ends, len(dst))
			open = false
		}
	}
	codeA := bitCode(box, in[0])
	last := len(in) - 1
	for i := 1; i <= last; i++ {
		a, b := in[i-1], in[i]
		codeB := bitCode(box, b)
		endCode := codeB
		// A segment crossing a corner can need two cuts.
		for {
			if codeA|codeB == 0 {
				push(a)
				if codeB != endCode { // the segment leaves the box
					push(b)
					if i < last {
						end()
					}
				} else if i == last {
					push(b)
				}
				break
			} else if codeA&codeB != 0 {
				break // both beyond the same side
			} else if codeA != 0 {
				a = intersectEdge(box, codeA, a, b)
				codeA = bitCode(box, a)
			} else {
				b = intersectEdge(box, codeB, a, b)
				codeB = bitCode(box, b)
			}
		}
		codeA = endCode
	}
	end()
	return dst, ends
}

// bitCode is where p lies against box, as orb/clip codes it: 1 left, 2
// right, 4 below, 8 above, 0 inside or on the border.
func bitCode(b orb.Bound, p orb.Point) int {
	code := 0
	if p[0] < b.Min[0] {
		code |= 1
	} else if p[0] > b.Max[0] {
		code |= 2
	}
	if p[1] < b.Min[1] {
		code |= 4
	} else if p[1] > b.Max[1] {
		code |= 8
	}
	return code
}

// intersectEdge is where a->b crosses the side of box that edge names
// (bitCode's bits, tested in orb/clip's order).
func intersectEdge(box orb.Bound, edge int, a, b orb.Point) orb.Point {
	switch {
	case edge&8 != 0:
		return orb.Point{a[0] + (b[0]-a[0])*(box.Max[1]-a[1])/(b[1]-a[1]), box.Max[1]}
	case edge&4 != 0:
		return orb.Point{a[0] + (b[0]-a[0])*(box.Min[1]-a[1])/(b[1]-a[1]), box.Min[1]}
	case edge&2 != 0:
		return orb.Point{box.Max[0], a[1] + (b[1]-a[1])*(box.Max[0]-a[0])/(b[0]-a[0])}
	default:
		return orb.Point{box.Min[0], a[1] + (b[1]-a[1])*(box.Min[0]-a[0])/(b[0]-a[0])}
	}
}
