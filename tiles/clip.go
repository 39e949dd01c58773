package tiles

import (
	"math"
	"slices"
	"sort"

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
	box = avoidVertices(box, p)
	var (
		rings  []orb.Ring
		chains []chain
		around []orb.Ring // rings that never enter the box; they may enclose it
	)
	for _, r := range p {
		cs, whole := ringChains(box, r)
		switch {
		case whole:
			rings = append(rings, r)
		case len(cs) == 0:
			around = append(around, r)
		default:
			chains = append(chains, cs...)
		}
	}
	if len(chains) > 0 {
		rings = append(rings, linkChains(box, chains)...)
	} else if evenOdd(around, box.Center()) {
		// No ring crosses the border, so the whole border is inside the
		// polygon or outside it.
		rings = append(rings, boxRing(box))
	}
	return assemble(rings)
}

// chain is a run of a ring inside the box, from where it enters (in) to where
// it leaves (out), both given as positions along the border.
type chain struct {
	pts     []orb.Point
	in, out float64
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

// ringChains cuts a closed ring into its chains inside box; whole reports a
// ring entirely inside.
func ringChains(box orb.Bound, r orb.Ring) (chains []chain, whole bool) {
	n := len(r) - 1 // the closing point repeats the first
	start := -1
	for i := range n {
		if !inside(box, r[i]) {
			start = i
			break
		}
	}
	if start < 0 {
		return nil, n >= 3
	}
	// Starting outside, every chain that begins in the loop ends in it.
	var cur []orb.Point
	ain := false
	for k := range n {
		a, b := r[(start+k)%n], r[(start+k+1)%n]
		bin := inside(box, b)
		switch {
		case ain && bin:
			cur = append(cur, b)
		case ain:
			_, t1, _, s1, _ := clipSegment(box, a, b)
			cur = append(cur, onSide(box, a, b, t1, s1))
			chains = append(chains, newChain(box, cur))
			cur = nil
		case bin:
			t0, _, s0, _, _ := clipSegment(box, a, b)
			cur = []orb.Point{onSide(box, a, b, t0, s0), b}
		default:
			// Both ends outside: the segment may still cut a corner.
			if t0, t1, s0, s1, ok := clipSegment(box, a, b); ok && t0 < t1 {
				chains = append(chains, newChain(box, []orb.Point{onSide(box, a, b, t0, s0), onSide(box, a, b, t1, s1)}))
			}
		}
		ain = bin
	}
	return chains, false
}

func newChain(box orb.Bound, pts []orb.Point) chain {
	return chain{pts: pts, in: position(box, pts[0]), out: position(box, pts[len(pts)-1])}
}

// linkChains joins the chains into closed rings along the border.
func linkChains(box orb.Bound, chains []chain) []orb.Ring {
	byIn := make([]int, len(chains))
	for i := range byIn {
		byIn[i] = i
	}
	sort.Slice(byIn, func(i, j int) bool { return chains[byIn[i]].in < chains[byIn[j]].in })
	// next is the chain entering first after position s, going round the border.
	next := func(s float64) int {
		i := sort.Search(len(byIn), func(i int) bool { return chains[byIn[i]].in >= s })
		return byIn[i%len(byIn)]
	}
	used := make([]bool, len(chains))
	var rings []orb.Ring
	for first := range chains {
		if used[first] {
			continue
		}
		var r orb.Ring
		for c := first; ; {
			used[c] = true
			r = append(r, chains[c].pts...)
			n := next(chains[c].out)
			r = appendCorners(box, r, chains[c].out, chains[n].in)
			// A used chain other than the first means invalid input (rings
			// that cross); closing here still terminates with some output.
			if used[n] {
				break
			}
			c = n
		}
		rings = append(rings, append(r, r[0]))
	}
	return rings
}

// appendCorners appends the corners of box met going round the border from
// position from to position to.
func appendCorners(box orb.Bound, r orb.Ring, from, to float64) orb.Ring {
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

// assemble groups clipped rings into polygons: each hole goes to the
// smallest exterior that contains it.
func assemble(rings []orb.Ring) orb.MultiPolygon {
	var mp orb.MultiPolygon
	var areas []float64
	var holes []orb.Ring
	for _, r := range rings {
		switch a := signedArea(r); {
		case a > 0:
			mp = append(mp, orb.Polygon{r})
			areas = append(areas, a)
		case a < 0:
			holes = append(holes, r)
		}
	}
	if len(mp) == 1 {
		mp[0] = append(mp[0], holes...)
		return mp
	}
	for _, h := range holes {
		best := -1
		for i, p := range mp {
			if (best < 0 || areas[i] < areas[best]) && p.Bound().Contains(h[0]) && planar.RingContains(p[0], h[0]) {
				best = i
			}
		}
		if best >= 0 {
			mp[best] = append(mp[best], h)
		}
	}
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
