package tiles

import (
	"math"
	"slices"

	"github.com/paulmach/orb"
)

// Rings longer than bigRing (a coastline, a district boundary) are not
// projected and clipped whole for every tile. They are walked in runs of
// runLen vertices, testing each run's bound in longitude and latitude
// without projecting anything:
//
//   - a run whose bound misses the tile and buffer is replaced by the
//     chord from its first vertex to its last. The chord lies in the run's
//     bound, so it misses the box too and makes no chain of its own; and
//     the run and its chord together wind around no point of the box, so
//     the box's points keep their winding number, which is all that
//     clipPolygon's linking and its enclosure test see.
//   - a run that meets the box is projected, dropping first the vertices
//     within the simplification tolerance of the last one kept on both
//     axes (the radial pass of simplify-js): at low zoom thousands of
//     vertices share a unit, and Douglas-Peucker over all of them is most
//     of the cost of a tile.
//
// The ring's orientation comes from its signed area in longitude and
// latitude, summed in the same pass: the reduced ring's own area is not
// the ring's.
const (
	bigRing = 4096
	runLen  = 256
)

// reduceRing returns r, longer than bigRing, projected and cut down as
// described above, its bound in longitude and latitude, and whether it
// winds as an exterior does in tile coordinates (clockwise on screen).
func (tb *tileBuilder) reduceRing(r orb.Ring) (orb.Ring, orb.Bound, bool) {
	out, bound, area := tb.reduce(r)
	if out[0] != out[len(out)-1] {
		out = append(out, out[0])
	}
	// Latitude grows up the screen and tile y down it, so the signs of
	// the two areas are opposite.
	return out, bound, area < 0
}

// reduce returns the vertices r, in longitude and latitude, reduced as
// described above and projected, their bound, and twice the signed area
// of the ring they make in longitude and latitude (closed or not, the
// closing segment adds nothing).
func (tb *tileBuilder) reduce(r []orb.Point) ([]orb.Point, orb.Bound, float64) {
	q := tb.runQuery
	out := make([]orb.Point, 0, 64)
	bound := orb.Bound{Min: r[0], Max: r[0]}
	var area float64
	for s := 0; s+1 < len(r); s += runLen {
		e := min(s+runLen, len(r)-1) // the run is r[s..e], sharing e with the next
		run := r[s : e+1]
		// Not orb.Bound.Extend: this loop is most of the cost of a tile.
		x0, y0, x1, y1 := run[0][0], run[0][1], run[0][0], run[0][1]
		a := run[0]
		for _, p := range run[1:] {
			x0, x1 = min(x0, p[0]), max(x1, p[0])
			y0, y1 = min(y0, p[1]), max(y1, p[1])
			area += a[0]*p[1] - p[0]*a[1]
			a = p
		}
		b := orb.Bound{Min: orb.Point{x0, y0}, Max: orb.Point{x1, y1}}
		bound = bound.Union(b)
		if len(out) == 0 {
			out = append(out, tb.project(run[0]))
		}
		if !b.Intersects(q) {
			out = append(out, tb.project(run[len(run)-1]))
			continue
		}
		last := run[0]
		for i, p := range run[1:] {
			if i+2 < len(run) && math.Abs(p[0]-last[0]) < tb.thinLon && math.Abs(p[1]-last[1]) < tb.thinLat {
				continue
			}
			out = append(out, tb.project(p))
			last = p
		}
	}
	return out, bound, area
}

// bigPolygon projects a polygon with a ring longer than bigRing for
// clipPolygon, its rings reduced and wound as orient would wind them. It
// returns the bound of its exterior in tile coordinates and nil when the
// exterior misses the box.
func (tb *tileBuilder) bigPolygon(p orb.Polygon) (orb.Polygon, orb.Bound) {
	pp := make(orb.Polygon, 0, len(p))
	var bound orb.Bound
	for i, r := range p {
		var rr orb.Ring
		var exterior bool
		if len(r) > bigRing {
			var b orb.Bound
			rr, b, exterior = tb.reduceRing(r)
			if i == 0 {
				bound = tb.tileBound(b)
			}
		} else {
			if i == 0 {
				bound = tb.tileBound(r.Bound())
			}
			rr = orb.Ring(tb.projectLine(r))
			if len(rr) > 0 && rr[0] != rr[len(rr)-1] {
				rr = append(rr, rr[0])
			}
			exterior = signedArea(rr) > 0
		}
		if i == 0 && !bound.Intersects(tb.box) {
			return nil, bound
		}
		if len(rr) < 4 {
			if i == 0 {
				return nil, bound
			}
			continue
		}
		if exterior != (i == 0) {
			slices.Reverse(rr)
		}
		pp = append(pp, rr)
	}
	return pp, bound
}

// isBig reports whether a polygon takes the path of bigPolygon.
func isBig(p orb.Polygon) bool {
	for _, r := range p {
		if len(r) > bigRing {
			return true
		}
	}
	return false
}
