package features

import (
	"fmt"
	"math"
	"math/rand/v2"
	"net/http/httptest"
	"slices"
	"testing"

	"github.com/paulmach/orb"

	"github.com/csdi-hk/csdi/catalog"
	"github.com/csdi-hk/csdi/geo"
)

func TestIntersects(t *testing.T) {
	box := orb.Bound{Min: orb.Point{0, 0}, Max: orb.Point{10, 10}}
	sq := func(w, s, e, n float64) orb.Ring { return orb.Ring{{w, s}, {e, s}, {e, n}, {w, n}, {w, s}} }
	for _, tc := range []struct {
		name string
		g    orb.Geometry
		want bool
	}{
		{"point inside", orb.Point{5, 5}, true},
		{"point on edge", orb.Point{10, 5}, true},
		{"point outside", orb.Point{11, 5}, false},
		{"multipoint one inside", orb.MultiPoint{{20, 20}, {1, 1}}, true},
		{"multipoint none inside", orb.MultiPoint{{20, 20}, {-1, 1}}, false},
		{"line through, no vertex inside", orb.LineString{{-5, 5}, {15, 5}}, true},
		{"line across a corner", orb.LineString{{-1, 9}, {2, 12}}, true},
		{"line around the box", orb.LineString{{-1, -1}, {-1, 11}, {11, 11}}, false},
		{"line touching the edge", orb.LineString{{10, 20}, {10, 10}}, true},
		{"one-point line inside", orb.LineString{{5, 5}}, true},
		{"multiline, second part in", orb.MultiLineString{{{20, 20}, {30, 30}}, {{5, -5}, {5, 5}}}, true},
		{"polygon holding the box", orb.Polygon{sq(-5, -5, 15, 15)}, true},
		{"polygon inside the box", orb.Polygon{sq(2, 2, 3, 3)}, true},
		{"polygon crossing an edge", orb.Polygon{sq(8, 2, 12, 3)}, true},
		{"box in the polygon's hole", orb.Polygon{sq(-5, -5, 15, 15), sq(-1, -1, 11, 11)}, false},
		{"L-shaped polygon missing the box", orb.Polygon{{{-5, -5}, {-1, -5}, {-1, 15}, {15, 15}, {15, 20}, {-5, 20}, {-5, -5}}}, false},
		{"multipolygon", orb.MultiPolygon{{sq(20, 20, 30, 30)}, {sq(9, 9, 12, 12)}}, true},
		{"ring", sq(-5, -5, 15, 15), true},
		{"collection", orb.Collection{orb.Point{20, 20}, orb.LineString{{-5, 5}, {15, 5}}}, true},
		{"empty collection", orb.Collection{}, false},
		{"nil", nil, false},
		{"zero-length line inside", orb.LineString{{5, 5}, {5, 5}}, true},
		{"empty line", orb.LineString{}, false},
		{"empty polygon", orb.Polygon{}, false},
		{"polygon of an empty ring", orb.Polygon{{}}, false},
		{"collection of an empty polygon and a point inside", orb.Collection{orb.Polygon{}, orb.Point{1, 1}}, true},
		{"collection of an empty polygon and a point outside", orb.Collection{orb.Polygon{}, orb.Point{-1, 1}}, false},
	} {
		if got := intersects(tc.g, box); got != tc.want {
			t.Errorf("%s: intersects = %v, want %v", tc.name, got, tc.want)
		}
		// The shortcut of the bbox queries must agree, with the box alone
		// and as the second of two.
		far := orb.Bound{Min: orb.Point{100, 100}, Max: orb.Point{101, 101}}
		if got := inBoxes(tc.g, []orb.Bound{far, box}); got != tc.want {
			t.Errorf("%s: inBoxes = %v, want %v", tc.name, got, tc.want)
		}
	}
}

// TestInBoxesRandom compares the contained-bound shortcut with the exact
// test over random footprints and boxes near and across them.
func TestInBoxesRandom(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	for i := range 20000 {
		cx, cy := rng.Float64()*10, rng.Float64()*10
		var ring orb.Ring
		for k := range 3 + rng.IntN(6) {
			a := float64(k) / 8 * 2 * math.Pi
			r := 0.1 + rng.Float64()
			ring = append(ring, orb.Point{cx + r*math.Cos(a), cy + r*math.Sin(a)})
		}
		ring = append(ring, ring[0])
		var g orb.Geometry = orb.Polygon{ring}
		if i%3 == 0 {
			g = orb.LineString(ring)
		}
		x, y := rng.Float64()*10, rng.Float64()*10
		box := orb.Bound{Min: orb.Point{x, y}, Max: orb.Point{x + rng.Float64()*3, y + rng.Float64()*3}}
		if got, want := inBoxes(g, []orb.Bound{box}), intersects(g, box); got != want {
			t.Fatalf("%v against %v: inBoxes %v, intersects %v", g, box, got, want)
		}
	}
}

func TestSortUnique(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	for _, tc := range []struct{ m, n int }{{0, 10}, {5, 10}, {100, 100}, {1000, 1 << 20}, {5000, 70000}, {70000, 70000}} {
		idx := make([]int32, tc.m)
		want := map[int32]bool{}
		for i := range idx {
			idx[i] = int32(rng.IntN(tc.n))
			want[idx[i]] = true
		}
		got := sortUnique(slices.Clone(idx), tc.n)
		if len(got) != len(want) || !slices.IsSorted(got) {
			t.Errorf("m=%d n=%d: %d indices, sorted %v; want %d distinct, sorted", tc.m, tc.n, len(got), slices.IsSorted(got), len(want))
		}
		for _, i := range got {
			if !want[i] {
				t.Errorf("m=%d n=%d: index %d was not given", tc.m, tc.n, i)
			}
		}
	}
}

// TestSelectPage checks cursors against a plain walk through the ids.
func TestSelectPage(t *testing.T) {
	var feats []geo.Feature
	for i := range 23 {
		feats = append(feats, geo.Feature{ID: uint64(10 + 3*i), Geometry: orb.Point{float64(i), 0}})
	}
	l := catalog.NewLayer(catalog.LayerInfo{ID: "t"}, slices.Clone(feats))
	for _, tc := range []struct {
		after      uint64
		limit      int
		want       []int // indices
		next, prev string
	}{
		{0, 5, []int{0, 1, 2, 3, 4}, "22", "none"},
		{22, 5, []int{5, 6, 7, 8, 9}, "37", "0"},
		{37, 5, []int{10, 11, 12, 13, 14}, "52", "22"},
		{23, 5, []int{5, 6, 7, 8, 9}, "37", "0"}, // a cursor between ids
		{11, 5, []int{1, 2, 3, 4, 5}, "25", "0"},
		{67, 5, []int{20, 21, 22}, "none", "52"},
		{76, 5, nil, "none", "61"}, // past the end
		{1000, 5, nil, "none", "61"},
		{0, 100, []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22}, "none", "none"},
	} {
		p, err := selectPage(l, nil, &itemsQuery{limit: tc.limit, after: tc.after})
		if err != nil {
			t.Fatal(err)
		}
		cursor := func(ok bool, v uint64) string {
			if !ok {
				return "none"
			}
			return fmt.Sprint(v)
		}
		if p.matched != 23 || !slices.Equal(p.items, tc.want) ||
			cursor(p.hasNext, p.next) != tc.next || cursor(p.hasPrev, p.prev) != tc.prev {
			t.Errorf("after %d limit %d: matched %d items %v next %s prev %s; want 23 %v %s %s",
				tc.after, tc.limit, p.matched, p.items, cursor(p.hasNext, p.next), cursor(p.hasPrev, p.prev), tc.want, tc.next, tc.prev)
		}
	}
}

// BenchmarkSelectPage shows that a page deep in a large layer costs what
// the first page costs: the cursor is a binary search, not a skip.
func BenchmarkSelectPage(b *testing.B) {
	const n = 500_000
	feats := make([]geo.Feature, n)
	for i := range feats {
		feats[i] = geo.Feature{ID: uint64(i + 1), Geometry: orb.Point{float64(i%1000) / 1000, float64(i/1000) / 1000}}
	}
	l := catalog.NewLayer(catalog.LayerInfo{ID: "big"}, feats)
	for _, after := range []uint64{0, n / 2, n - 100} {
		b.Run(fmt.Sprintf("after=%d", after), func(b *testing.B) {
			for b.Loop() {
				selectPage(l, nil, &itemsQuery{limit: 100, after: after})
			}
		})
	}
}

func TestMatchCache(t *testing.T) {
	var c matchCache
	list := func(n int) []int32 { return make([]int32, n) }
	c.put("a", list(3))
	c.put("b", list(3))
	if got, ok := c.get("a"); !ok || len(got) != 3 {
		t.Fatalf("a: %v %v", got, ok)
	}
	// Many small lists fit: far more than a fixed count of lists would.
	for i := range 10000 {
		c.put(fmt.Sprint("small", i), list(1000))
	}
	if _, ok := c.get("small0"); !ok {
		t.Error("small0 pushed out, though 10000 lists of 1000 fit in the budget")
	}
	// Filling the cache pushes out the least recently used: b, not a.
	c.get("a")
	big := maxMatchBytes/8 - 128
	for i := range 7 {
		c.put(fmt.Sprint("fill", i), list(big/4))
	}
	if _, ok := c.get("b"); ok {
		t.Error("b is still there; it was used least recently")
	}
	if _, ok := c.get("a"); !ok {
		t.Error("a was pushed out though used recently")
	}
	if c.bytes > maxMatchBytes || c.lru.Len() != len(c.byKey) {
		t.Errorf("%d bytes kept, budget %d; %d entries listed, %d keyed", c.bytes, maxMatchBytes, c.lru.Len(), len(c.byKey))
	}
	// A list too big for half the budget is not kept at all.
	c.put("huge", list(maxMatchBytes/8+1))
	if _, ok := c.get("huge"); ok {
		t.Error("a list over half the budget was kept")
	}
}

// TestSelectionCached checks that the pages of one filtered query share one
// match list, and that another layer version gets its own.
func TestSelectionCached(t *testing.T) {
	info, feats := toilets()
	l, _ := newLayer(t, info, feats)
	h := NewHandler(testLayers{"toilets": l}, Options{})
	q := func(raw string) *itemsQuery {
		req := httptest.NewRequest("GET", "/ogc/collections/toilets/items?"+raw, nil)
		iq, err := h.parseItems(req, l)
		if err != nil {
			t.Fatal(err)
		}
		return &iq
	}
	a := h.selection(l, q("seats=3&limit=5"))
	b := h.selection(l, q("seats=3&limit=7&after=9&f=json&crs=EPSG:2326"))
	if len(a) == 0 || &a[0] != &b[0] {
		t.Error("two pages of one query computed the match list twice")
	}
	if c := h.selection(l, q("seats=4")); len(c) > 0 && &c[0] == &a[0] {
		t.Error("another query got the same list")
	}
	if h.selection(l, q("limit=5")) != nil {
		t.Error("a query without filters got a list")
	}
	info.Version++
	l2, _ := newLayer(t, info, feats)
	if c := h.selection(l2, q("seats=3")); &c[0] == &a[0] {
		t.Error("a new layer version got the old version's list")
	}
}

// BenchmarkFilteredPaging pages through a filter matching half of a
// million features, 1000 a page: each op is one page deep in the result.
// "cached" is the server's way; "uncached" recomputes the matches for
// every page, as a server without the cache would. Paging the whole result
// takes 500 pages: multiply.
func BenchmarkFilteredPaging(b *testing.B) {
	const n = 1_000_000
	feats := make([]geo.Feature, n)
	for i := range feats {
		feats[i] = geo.Feature{ID: uint64(i + 1), Geometry: orb.Point{113.8 + float64(i%1000)/2000, 22.2 + float64(i/1000)/2500},
			Properties: map[string]any{"k": int64(i % 2)}}
	}
	l := catalog.NewLayer(catalog.LayerInfo{ID: "big", Fields: []geo.Field{{Name: "k", Type: geo.Integer}}}, feats)
	for _, name := range []string{"cached", "uncached"} {
		b.Run(name, func(b *testing.B) {
			h := NewHandler(testLayers{"big": l}, Options{})
			req := httptest.NewRequest("GET", "/ogc/collections/big/items?k=1&limit=1000&after=700001", nil)
			q, err := h.parseItems(req, l)
			if err != nil {
				b.Fatal(err)
			}
			h.selection(l, &q) // the first page's work
			for b.Loop() {
				if name == "uncached" {
					h.matches = matchCache{}
				}
				pg, err := selectPage(l, h.selection(l, &q), &q)
				if err != nil || len(pg.items) != 1000 || pg.matched != n/2 {
					b.Fatalf("page of %d, %d matched, %v", len(pg.items), pg.matched, err)
				}
			}
		})
	}
}
