// Package rtree is a static, packed R-tree: the index of an immutable set of
// bounds, built once in the order it is given and never changed.
//
// A layer in memory never changes (a new version is a new layer), and its
// features are already sorted along a Hilbert curve; packing them in that
// order gives the tree of a Hilbert R-tree with every node full. Such a tree
// is a few flat arrays, with no node objects and no pointers, which is why
// it replaced github.com/tidwall/rtree, a dynamic tree with inserts and
// deletes we never made: a layer's index took about 80 bytes per feature
// there against about 17 here (see BenchmarkSearch), and a search visits
// entries in their order, so results come out sorted with no sort to pay.
//
// Boxes are kept as float32, each rounded outward, so a search may report
// an entry whose bounds miss the query by less than a float32 step (about a
// metre at Hong Kong's longitude): callers test what they find.
package rtree

import (
	"math"

	"github.com/paulmach/orb"
)

// fanout is the number of children of a node: 16 keeps the tree shallow
// (five levels for a million entries) while a node's boxes fit in four
// cache lines.
const fanout = 16

type box struct{ minX, minY, maxX, maxY float32 }

// Tree indexes the bounds it was built with by their position.
type Tree struct {
	// boxes holds every level, the entries first, then their parents, up
	// to the root; level k starts at levels[k]. Node j of level k covers
	// nodes fanout*j to fanout*j+fanout-1 of level k-1.
	boxes  []box
	levels []int
}

// New builds the tree of bounds, whose position i is entry i.
func New(bounds []orb.Bound) *Tree {
	n := len(bounds)
	total, levels := 0, []int{0}
	for m := n; ; m = (m + fanout - 1) / fanout {
		total += m
		if m <= 1 {
			break
		}
		levels = append(levels, total)
	}
	t := &Tree{boxes: make([]box, 0, total), levels: levels}
	for _, b := range bounds {
		t.boxes = append(t.boxes, outward(b))
	}
	for k := 1; k < len(levels); k++ {
		below := t.boxes[levels[k-1]:levels[k]]
		for j := 0; j < len(below); j += fanout {
			c := below[j:min(j+fanout, len(below))]
			u := c[0]
			for _, b := range c[1:] {
				u.minX, u.minY = min(u.minX, b.minX), min(u.minY, b.minY)
				u.maxX, u.maxY = max(u.maxX, b.maxX), max(u.maxY, b.maxY)
			}
			t.boxes = append(t.boxes, u)
		}
	}
	return t
}

// Len is the number of entries.
func (t *Tree) Len() int {
	if len(t.levels) == 1 {
		return len(t.boxes)
	}
	return t.levels[1]
}

// Bound is entry i's box: the bound it was built with, each side moved out
// by less than a float32 step (see outward).
func (t *Tree) Bound(i int32) orb.Bound {
	b := t.boxes[i]
	return orb.Bound{
		Min: orb.Point{float64(b.minX), float64(b.minY)},
		Max: orb.Point{float64(b.maxX), float64(b.maxY)},
	}
}

// Search calls fn with each entry whose box meets b, in increasing order,
// until fn returns false.
func (t *Tree) Search(b orb.Bound, fn func(i int32) bool) {
	if len(t.boxes) == 0 {
		return
	}
	q := outward(b)
	top := len(t.levels) - 1
	if top == 0 {
		// A single entry is its own root.
		if meets(&t.boxes[0], q) {
			fn(0)
		}
		return
	}
	t.search(q, top, 0, fn)
}

// search visits the children of node j of level k, k >= 1; it reports
// false once fn has.
func (t *Tree) search(q box, k, j int, fn func(i int32) bool) bool {
	from := t.levels[k-1] + j*fanout
	to := min(from+fanout, t.levels[k])
	for c := from; c < to; c++ {
		if !meets(&t.boxes[c], q) {
			continue
		}
		if k == 1 {
			if !fn(int32(c)) {
				return false
			}
		} else if !t.search(q, k-1, c-t.levels[k-1], fn) {
			return false
		}
	}
	return true
}

func meets(b *box, q box) bool {
	return b.minX <= q.maxX && b.maxX >= q.minX && b.minY <= q.maxY && b.maxY >= q.minY
}

// outward is b in float32, each side moved out to the next float32 where
// the conversion rounded it in.
func outward(b orb.Bound) box {
	return box{down(b.Min[0]), down(b.Min[1]), up(b.Max[0]), up(b.Max[1])}
}

func down(v float64) float32 {
	f := float32(v)
	if float64(f) > v {
		f = math.Nextafter32(f, float32(math.Inf(-1)))
	}
	return f
}

func up(v float64) float32 {
	f := float32(v)
	if float64(f) < v {
		f = math.Nextafter32(f, float32(math.Inf(1)))
	}
	return f
}
