package catalog

import (
	"cmp"
	"encoding/binary"
	"iter"
	"slices"
	"sort"
	"sync"

	"github.com/paulmach/orb"

	"github.com/csdi-hk/csdi/geo"
	"github.com/csdi-hk/csdi/geo/rtree"
)

// Layer is one immutable version of a layer in memory: its features, a
// packed R-tree over their bounds, and their properties indexed for the tile
// encoder (see SlotTags).
//
// Each feature has an index, its place in id order (the OGC API's paging
// order: At, Index), and a slot, its place along a Hilbert curve through the
// layer (see NewLayer). Features are stored, and the R-tree holds them, by
// slot: the tile encoder reads them so, and what it reads for neighbouring
// features lies together in memory.
type Layer struct {
	Info     LayerInfo
	features []geo.Feature
	// features are in slot order. index holds slots; slotAt is the index
	// in id order of the feature in each slot.
	index  *rtree.Tree
	slotAt []int32
	// slotOf is the slot of each feature index: readers by index find the
	// feature's tags through it.
	slotOf []int32

	// keys is every property name of the layer, sorted; values every
	// distinct property value (see interner), in order of first
	// appearance by slot. The tags of slot s (see Tags) are the key set
	// keysetOf[s], and vals[tagAt[s]:tagAt[s+1]], one index into values
	// for each key of the set, nil values left out. Key set k is
	// keysets[keysetAt[k]:keysetAt[k+1]], indexes into keys in order: a
	// layer's features mostly have the same keys, so each feature pays 4
	// bytes for them rather than 4 a property.
	keys     []string
	values   valueSet
	tagAt    []uint32
	vals     []uint32
	keysetOf []uint32
	keysets  []uint32
	keysetAt []uint32
	// nils lists, by slot, the keys (indexes into keys, in order) a feature
	// holds with a nil value: rare, and left out of tags for the tile
	// encoder, but a reader must still tell them from absent keys.
	nils map[int32][]uint32
}

// NewLayer builds a layer snapshot; it sorts feats by id and takes ownership
// of their geometries and properties.
//
// It moves each feature's properties into the layer's tag index and leaves
// the feature's Properties nil: a map per feature cost more than the
// coordinates (issue 4), and the index shares keys and values across
// features, since stores decode a copy of every name and value and the same
// district name repeated over thousands of buildings would otherwise cost
// thousands of strings. Read properties with Value, Props or Properties.
// And it moves the features' coordinates into one array, in the order of a
// Hilbert curve over the layer: features near each other on the map are
// then near each other in memory, which a tile, reading thousands of
// neighbours, finds in the processor's caches. The geometries hold the same
// values as before.
func NewLayer(info LayerInfo, feats []geo.Feature) *Layer {
	if !slices.IsSortedFunc(feats, byID) {
		slices.SortFunc(feats, byID)
	}
	l := &Layer{Info: info}
	var bounds []orb.Bound
	l.slotAt, bounds = hilbertOrder(feats)
	l.slotOf = make([]int32, len(feats))
	// In slot order, so that a tile reads its features forward too.
	l.features = make([]geo.Feature, len(feats))
	bySlot := make([]orb.Bound, len(bounds))
	for slot, i := range l.slotAt {
		l.slotOf[i] = int32(slot)
		l.features[slot] = feats[i]
		bySlot[slot] = bounds[i]
	}
	compact(l.features)
	// The R-tree and the interning touch different data, so they run side
	// by side: building a layer is most of the time to load it.
	var wg sync.WaitGroup
	wg.Go(func() { l.index = rtree.New(bySlot) })
	l.intern()
	wg.Wait()
	return l
}

func byID(a, b geo.Feature) int { return cmp.Compare(a.ID, b.ID) }

// hilbertOrder lists the indexes of feats along a Hilbert curve through the
// centres of their bounds, and returns the bounds.
func hilbertOrder(feats []geo.Feature) ([]int32, []orb.Bound) {
	bounds := make([]orb.Bound, len(feats))
	var all orb.Bound
	for i, f := range feats {
		bounds[i] = f.Geometry.Bound()
		if i == 0 {
			all = bounds[i]
		} else {
			all = all.Union(bounds[i])
		}
	}
	const side = 1 << 16
	w, h := max(all.Max[0]-all.Min[0], 1e-300), max(all.Max[1]-all.Min[1], 1e-300)
	keys := make([]uint64, len(feats))
	for i, b := range bounds {
		c := b.Center()
		x := uint32(min(max((c[0]-all.Min[0])/w*side, 0), side-1))
		y := uint32(min(max((c[1]-all.Min[1])/h*side, 0), side-1))
		keys[i] = hilbert(side, x, y)
	}
	order := make([]int32, len(feats))
	for i := range order {
		order[i] = int32(i)
	}
	slices.SortFunc(order, func(a, b int32) int { return cmp.Or(cmp.Compare(keys[a], keys[b]), cmp.Compare(a, b)) })
	return order, bounds
}

// hilbert is the distance along the Hilbert curve filling an n by n grid (n
// a power of two) to cell x, y.
func hilbert(n, x, y uint32) uint64 {
	var d uint64
	for s := n / 2; s > 0; s /= 2 {
		var rx, ry uint32
		if x&s != 0 {
			rx = 1
		}
		if y&s != 0 {
			ry = 1
		}
		d += uint64(s) * uint64(s) * uint64((3*rx)^ry)
		if ry == 0 {
			if rx == 1 {
				x, y = n-1-x, n-1-y
			}
			x, y = y, x
		}
	}
	return d
}

// compact copies the coordinates of the features, in order, into one array,
// and their rings and parts into a few more: fewer objects for the
// collector to track, and neighbours in memory.
func compact(feats []geo.Feature) {
	var a arena
	for _, f := range feats {
		a.count(f.Geometry)
	}
	a.pts = make([]orb.Point, 0, a.npts)
	a.rings = make([]orb.Ring, 0, a.nrings)
	a.lines = make([]orb.LineString, 0, a.nlines)
	a.polys = make([]orb.Polygon, 0, a.npolys)
	for i := range feats {
		feats[i].Geometry = a.copy(feats[i].Geometry)
	}
}

// arena holds the coordinates, rings, lines and polygons of a layer's
// geometries. Every slice cut from it has its length as capacity, so that
// appending to one copies it instead of overwriting its neighbour.
type arena struct {
	pts                          []orb.Point
	rings                        []orb.Ring
	lines                        []orb.LineString
	polys                        []orb.Polygon
	npts, nrings, nlines, npolys int
}

func (a *arena) count(g orb.Geometry) {
	switch g := g.(type) {
	case orb.MultiPoint:
		a.npts += len(g)
	case orb.LineString:
		a.npts += len(g)
	case orb.Ring:
		a.npts += len(g)
	case orb.Polygon:
		a.nrings += len(g)
		for _, r := range g {
			a.npts += len(r)
		}
	case orb.MultiLineString:
		a.nlines += len(g)
		for _, ls := range g {
			a.npts += len(ls)
		}
	case orb.MultiPolygon:
		a.npolys += len(g)
		for _, p := range g {
			a.count(p)
		}
	case orb.Collection:
		for _, m := range g {
			a.count(m)
		}
	}
}

func (a *arena) points(ps []orb.Point) []orb.Point {
	if ps == nil {
		return nil
	}
	n := len(a.pts)
	a.pts = append(a.pts, ps...)
	return a.pts[n:len(a.pts):len(a.pts)]
}

func (a *arena) polygon(p orb.Polygon) orb.Polygon {
	if p == nil {
		return nil
	}
	n := len(a.rings)
	for _, r := range p {
		a.rings = append(a.rings, orb.Ring(a.points(r)))
	}
	return a.rings[n:len(a.rings):len(a.rings)]
}

func (a *arena) copy(g orb.Geometry) orb.Geometry {
	switch g := g.(type) {
	case orb.MultiPoint:
		return orb.MultiPoint(a.points(g))
	case orb.LineString:
		return orb.LineString(a.points(g))
	case orb.Ring:
		return orb.Ring(a.points(g))
	case orb.Polygon:
		return a.polygon(g)
	case orb.MultiLineString:
		if g == nil {
			return g
		}
		n := len(a.lines)
		for _, ls := range g {
			a.lines = append(a.lines, orb.LineString(a.points(ls)))
		}
		return orb.MultiLineString(a.lines[n:len(a.lines):len(a.lines)])
	case orb.MultiPolygon:
		if g == nil {
			return g
		}
		n := len(a.polys)
		for _, p := range g {
			a.polys = append(a.polys, a.polygon(p))
		}
		return orb.MultiPolygon(a.polys[n:len(a.polys):len(a.polys)])
	case orb.Collection:
		out := make(orb.Collection, len(g))
		for i, m := range g {
			out[i] = a.copy(m)
		}
		return out
	case orb.Point:
		// Boxed anew, the points of neighbouring slots lie together in
		// memory: where the store's decoder left them, a z16 tile's
		// points were scattered over the heap and reading them took 8%
		// of the server's building.
		return orb.Geometry(g)
	}
	return g // a Bound: rare
}

// intern shares the keys and values of the features' properties and builds
// the tag index, visiting the features by slot so that the tags and values
// of neighbours are neighbours too; it drops the features' maps.
func (l *Layer) intern() {
	keyAt := map[string]uint32{}
	nvals := 0
	for _, f := range l.features {
		for k, v := range f.Properties {
			if v != nil {
				nvals++
			}
			if _, ok := keyAt[k]; !ok {
				keyAt[k] = 0
				l.keys = append(l.keys, k)
			}
		}
	}
	slices.Sort(l.keys)
	for i, k := range l.keys {
		keyAt[k] = uint32(i)
	}
	in := newInterner(len(l.features))
	// Sized exactly: vals is most of the index, and grown by doubling it
	// would keep up to half again as much unused.
	l.tagAt = make([]uint32, 1, len(l.features)+1)
	l.keysetOf = make([]uint32, len(l.features))
	l.keysetAt = []uint32{0}
	vals := make([]uint32, 0, nvals)
	keysetID := map[string]uint32{}
	var pairs []uint32
	var setKey []byte
	for slot := range l.features {
		f := &l.features[slot]
		pairs = pairs[:0]
		var nils []uint32
		for k, v := range f.Properties {
			ki := keyAt[k]
			if v == nil {
				nils = append(nils, ki)
				continue
			}
			pairs = append(pairs, ki, in.value(v))
		}
		sortPairs(pairs)
		setKey = setKey[:0]
		for j := 0; j < len(pairs); j += 2 {
			setKey = binary.LittleEndian.AppendUint32(setKey, pairs[j])
			vals = append(vals, pairs[j+1])
		}
		ks, ok := keysetID[string(setKey)]
		if !ok {
			ks = uint32(len(l.keysetAt) - 1)
			keysetID[string(setKey)] = ks
			for j := 0; j < len(pairs); j += 2 {
				l.keysets = append(l.keysets, pairs[j])
			}
			l.keysetAt = append(l.keysetAt, uint32(len(l.keysets)))
		}
		l.keysetOf[slot] = ks
		if nils != nil {
			slices.Sort(nils)
			if l.nils == nil {
				l.nils = map[int32][]uint32{}
			}
			l.nils[int32(slot)] = nils
		}
		f.Properties = nil
		l.tagAt = append(l.tagAt, uint32(len(vals)))
	}
	l.vals = vals
	l.values = in.vs
	l.values.msgs, l.values.at = fit(l.values.msgs), fit(l.values.at)
}

// fit returns s, or a copy of it without the spare capacity that growing
// it by doubling left, when that is more than an eighth.
func fit[E any](s []E) []E {
	if cap(s)-len(s) > len(s)/8 {
		return slices.Clone(s)
	}
	return s
}

// sortPairs sorts pairs of uint32 by their first element: a handful of
// properties, so an insertion sort.
func sortPairs(p []uint32) {
	for i := 2; i < len(p); i += 2 {
		for j := i; j > 0 && p[j-2] > p[j]; j -= 2 {
			p[j-2], p[j-1], p[j], p[j+1] = p[j], p[j+1], p[j-2], p[j-1]
		}
	}
}

// Len is the number of features.
func (l *Layer) Len() int { return len(l.features) }

// At returns the i-th feature in id order; it must not be modified. Its
// Properties are nil: read them with Value, Props or Properties.
func (l *Layer) At(i int) *geo.Feature { return &l.features[l.slotOf[i]] }

// Index returns the index in id order of the feature with the given id.
func (l *Layer) Index(id uint64) (int, bool) {
	return sort.Find(len(l.slotOf), func(i int) int { return cmp.Compare(id, l.features[l.slotOf[i]].ID) })
}

// Value returns the value of the i-th feature's property key, and whether
// the feature has that property (a nil value counts as had).
func (l *Layer) Value(i int, key string) (any, bool) {
	s, ok := l.Scalar(i, key)
	return s.Value(), ok
}

// Scalar is Value without the interface: for readers of many values.
func (l *Layer) Scalar(i int, key string) (Scalar, bool) {
	ki, ok := slices.BinarySearch(l.keys, key)
	if !ok {
		return Scalar{}, false
	}
	slot := l.slotOf[i]
	// A handful of tags, in key order: a scan beats a search.
	t := l.SlotTags(slot)
	for j, k := range t.Keys {
		if k == uint32(ki) {
			return l.values.scalar(t.Values[j]), true
		}
		if k > uint32(ki) {
			break
		}
	}
	if l.nils != nil && slices.Contains(l.nils[slot], uint32(ki)) {
		return Scalar{}, true
	}
	return Scalar{}, false
}

// NumProperties is the number of properties of the i-th feature, nil
// values included.
func (l *Layer) NumProperties(i int) int {
	slot := l.slotOf[i]
	n := len(l.SlotTags(slot).Keys)
	if l.nils != nil {
		n += len(l.nils[slot])
	}
	return n
}

// Props yields the properties of the i-th feature, nil values included, in
// key order.
func (l *Layer) Props(i int) iter.Seq2[string, any] {
	return func(yield func(string, any) bool) {
		slot := l.slotOf[i]
		t := l.SlotTags(slot)
		keys, vals := t.Keys, t.Values
		var nils []uint32
		if l.nils != nil {
			nils = l.nils[slot]
		}
		for len(keys) > 0 || len(nils) > 0 {
			var k uint32
			var v any
			if len(nils) > 0 && (len(keys) == 0 || nils[0] < keys[0]) {
				k, nils = nils[0], nils[1:]
			} else {
				k, v, keys, vals = keys[0], l.values.scalar(vals[0]).Value(), keys[1:], vals[1:]
			}
			if !yield(l.keys[k], v) {
				return
			}
		}
	}
}

// Properties returns a new map of the i-th feature's properties, nil when it
// has none: for the few readers that need a map, as the layer keeps none.
func (l *Layer) Properties(i int) map[string]any {
	n := l.NumProperties(i)
	if n == 0 {
		return nil
	}
	m := make(map[string]any, n)
	for k, v := range l.Props(i) {
		m[k] = v
	}
	return m
}

// Feature returns the feature with the given id; its Properties are nil.
func (l *Layer) Feature(id uint64) (*geo.Feature, bool) {
	i, ok := l.Index(id)
	if !ok {
		return nil, false
	}
	return l.At(i), true
}

// Search calls fn, in no particular order, for each feature whose bounds
// intersect b, and perhaps a few whose bounds miss it by less than a metre
// (see geo/rtree), until fn returns false. Callers test the geometry itself
// when they need more than that.
func (l *Layer) Search(b orb.Bound, fn func(i int, f *geo.Feature) bool) {
	l.index.Search(b, func(slot int32) bool {
		return fn(int(l.slotAt[slot]), &l.features[slot])
	})
}

// SearchSlots is Search by slot, in increasing order of slot.
func (l *Layer) SearchSlots(b orb.Bound, fn func(slot int32) bool) {
	l.index.Search(b, fn)
}

// SlotBound is the bound of the feature in a slot as the index holds it: each
// side moved out by less than a float32 step (about a metre at Hong Kong's
// longitude), so a tile can decide on a feature without reading its
// coordinates for their bound.
func (l *Layer) SlotBound(slot int32) orb.Bound { return l.index.Bound(slot) }

// SlotFeature returns the feature in a slot; it must not be modified. Its
// Properties are nil.
func (l *Layer) SlotFeature(slot int32) *geo.Feature { return &l.features[slot] }

// Keys is every property name of the layer, sorted: what the key indexes of
// SlotTags refer to. It must not be modified.
func (l *Layer) Keys() []string { return l.keys }

// TileValue is the value with index v (see SlotTags) as a tile writes it:
// an MVT Value message, which must not be modified, and the index of the
// first value with the same message, v but for a time (or a value outside
// the feature model) written as the text of a string value. A tile writes
// each message once.
func (l *Layer) TileValue(v uint32) (uint32, []byte) {
	if w, ok := l.values.alias[v]; ok {
		v = w
	}
	return v, l.values.msg(v)
}

// NumValues is the number of distinct property values, which the value
// indexes of SlotTags are under.
func (l *Layer) NumValues() int { return l.values.len() }

// Tags are the properties of a feature as indexes: Keys into Layer.Keys, in
// order, and Values, one for each key, value indexes (see TileValue). Nil values are
// left out. Neither may be modified.
type Tags struct{ Keys, Values []uint32 }

// SlotTags is the properties of the feature in a slot: the tile encoder
// writes them from these indexes, and tiles of neighbouring features share
// the key lists.
func (l *Layer) SlotTags(slot int32) Tags {
	s, e := l.tagAt[slot], l.tagAt[slot+1]
	k := l.keysetOf[slot]
	return Tags{Keys: l.keysets[l.keysetAt[k]:l.keysetAt[k+1]:l.keysetAt[k+1]], Values: l.vals[s:e:e]}
}
