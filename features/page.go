package features

import (
	"cmp"
	"container/list"
	"math/bits"
	"slices"
	"sort"
	"strconv"
	"sync"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/clip"
	"github.com/paulmach/orb/planar"

	"github.com/csdi-hk/csdi/catalog"
	"github.com/csdi-hk/csdi/geo"
)

// page is one page of an /items request.
type page struct {
	matched int   // features matching the filters, over all pages
	items   []int // indices into the layer, in the order of the result
	// next and prev are the after cursors of the neighbouring pages;
	// hasPrev with prev == 0 means the first page.
	next, prev       uint64
	hasNext, hasPrev bool
}

// selectPage finds the features of one page among idx, the indices of the
// matching features in result order, or the whole layer in id order when
// idx is nil. The cursor is the id of the last feature of the previous
// page and is found by binary search, so paging through a whole result
// costs linear time overall, where an offset would cost quadratic.
func selectPage(l *catalog.Layer, idx []int32, q *itemsQuery) (page, error) {
	n := l.Len()
	at := func(pos int) int { return pos }
	if idx != nil {
		n = len(idx)
		at = func(pos int) int { return int(idx[pos]) }
	}
	id := func(pos int) uint64 { return l.At(at(pos)).ID }
	var start int
	switch {
	case q.sort == nil:
		start = sort.Search(n, func(pos int) bool { return id(pos) > q.after })
	case q.after > 0:
		// In sortby order the cursor is a place in that order: the sort
		// keys of the cursor's feature, then its id.
		cur, ok := l.Index(q.after)
		if !ok {
			return page{}, invalidParam("after", "feature %d is no longer in the collection, which changed while it was paged; start again from the first page", q.after)
		}
		start = sort.Search(n, func(pos int) bool { return q.compare(l, at(pos), cur) > 0 })
	}
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
	return p, nil
}

// selection returns the indices of the features q selects, in the order
// it asks for, or nil when it asks for the whole layer in id order. Lists
// are kept in a cache, so the pages after the first of a filtered query,
// and the boxes a map asks for again, cost what a page of the whole layer
// costs.
func (h *Handler) selection(l *catalog.Layer, q *itemsQuery) []int32 {
	if !q.selective() {
		return nil
	}
	key := l.Info.ID + "\x00" + strconv.FormatInt(l.Info.Version, 10) + "\x00" + q.key
	if idx, ok := h.matches.get(key); ok {
		return idx
	}
	idx := match(l, q)
	h.matches.put(key, idx)
	return idx
}

// match finds the features that pass every filter of q, narrowing through
// the R-tree when the query has a box, and orders them.
func match(l *catalog.Layer, q *itemsQuery) []int32 {
	tf, hasTime := timeField(l)
	keep := func(i int, f *geo.Feature) bool {
		if q.boxes != nil && !inBoxes(f.Geometry, q.boxes) {
			return false
		}
		// A layer without a time property has nothing to filter on:
		// datetime restricts nothing there.
		if q.when != nil && hasTime && !q.when.matchTime(l, i, tf) {
			return false
		}
		for _, pf := range q.props {
			if !pf.match(l, i) {
				return false
			}
		}
		return q.cql == nil || q.cql.match(l, i)
	}
	search := q.boxes
	if b, ok := q.cql.bound(); ok {
		if search == nil {
			search = []orb.Bound{b}
		} else {
			var narrowed []orb.Bound
			for _, s := range search {
				if s.Intersects(b) {
					narrowed = append(narrowed, intersection(s, b))
				}
			}
			if narrowed == nil {
				return []int32{}
			}
			search = narrowed
		}
	}
	var idx []int32
	if search != nil {
		for _, b := range search {
			l.Search(b, func(i int, f *geo.Feature) bool {
				if keep(i, f) {
					idx = append(idx, int32(i))
				}
				return true
			})
		}
		// A feature meeting both halves of an antimeridian box is found twice.
		idx = sortUnique(idx, l.Len())
	} else {
		for i := range l.Len() {
			if keep(i, l.At(i)) {
				idx = append(idx, int32(i))
			}
		}
	}
	if idx == nil {
		idx = []int32{}
	}
	if q.sort != nil {
		slices.SortFunc(idx, func(a, b int32) int { return q.compare(l, int(a), int(b)) })
	}
	return idx
}

// inBoxes reports whether g meets one of the boxes. The bound is worked
// out once, and a geometry whose bound lies inside a box meets it without
// the exact test: in a bbox query most features are such.
func inBoxes(g orb.Geometry, boxes []orb.Bound) bool {
	if g == nil {
		return false
	}
	gb := g.Bound()
	// An empty geometry has an inverted bound, which lies "inside" any box.
	if gb.Min[0] > gb.Max[0] || gb.Min[1] > gb.Max[1] {
		return false
	}
	for _, b := range boxes {
		if b.Min[0] <= gb.Min[0] && gb.Max[0] <= b.Max[0] && b.Min[1] <= gb.Min[1] && gb.Max[1] <= b.Max[1] {
			return true
		}
	}
	for _, b := range boxes {
		if gb.Intersects(b) && intersectsExact(g, b) {
			return true
		}
	}
	return false
}

// sortUnique sorts indices into a layer of n features and drops repeats.
// A match list large beside the layer is sorted through a bitmap, in time
// linear in n/64 and the list, where a comparison sort of the thousands of
// features in a city block cost more than testing them.
func sortUnique(idx []int32, n int) []int32 {
	if len(idx) < 64 || len(idx) < n/128 {
		slices.Sort(idx)
		return slices.Compact(idx)
	}
	set := make([]uint64, (n+63)/64)
	for _, i := range idx {
		set[i>>6] |= 1 << (i & 63)
	}
	idx = idx[:0]
	for w, word := range set {
		for word != 0 {
			idx = append(idx, int32(w*64+bits.TrailingZeros64(word)))
			word &= word - 1
		}
	}
	return idx
}

func intersection(a, b orb.Bound) orb.Bound {
	return orb.Bound{
		Min: orb.Point{max(a.Min[0], b.Min[0]), max(a.Min[1], b.Min[1])},
		Max: orb.Point{min(a.Max[0], b.Max[0]), min(a.Max[1], b.Max[1])},
	}
}

// compare orders two features by the sortby keys, then by id. A null
// sorts after every value, so first when descending, as in SQL.
func (q *itemsQuery) compare(l *catalog.Layer, a, b int) int {
	for _, k := range q.sort {
		va, _ := l.Value(a, k.name)
		vb, _ := l.Value(b, k.name)
		var c int
		switch {
		case va == nil && vb == nil:
		case va == nil:
			c = 1
		case vb == nil:
			c = -1
		default:
			c = compareValues(va, vb)
		}
		if k.desc {
			c = -c
		}
		if c != 0 {
			return c
		}
	}
	return cmp.Compare(l.At(a).ID, l.At(b).ID)
}

// matchCache keeps the most recently used match lists, keyed by layer,
// version and query, within a budget of bytes rather than of lists: the
// lists of city blocks are small, and a map client asks for many of them.
type matchCache struct {
	mu    sync.Mutex
	lru   list.List // of *matchEntry, the most recently used first
	byKey map[string]*list.Element
	bytes int
}

// maxMatchBytes bounds the memory of the match lists.
const maxMatchBytes = 64 << 20

type matchEntry struct {
	key string
	idx []int32
}

// size is what an entry costs: its indices, its key and the bookkeeping.
func (e *matchEntry) size() int { return 4*len(e.idx) + len(e.key) + 128 }

func (c *matchCache) get(key string) ([]int32, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.byKey[key]
	if !ok {
		return nil, false
	}
	c.lru.MoveToFront(el)
	return el.Value.(*matchEntry).idx, true
}

func (c *matchCache) put(key string, idx []int32) {
	e := &matchEntry{key: key, idx: idx}
	if e.size() > maxMatchBytes/2 {
		return // one list must not push out every other
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.byKey == nil {
		c.byKey = map[string]*list.Element{}
	}
	if _, ok := c.byKey[key]; ok {
		return
	}
	for c.bytes+e.size() > maxMatchBytes {
		old := c.lru.Remove(c.lru.Back()).(*matchEntry)
		delete(c.byKey, old.key)
		c.bytes -= old.size()
	}
	c.byKey[key] = c.lru.PushFront(e)
	c.bytes += e.size()
}

// intersects reports whether g meets the box b, boundary included.
func intersects(g orb.Geometry, b orb.Bound) bool {
	return g != nil && g.Bound().Intersects(b) && intersectsExact(g, b)
}

// intersectsExact is intersects for a g whose bound is known to meet b.
func intersectsExact(g orb.Geometry, b orb.Bound) bool {
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
