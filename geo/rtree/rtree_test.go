package rtree_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"testing"

	"github.com/paulmach/orb"
	tidwall "github.com/tidwall/rtree"

	"github.com/csdi-hk/csdi/geo/rtree"
)

// boxes makes n small boxes scattered over a patch of Hong Kong, the way
// buildings are, in the order given (not sorted along any curve, so the
// tree is not at its best: the results must not depend on the order).
func boxes(seed uint64, n int) []orb.Bound {
	r := rand.New(rand.NewPCG(seed, 1))
	bs := make([]orb.Bound, n)
	for i := range bs {
		x, y := 114.1+r.Float64()*0.1, 22.25+r.Float64()*0.1
		w, h := r.Float64()*0.001, r.Float64()*0.001
		bs[i] = orb.Bound{Min: orb.Point{x, y}, Max: orb.Point{x + w, y + h}}
	}
	return bs
}

// Every search finds, in increasing order, each entry whose bounds meet the
// query, and anything more only within float32 rounding of it.
func TestSearchFindsWhatMeets(t *testing.T) {
	point := orb.Bound{Min: orb.Point{114.15, 22.3}, Max: orb.Point{114.15, 22.3}}
	tests := []struct {
		name  string
		n     int
		query orb.Bound
	}{
		{"empty tree", 0, point.Pad(1)},
		{"one entry, met", 1, orb.Bound{Min: orb.Point{114, 22}, Max: orb.Point{115, 23}}},
		{"one entry, missed", 1, orb.Bound{Min: orb.Point{0, 0}, Max: orb.Point{1, 1}}},
		{"one full node", 16, orb.Bound{Min: orb.Point{114.1, 22.25}, Max: orb.Point{114.15, 22.3}}},
		{"a node and one", 17, orb.Bound{Min: orb.Point{114.1, 22.25}, Max: orb.Point{114.15, 22.3}}},
		{"three levels, small box", 5000, orb.Bound{Min: orb.Point{114.14, 22.29}, Max: orb.Point{114.145, 22.295}}},
		{"three levels, a point", 5000, point},
		{"three levels, everything", 5000, orb.Bound{Min: orb.Point{-180, -90}, Max: orb.Point{180, 90}}},
		{"four levels, box", 70000, orb.Bound{Min: orb.Point{114.12, 22.27}, Max: orb.Point{114.13, 22.31}}},
		{"four levels, nothing", 70000, orb.Bound{Min: orb.Point{113, 22}, Max: orb.Point{113.5, 22.2}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			bs := boxes(uint64(tt.n), tt.n)
			tr := rtree.New(bs)
			if tr.Len() != tt.n {
				t.Errorf("Len %d, want %d", tr.Len(), tt.n)
			}
			var got []int32
			tr.Search(tt.query, func(i int32) bool {
				got = append(got, i)
				return true
			})
			if !slices.IsSorted(got) {
				t.Errorf("results not in order: %v", got)
			}
			found := map[int32]bool{}
			for _, i := range got {
				if found[i] {
					t.Fatalf("entry %d found twice", i)
				}
				found[i] = true
				// float32 steps are under 1e-5 degrees here, and
				// both the box and the query may move by one.
				if !bs[i].Intersects(tt.query.Pad(2e-5)) {
					t.Errorf("entry %d %v found, far from %v", i, bs[i], tt.query)
				}
			}
			want := 0
			for i, b := range bs {
				if b.Intersects(tt.query) {
					want++
					if !found[int32(i)] {
						t.Errorf("entry %d %v meets %v but was not found", i, b, tt.query)
					}
				}
			}
			// Bound holds each entry's bounds, at most a float32
			// step larger on each side.
			for i, b := range bs {
				o := tr.Bound(int32(i))
				for k := range 2 {
					if o.Min[k] > b.Min[k] || o.Max[k] < b.Max[k] ||
						float32(o.Min[k]) != math.Nextafter32(float32(b.Min[k]), float32(math.Inf(-1))) && o.Min[k] != float64(float32(b.Min[k])) ||
						float32(o.Max[k]) != math.Nextafter32(float32(b.Max[k]), float32(math.Inf(1))) && o.Max[k] != float64(float32(b.Max[k])) {
						t.Fatalf("entry %d: Bound %v for bounds %v", i, o, b)
					}
				}
			}
			t.Logf("%d found, %d meet", len(got), want)
		})
	}
}

// Bounds that float32 cannot hold exactly are rounded outward: a query
// touching an entry's edge exactly still finds it.
func TestSearchTouchingEdge(t *testing.T) {
	b := orb.Bound{Min: orb.Point{114.123456789, 22.987654321}, Max: orb.Point{114.223456789, 22.997654321}}
	tr := rtree.New([]orb.Bound{b, b, b})
	for _, q := range []orb.Bound{
		{Min: b.Max, Max: orb.Point{b.Max[0] + 1, b.Max[1] + 1}},
		{Min: orb.Point{b.Min[0] - 1, b.Min[1] - 1}, Max: b.Min},
		{Min: orb.Point{b.Max[0], b.Min[1]}, Max: orb.Point{b.Max[0] + 1, b.Min[1]}},
	} {
		n := 0
		tr.Search(q, func(int32) bool { n++; return true })
		if n != 3 {
			t.Errorf("query %v touching the edge found %d of 3", q, n)
		}
	}
}

// A search stops when fn says so.
func TestSearchStops(t *testing.T) {
	tr := rtree.New(boxes(1, 1000))
	all := orb.Bound{Min: orb.Point{-180, -90}, Max: orb.Point{180, 90}}
	for _, stop := range []int{1, 15, 16, 17, 300} {
		n := 0
		tr.Search(all, func(int32) bool { n++; return n < stop })
		if n != stop {
			t.Errorf("stopping at %d: fn called %d times", stop, n)
		}
	}
}

func ExampleTree_Search() {
	tr := rtree.New([]orb.Bound{
		{Min: orb.Point{114.16, 22.28}, Max: orb.Point{114.17, 22.29}},
		{Min: orb.Point{114.20, 22.30}, Max: orb.Point{114.21, 22.31}},
		{Min: orb.Point{114.165, 22.285}, Max: orb.Point{114.18, 22.3}},
	})
	tr.Search(orb.Bound{Min: orb.Point{114.15, 22.27}, Max: orb.Point{114.168, 22.288}}, func(i int32) bool {
		fmt.Println(i)
		return true
	})
	// Output:
	// 0
	// 2
}

// BenchmarkSearch compares the tree with github.com/tidwall/rtree, which it
// replaced, on the same boxes given in the same (Hilbert-like, row by row)
// order: heap per entry, and the time of a search the size of a z16 tile.
func BenchmarkSearch(b *testing.B) {
	const n = 500_000
	bs := boxes(7, n)
	// Sorted in strips, roughly as a layer's slots are, so that both
	// trees get neighbours together.
	slices.SortFunc(bs, func(p, q orb.Bound) int {
		sp, sq := int(p.Min[1]*2000), int(q.Min[1]*2000)
		if sp != sq {
			return sp - sq
		}
		if p.Min[0] < q.Min[0] {
			return -1
		}
		return 1
	})
	query := orb.Bound{Min: orb.Point{114.15, 22.29}, Max: orb.Point{114.1555, 22.2955}}
	b.Run("packed", func(b *testing.B) {
		before := heapAlloc()
		tr := rtree.New(bs)
		size := heapAlloc() - before
		for b.Loop() {
			tr.Search(query, func(int32) bool { return true })
		}
		b.ReportMetric(float64(size)/n, "B/entry")
		runtime.KeepAlive(tr)
	})
	b.Run("tidwall", func(b *testing.B) {
		before := heapAlloc()
		var tr tidwall.RTreeG[int32]
		for i, bb := range bs {
			tr.Insert(bb.Min, bb.Max, int32(i))
		}
		size := heapAlloc() - before
		var found []int32
		for b.Loop() {
			found = found[:0]
			tr.Search(query.Min, query.Max, func(_, _ [2]float64, i int32) bool {
				found = append(found, i)
				return true
			})
			// Its results come in no order; a tile wants them sorted.
			slices.Sort(found)
		}
		b.ReportMetric(float64(size)/n, "B/entry")
		runtime.KeepAlive(&tr)
	})
}

func heapAlloc() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}
