package features

import (
	"slices"
	"sort"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/clip"
	"github.com/paulmach/orb/planar"

	"github.com/csdi-hk/csdi/catalog"
	"github.com/csdi-hk/csdi/geo"
)

// page is one page of an /items request.
type page struct {
	matched int   // features matching the filters, over all pages
	items   []int // indices into the layer, in id order
	// next and prev are the after cursors of the neighbouring pages;
	// hasPrev with prev == 0 means the first page.
	next, prev       uint64
	hasNext, hasPrev bool
}

// selectPage finds the features of one page. The layer is in id order, so
// the cursor is found by binary search and paging through a whole layer
// costs linear time overall, where an offset would cost quadratic.
func selectPage(l *catalog.Layer, q itemsQuery) page {
	n := l.Len()
	at := func(pos int) int { return pos }
	if q.boxes != nil {
		idx := matching(l, q.boxes)
		n = len(idx)
		at = func(pos int) int { return idx[pos] }
	}
	id := func(pos int) uint64 { return l.At(at(pos)).ID }
	start := sort.Search(n, func(pos int) bool { return id(pos) > q.after })
	end := min(start+q.limit, n)
	p := page{matched: n, items: make([]int, 0, end-start)}
	for pos := start; pos < end; pos++ {
		p.items = append(p.items, at(pos))
	}
	if end < n {
		p.hasNext, p.next = true, id(end-1)
	}
	if start > 0 {
		p.hasPrev = true
		if from := start - q.limit; from > 0 {
			p.prev = id(from - 1)
		}
	}
	return p
}

// matching returns the indices, in id order, of the features whose geometry
// (not only its bounds) intersects one of boxes.
func matching(l *catalog.Layer, boxes []orb.Bound) []int {
	var idx []int
	for _, b := range boxes {
		l.Search(b, func(i int, f *geo.Feature) bool {
			if intersects(f.Geometry, b) {
				idx = append(idx, i)
			}
			return true
		})
	}
	slices.Sort(idx)
	// A feature meeting both halves of an antimeridian box is found twice.
	return slices.Compact(idx)
}

// intersects reports whether g meets the box b, boundary included.
func intersects(g orb.Geometry, b orb.Bound) bool {
	if g == nil || !g.Bound().Intersects(b) {
		return false
	}
	switch g := g.(type) {
	case orb.Point:
		return b.Contains(g)
	case orb.MultiPoint:
		return slices.ContainsFunc(g, b.Contains)
	case orb.LineString:
		return lineIntersects(g, b)
	case orb.MultiLineString:
		return slices.ContainsFunc(g, func(ls orb.LineString) bool { return lineIntersects(ls, b) })
	case orb.Ring:
		return polygonIntersects(orb.Polygon{g}, b)
	case orb.Polygon:
		return polygonIntersects(g, b)
	case orb.MultiPolygon:
		return slices.ContainsFunc(g, func(p orb.Polygon) bool { return polygonIntersects(p, b) })
	case orb.Collection:
		return slices.ContainsFunc(g, func(g orb.Geometry) bool { return intersects(g, b) })
	}
	return true // orb.Bound: its bounds are the geometry
}

func lineIntersects(ls orb.LineString, b orb.Bound) bool {
	if len(ls) == 1 {
		return b.Contains(ls[0])
	}
	return len(clip.LineString(b, ls)) > 0
}

// polygonIntersects: the box meets the polygon if it meets a ring, or else
// lies wholly inside the polygon (and outside its holes).
func polygonIntersects(p orb.Polygon, b orb.Bound) bool {
	for _, r := range p {
		if lineIntersects(orb.LineString(r), b) {
			return true
		}
	}
	return len(p) > 0 && len(p[0]) > 0 && planar.PolygonContains(p, b.Min)
}
