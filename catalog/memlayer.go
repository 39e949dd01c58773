package catalog

import (
	"cmp"
	"slices"

	"github.com/paulmach/orb"
	"github.com/tidwall/rtree"

	"github.com/csdi-hk/csdi/geo"
)

// Layer is one immutable version of a layer in memory: its features ordered
// by id and an R-tree over their bounds.
type Layer struct {
	Info     LayerInfo
	features []geo.Feature
	index    rtree.RTreeG[int32]
}

// NewLayer builds a layer snapshot; it sorts feats by id and takes ownership.
func NewLayer(info LayerInfo, feats []geo.Feature) *Layer {
	slices.SortFunc(feats, func(a, b geo.Feature) int { return cmp.Compare(a.ID, b.ID) })
	l := &Layer{Info: info, features: feats}
	for i, f := range feats {
		b := f.Geometry.Bound()
		l.index.Insert(b.Min, b.Max, int32(i))
	}
	return l
}

// Len is the number of features.
func (l *Layer) Len() int { return len(l.features) }

// At returns the i-th feature in id order; it must not be modified.
func (l *Layer) At(i int) *geo.Feature { return &l.features[i] }

// Feature returns the feature with the given id.
func (l *Layer) Feature(id uint64) (*geo.Feature, bool) {
	i, ok := slices.BinarySearchFunc(l.features, id, func(f geo.Feature, id uint64) int { return cmp.Compare(f.ID, id) })
	if !ok {
		return nil, false
	}
	return &l.features[i], true
}

// Search calls fn, in no particular order, for each feature whose bounds
// intersect b, until fn returns false. Callers test the geometry itself when
// they need more than a bounds test.
func (l *Layer) Search(b orb.Bound, fn func(i int, f *geo.Feature) bool) {
	l.index.Search(b.Min, b.Max, func(_, _ [2]float64, i int32) bool {
		return fn(int(i), &l.features[i])
	})
}
