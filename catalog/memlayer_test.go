package catalog_test

import (
	"math"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/paulmach/orb"

	"github.com/csdi-hk/csdi/catalog"
	"github.com/csdi-hk/csdi/geo"
)

// cloneFeature copies a feature deeply enough that NewLayer cannot change
// the copy.
func cloneFeature(f geo.Feature) geo.Feature {
	g := orb.Clone(f.Geometry)
	var props map[string]any
	if f.Properties != nil {
		props = make(map[string]any, len(f.Properties))
		for k, v := range f.Properties {
			props[k] = v
		}
	}
	return geo.Feature{ID: f.ID, Geometry: g, Properties: props}
}

// NewLayer moves coordinates and shares property values, but every feature
// reads back as it was given, whatever its geometry type; each is in one
// slot; and the tags of each slot are its non-nil properties, with values
// numbered by type and bits.
func TestNewLayerKeepsFeatures(t *testing.T) {
	day := time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC)
	ring := orb.Ring{{114.1, 22.3}, {114.2, 22.3}, {114.2, 22.4}, {114.1, 22.3}}
	hole := orb.Ring{{114.12, 22.32}, {114.13, 22.33}, {114.14, 22.32}, {114.12, 22.32}}
	tests := []struct {
		name  string
		feats []geo.Feature
	}{
		{"every geometry type", []geo.Feature{
			{ID: 9, Geometry: orb.Point{114.17, 22.3}, Properties: map[string]any{"a": "x", "n": int64(1)}},
			{ID: 3, Geometry: orb.MultiPoint{{114.1, 22.2}, {114.11, 22.21}}, Properties: map[string]any{"a": "x", "n": 1.0}},
			{ID: 4, Geometry: orb.LineString{{114.1, 22.2}, {114.3, 22.5}}, Properties: map[string]any{"a": "y", "null": nil}},
			{ID: 5, Geometry: orb.MultiLineString{{{114.1, 22.2}, {114.3, 22.5}}, {{113.9, 22.1}, {114, 22.0}}}},
			{ID: 6, Geometry: orb.Polygon{ring, hole}, Properties: map[string]any{"d": day, "b": true}},
			{ID: 7, Geometry: orb.MultiPolygon{{ring}, {hole}}, Properties: map[string]any{"b": false, "z": math.Copysign(0, -1)}},
			{ID: 8, Geometry: orb.Collection{orb.Point{114, 22}, orb.LineString{{114, 22}, {114.1, 22.1}}}, Properties: map[string]any{"z": 0.0}},
			{ID: 1, Geometry: orb.Bound{Min: orb.Point{114, 22}, Max: orb.Point{114.1, 22.1}}, Properties: map[string]any{}},
			{ID: 2, Geometry: orb.Ring(slices.Clone(ring)), Properties: map[string]any{"n": int64(1), "a": "y"}},
		}},
		{"many points", func() []geo.Feature {
			var fs []geo.Feature
			for i := range 500 {
				p := orb.Point{114 + float64(i%37)/100, 22 + float64(i%23)/100}
				fs = append(fs, geo.Feature{ID: uint64(1000 - i), Geometry: p, Properties: map[string]any{"k": int64(i % 7), "s": string(rune('a' + i%5))}})
			}
			return fs
		}()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want := make([]geo.Feature, len(tt.feats))
			for i, f := range tt.feats {
				want[i] = cloneFeature(f)
			}
			slices.SortFunc(want, func(a, b geo.Feature) int { return int(a.ID) - int(b.ID) })
			l := catalog.NewLayer(catalog.LayerInfo{ID: "t"}, tt.feats)
			if l.Len() != len(want) {
				t.Fatalf("%d features, want %d", l.Len(), len(want))
			}
			byID := map[uint64]geo.Feature{}
			for i, w := range want {
				byID[w.ID] = w
				got := l.At(i)
				if got.ID != w.ID || !reflect.DeepEqual(got.Geometry, w.Geometry) {
					t.Errorf("feature %d reads back as %#v, want %#v", i, *got, w)
				}
				// The layer keeps no map per feature: its methods read
				// the properties back.
				if got.Properties != nil {
					t.Errorf("feature %d keeps a properties map %v", i, got.Properties)
				}
				wantProps := w.Properties
				if len(wantProps) == 0 {
					wantProps = nil
				}
				if p := l.Properties(i); !reflect.DeepEqual(p, wantProps) {
					t.Errorf("feature %d: Properties %#v, want %#v", i, p, wantProps)
				}
				if n := l.NumProperties(i); n != len(w.Properties) {
					t.Errorf("feature %d: NumProperties %d, want %d", i, n, len(w.Properties))
				}
				for k, wv := range w.Properties {
					if v, ok := l.Value(i, k); !ok || !reflect.DeepEqual(v, wv) {
						t.Errorf("feature %d: Value(%q) = %#v, %v, want %#v, true", i, k, v, ok, wv)
					}
				}
				for _, k := range []string{"", "absent", "zz"} {
					if v, ok := l.Value(i, k); ok {
						t.Errorf("feature %d: Value(%q) = %#v, true, want none", i, k, v)
					}
				}
				var order []string
				for k := range l.Props(i) {
					order = append(order, k)
				}
				if !slices.IsSorted(order) || len(order) != len(w.Properties) {
					t.Errorf("feature %d: Props yields keys %q, want the %d keys sorted", i, order, len(w.Properties))
				}
				if j, ok := l.Index(w.ID); !ok || j != i {
					t.Errorf("Index(%d) = %d, %v, want %d, true", w.ID, j, ok, i)
				}
			}
			seen := map[uint64]bool{}
			keys, values := l.Keys(), l.Values()
			if !slices.IsSorted(keys) {
				t.Errorf("keys %v not sorted", keys)
			}
			for slot := range int32(l.Len()) {
				f := l.SlotFeature(slot)
				if seen[f.ID] {
					t.Fatalf("feature %d in two slots", f.ID)
				}
				seen[f.ID] = true
				got := map[string]any{}
				tags := l.SlotTags(slot)
				if len(tags.Keys) != len(tags.Values) {
					t.Fatalf("feature %d: %d keys for %d values", f.ID, len(tags.Keys), len(tags.Values))
				}
				for j, k := range tags.Keys {
					if j > 0 && k <= tags.Keys[j-1] {
						t.Errorf("feature %d: keys %v not in order", f.ID, tags.Keys)
					}
					got[keys[k]] = values[tags.Values[j]]
				}
				wantTags := map[string]any{}
				for k, v := range byID[f.ID].Properties {
					if v != nil {
						wantTags[k] = v
					}
				}
				if !reflect.DeepEqual(got, wantTags) {
					t.Errorf("feature %d: tags read %v, want %v", f.ID, got, wantTags)
				}
			}
			// Values are numbered by type and bits: 1 and 1.0 and "1"
			// differ, and so do 0.0 and -0.0.
			for i, a := range values {
				for _, b := range values[i+1:] {
					if reflect.TypeOf(a) == reflect.TypeOf(b) {
						if x, ok := a.(float64); ok && math.Float64bits(x) == math.Float64bits(b.(float64)) || !ok && a == b {
							t.Errorf("value %#v numbered twice", a)
						}
					}
				}
			}
		})
	}
}
