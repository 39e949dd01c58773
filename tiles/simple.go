package tiles

import (
	"cmp"
	"slices"

	"github.com/paulmach/orb"
)

// MVT 2.1 (4.3.4.4) wants every polygon ring simple: no point where it meets
// itself but its neighbouring edges' shared vertex. The engine clips exactly
// and then rounds to the tile grid, and rounding can break that in two ways
// seen in the dense core's tiles (TestTilePolygonsSimple, from
// TestCompareWithPostGIS's census): a sliver narrower than a unit collapses
// into a spike, the ring running out along a line and straight back; or a
// vertex lands on an edge of the same ring (a notch's corner rounded onto
// the buffer's border, which the ring also runs along). PostGIS avoids both
// by snapping first and having wagyu rebuild the rings; here the ring is
// repaired after rounding: spikes are cut off, and a ring that touches
// itself is cut into loops at the touching vertex, each loop a ring of its
// own. A ring under a pixel thick that still crosses itself (the prongs of a
// small U crossing at z10) is drawn as its convex hull: the same to the eye,
// and simple. Rings over a pixel both ways and off the clip border are not
// checked: rounding would need a part of them under a unit wide.

// foldsBack reports whether a ring going p, v, q turns back at v along the
// line it came: p, v and q on one line, p and q on the same side of v.
func foldsBack(p, v, q ipoint) bool {
	ax, ay := int64(p[0])-int64(v[0]), int64(p[1])-int64(v[1])
	bx, by := int64(q[0])-int64(v[0]), int64(q[1])-int64(v[1])
	return ax*by == ay*bx && ax*bx+ay*by > 0
}

// removeSpikes drops, in place, the vertices where the ring pts (without
// its closing point) folds back, and the repeats that leaves, and returns
// what is left.
func removeSpikes(pts []ipoint) []ipoint {
	out := pts[:0]
next:
	for _, q := range pts {
		for {
			n := len(out)
			if n > 0 && out[n-1] == q {
				continue next
			}
			if n < 2 || !foldsBack(out[n-2], out[n-1], q) {
				break
			}
			out = out[:n-1]
		}
		out = append(out, q)
	}
	// The same across the ring's start.
	for len(out) >= 3 {
		n := len(out)
		switch {
		case out[n-1] == out[0]:
			out = out[:n-1]
		case foldsBack(out[n-2], out[n-1], out[0]):
			out = out[:n-1]
		case foldsBack(out[n-1], out[0], out[1]):
			out = out[1:]
		default:
			return out
		}
	}
	return out
}

// onSegment reports whether v lies on segment ab, ends excluded.
func onSegment(a, b, v ipoint) bool {
	if v == a || v == b {
		return false
	}
	ax, ay := int64(b[0])-int64(a[0]), int64(b[1])-int64(a[1])
	vx, vy := int64(v[0])-int64(a[0]), int64(v[1])-int64(a[1])
	if ax*vy != ay*vx {
		return false
	}
	d := ax*vx + ay*vy
	return d > 0 && d < ax*ax+ay*ay
}

// ringShape tells whether ring pts could meet itself after rounding where a
// check is worth its cost: thin, under a pixel (16 units) one way or the
// other (at low zooms whole buildings are a few units, and a sliver under a
// unit wide is in a ring under a unit one way), or with vertices on the
// clip box's border, where clipping lays slivers along it. Rings of the
// tile's interior at high zoom are neither, and are most rings.
func (e *layerEncoder) ringShape(pts []ipoint) (thin, border bool) {
	x0, y0, x1, y1 := pts[0][0], pts[0][1], pts[0][0], pts[0][1]
	n := 0
	for _, p := range pts {
		x0, x1 = min(x0, p[0]), max(x1, p[0])
		y0, y1 = min(y0, p[1]), max(y1, p[1])
		if e.atBorder(p) {
			n++
		}
	}
	return x1-x0 < smallRing || y1-y0 < smallRing, n >= 2
}

// maxRepair is the most vertices a ring may have to be checked whole: the
// checks take time in the square of the vertices. In a longer ring (a
// coastline) only where it runs along the clip box's border is repaired.
const maxRepair = 64

// smallRing is a pixel of a 256-pixel tile, in units.
const smallRing = 16

// turn is the sign of the turn a, b, c: 1 left, -1 right, 0 straight on.
func turn(a, b, c ipoint) int {
	v := (int64(b[0])-int64(a[0]))*(int64(c[1])-int64(a[1])) - (int64(b[1])-int64(a[1]))*(int64(c[0])-int64(a[0]))
	switch {
	case v > 0:
		return 1
	case v < 0:
		return -1
	}
	return 0
}

// crossesItself reports whether two edges of ring pts (without its closing
// point) that are not neighbours share a point: a test in n², for small
// rings only.
func crossesItself(pts []ipoint) bool {
	n := len(pts)
	for i := range n {
		a, b := pts[i], pts[(i+1)%n]
		for j := i + 2; j < n; j++ {
			if i == 0 && j == n-1 {
				continue // neighbours across the start
			}
			c, d := pts[j], pts[(j+1)%n]
			if max(a[0], b[0]) < min(c[0], d[0]) || max(c[0], d[0]) < min(a[0], b[0]) ||
				max(a[1], b[1]) < min(c[1], d[1]) || max(c[1], d[1]) < min(a[1], b[1]) {
				continue // most pairs: their bounds are apart
			}
			if turn(a, b, c)*turn(a, b, d) < 0 && turn(c, d, a)*turn(c, d, b) < 0 ||
				c == a || c == b || d == a || d == b ||
				onSegment(a, b, c) || onSegment(a, b, d) || onSegment(c, d, a) || onSegment(c, d, b) {
				return true
			}
		}
	}
	return false
}

// appendHull appends the convex hull of pts, without collinear points or
// its closing point, to dst (Andrew's monotone chain).
func appendHull(dst, pts []ipoint) []ipoint {
	ps := slices.Clone(pts)
	slices.SortFunc(ps, func(p, q ipoint) int {
		if p[0] != q[0] {
			return int(p[0] - q[0])
		}
		return int(p[1] - q[1])
	})
	ps = slices.Compact(ps)
	if len(ps) < 3 {
		return dst
	}
	start := len(dst)
	for _, p := range ps { // lower hull
		for len(dst)-start >= 2 && turn(dst[len(dst)-2], dst[len(dst)-1], p) <= 0 {
			dst = dst[:len(dst)-1]
		}
		dst = append(dst, p)
	}
	lower := len(dst)
	for i := len(ps) - 2; i >= 0; i-- { // upper hull
		p := ps[i]
		for len(dst)-lower >= 1 && turn(dst[len(dst)-2], dst[len(dst)-1], p) <= 0 {
			dst = dst[:len(dst)-1]
		}
		dst = append(dst, p)
	}
	return dst[:len(dst)-1] // the last is the first again
}

// loops cuts ring pts (without its closing point, no spikes) at every
// vertex where it touches itself and appends the loops, each without its
// closing point, to e.loop, their ends to e.loopEnd.
func (e *layerEncoder) loops(pts []ipoint) {
	// First every vertex that lies on an edge becomes a vertex of it too.
	// In a long ring only the border is searched: there clipping lays the
	// ring along itself, and a search of every pair would take too long.
	big := len(pts) > maxRepair
	var onBorder []ipoint
	if big {
		for _, v := range pts {
			if e.atBorder(v) {
				onBorder = append(onBorder, v)
			}
		}
	}
	split := e.split[:0]
	for i, a := range pts {
		b := pts[(i+1)%len(pts)]
		split = append(split, a)
		from := len(split)
		candidates := pts
		if big {
			if !e.atBorder(a) || !e.atBorder(b) {
				continue
			}
			candidates = onBorder
		}
		for _, v := range candidates {
			if onSegment(a, b, v) {
				split = append(split, v)
			}
		}
		if len(split)-from > 1 {
			// In order along the edge.
			slices.SortFunc(split[from:], func(p, q ipoint) int {
				return cmp.Compare(dist2(a, p), dist2(a, q))
			})
		}
	}
	e.split = split
	// Then a walk that closes a loop whenever it comes back to a vertex
	// on its path (found by a scan, or in a long ring through a map).
	path := e.path[:0]
	var at map[ipoint]int
	if big {
		at = make(map[ipoint]int, len(split))
	}
	for _, p := range split {
		i := -1
		if big {
			if k, ok := at[p]; ok {
				i = k
			}
		} else {
			i = slices.Index(path, p)
		}
		if i >= 0 {
			e.loop = append(e.loop, path[i:]...)
			e.loopEnd = append(e.loopEnd, len(e.loop))
			for _, q := range path[i+1:] {
				delete(at, q)
			}
			path = path[:i+1]
			continue
		}
		if big {
			at[p] = len(path)
		}
		path = append(path, p)
	}
	e.loop = append(e.loop, path...)
	e.loopEnd = append(e.loopEnd, len(e.loop))
	e.path = path
}

func dist2(a, p ipoint) int64 {
	dx, dy := int64(p[0])-int64(a[0]), int64(p[1])-int64(a[1])
	return dx*dx + dy*dy
}

// atBorder reports whether p lies on the clip box's border.
func (e *layerEncoder) atBorder(p ipoint) bool {
	return p[0] == e.lo || p[0] == e.hi || p[1] == e.lo || p[1] == e.hi
}

// contains reports whether ring r (without its closing point) holds p
// strictly inside, by the even-odd rule; ok is false when p is on r.
func contains(r []ipoint, p ipoint) (in, ok bool) {
	for i, a := range r {
		b := r[(i+1)%len(r)]
		if a == p || onSegment(a, b, p) {
			return false, false
		}
		if (a[1] > p[1]) != (b[1] > p[1]) {
			// p left of the edge's x at p's y, without division.
			num := (int64(p[1]) - int64(a[1])) * (int64(b[0]) - int64(a[0]))
			den := int64(b[1]) - int64(a[1])
			lhs := (int64(p[0]) - int64(a[0])) * den
			if den > 0 && lhs < num || den < 0 && lhs > num {
				in = !in
			}
		}
	}
	return in, true
}

// Roles of the loops of a polygon (layerEncoder.loopRole).
const (
	loopDropped = iota
	loopExterior
	loopHole
)

// addRing rounds ring r of a polygon and appends what is left of it to the
// polygon's loops: one loop, or several where it touched itself, each with
// its role. A loop wound against the ring's largest loop has the other
// role: the inside of a ring that folded over into a hole of its exterior;
// an island inside a hole is dropped.
func (e *layerEncoder) addRing(r orb.Ring, exterior bool) {
	pts := e.round(orb.LineString(r))
	for len(pts) > 1 && pts[len(pts)-1] == pts[0] {
		pts = pts[:len(pts)-1]
	}
	pts = removeSpikes(pts)
	if len(pts) < 3 {
		return
	}
	first := len(e.loopEnd)
	thin, border := e.ringShape(pts)
	crossed := false
	switch {
	case len(pts) > maxRepair && (thin || border):
		e.loops(pts)
	case len(pts) <= maxRepair && (thin || border) && crossesItself(pts):
		e.loops(pts)
		crossed = true
	default:
		e.loop = append(e.loop, pts...)
		e.loopEnd = append(e.loopEnd, len(e.loop))
	}
	if crossed && thin {
		for k := first; k < len(e.loopEnd); k++ {
			if crossesItself(e.loopAt(k)) {
				e.loop, e.loopEnd = e.loop[:e.loopStart(first)], e.loopEnd[:first]
				e.loop = appendHull(e.loop, pts)
				e.loopEnd = append(e.loopEnd, len(e.loop))
				break
			}
		}
	}
	var largest int64
	for k := first; k < len(e.loopEnd); k++ {
		a := area2(e.loopAt(k))
		e.loopArea = append(e.loopArea, a)
		if abs64(a) > abs64(largest) {
			largest = a
		}
	}
	for k := first; k < len(e.loopEnd); k++ {
		a := e.loopArea[k]
		switch {
		case a == 0 || len(e.loopAt(k)) < 3:
			e.loopRole = append(e.loopRole, loopDropped)
		case (a > 0) == (largest > 0) && exterior:
			e.loopRole = append(e.loopRole, loopExterior)
		case (a > 0) == (largest > 0) || exterior:
			e.loopRole = append(e.loopRole, loopHole)
		default:
			e.loopRole = append(e.loopRole, loopDropped)
		}
	}
}

func (e *layerEncoder) loopAt(k int) []ipoint { return e.loop[e.loopStart(k):e.loopEnd[k]] }

func (e *layerEncoder) loopStart(k int) int {
	if k == 0 {
		return 0
	}
	return e.loopEnd[k-1]
}

func abs64(v int64) int64 {
	if v < 0 {
		return -v
	}
	return v
}

// polygon writes polygon p: each exterior loop followed by its holes. With
// one exterior, as nearly always, every hole is its; with more, a hole goes
// with the first exterior that holds one of its vertices inside.
func (e *layerEncoder) polygon(p orb.Polygon) {
	if len(p) == 0 {
		return
	}
	e.loop, e.loopEnd, e.loopArea, e.loopRole = e.loop[:0], e.loopEnd[:0], e.loopArea[:0], e.loopRole[:0]
	for i, r := range p {
		e.addRing(r, i == 0)
		if i == 0 && !slices.Contains(e.loopRole, loopExterior) {
			return // the exterior collapsed: nothing of the polygon is left
		}
	}
	exteriors := 0
	for _, role := range e.loopRole {
		if role == loopExterior {
			exteriors++
		}
	}
	for k, role := range e.loopRole {
		if role != loopExterior {
			continue
		}
		ext := e.loopAt(k)
		e.writeRing(ext, e.loopArea[k], true)
		for h, role := range e.loopRole {
			if role == loopHole && (exteriors == 1 || e.holeOf(h) == k) {
				e.writeRing(e.loopAt(h), e.loopArea[h], false)
			}
		}
	}
}

// holeOf is the first exterior loop that holds hole loop h, or -1.
func (e *layerEncoder) holeOf(h int) int {
	for k, role := range e.loopRole {
		if role != loopExterior {
			continue
		}
		for _, p := range e.loopAt(h) {
			if in, ok := contains(e.loopAt(k), p); ok {
				if in {
					return k
				}
				break
			}
		}
	}
	return -1
}

// writeRing writes one ring of twice the signed area a, wound for an
// exterior (positive area in tile coordinates, clockwise with y down) or a
// hole.
func (e *layerEncoder) writeRing(pts []ipoint, a int64, exterior bool) {
	if (a > 0) != exterior {
		slices.Reverse(pts)
	}
	e.moveTo(pts[0])
	e.command(cmdLineTo, len(pts)-1)
	for _, p := range pts[1:] {
		e.appendPoint(p)
	}
	e.command(cmdClosePath, 1)
}

// setClipBox tells the encoder the clip box of the tile, the extent plus
// buffer on each side, for ringShape.
func (e *layerEncoder) setClipBox(extent, buffer uint32) {
	e.lo, e.hi = -int32(buffer), int32(extent+buffer)
}
