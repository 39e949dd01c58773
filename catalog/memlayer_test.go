package catalog_test

import (
	"math"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/gogo/protobuf/proto"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/mvt/vectortile"

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
		{"values of every type", []geo.Feature{
			{ID: 1, Geometry: orb.Point{114, 22}, Properties: map[string]any{"s": "2024-03-01", "n": int64(-7), "big": int64(1) << 40, "f": math.Inf(-1)}},
			{ID: 2, Geometry: orb.Point{114, 22}, Properties: map[string]any{"d": day, "dt": time.Date(2024, 3, 1, 9, 30, 0, 5, time.FixedZone("HKT", 8*3600))}},
			{ID: 3, Geometry: orb.Point{114, 22}, Properties: map[string]any{"d": day, "s": "2024-03-01T09:30:00.000000005+08:00", "n": int64(-1) << 62}},
			{ID: 4, Geometry: orb.Point{114, 22}, Properties: map[string]any{"s": "", "f": math.MaxFloat64, "n": int64(4095), "m": int64(4096), "e": "公廁"}},
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
			keys := l.Keys()
			if !slices.IsSorted(keys) {
				t.Errorf("keys %v not sorted", keys)
			}
			for slot := range int32(l.Len()) {
				f := l.SlotFeature(slot)
				if seen[f.ID] {
					t.Fatalf("feature %d in two slots", f.ID)
				}
				seen[f.ID] = true
				// The index's bound holds the geometry, a float32 step
				// (under 1e-5 degrees here) larger at most.
				if b, ob := f.Geometry.Bound(), l.SlotBound(slot); !ob.Contains(b.Min) || !ob.Contains(b.Max) || !b.Pad(1e-5).Contains(ob.Min) || !b.Pad(1e-5).Contains(ob.Max) {
					t.Errorf("feature %d: SlotBound %v for a geometry bound %v", f.ID, ob, b)
				}
				got := map[string]any{}
				tags := l.SlotTags(slot)
				if len(tags.Keys) != len(tags.Values) {
					t.Fatalf("feature %d: %d keys for %d values", f.ID, len(tags.Keys), len(tags.Values))
				}
				for j, k := range tags.Keys {
					if j > 0 && k <= tags.Keys[j-1] {
						t.Errorf("feature %d: keys %v not in order", f.ID, tags.Keys)
					}
					_, msg := l.TileValue(tags.Values[j])
					got[keys[k]] = decodeValue(t, msg)
				}
				wantTags := map[string]any{}
				for k, v := range byID[f.ID].Properties {
					switch v := v.(type) {
					case nil:
					case time.Time: // MVT has no time type
						if v.Hour() == 0 && v.Minute() == 0 && v.Second() == 0 && v.Location() == time.UTC {
							wantTags[k] = v.Format("2006-01-02")
						} else {
							wantTags[k] = v.Format(time.RFC3339Nano)
						}
					default:
						wantTags[k] = v
					}
				}
				if !reflect.DeepEqual(got, wantTags) {
					t.Errorf("feature %d: tags read %v, want %v", f.ID, got, wantTags)
				}
			}
			// Values are numbered by type and bits: 1 and 1.0 and "1"
			// differ, and so do 0.0 and -0.0; a message is written once
			// for a tile, a date and a string of the same text sharing
			// the first value's.
			first := map[string]uint32{}
			for v := range uint32(l.NumValues()) {
				c, msg := l.TileValue(v)
				w, ok := first[string(msg)]
				if !ok {
					first[string(msg)], w = v, v
				}
				if c != w {
					t.Errorf("value %d: tile value %d, want %d, the first with message %x", v, c, w, msg)
				}
			}
		})
	}
}

// decodeValue reads an MVT Value message with the protobuf decoder of
// orb's vector_tile.proto.
func decodeValue(t *testing.T, msg []byte) any {
	t.Helper()
	var v vectortile.Tile_Value
	if err := proto.Unmarshal(msg, &v); err != nil {
		t.Fatalf("value %x: %v", msg, err)
	}
	switch {
	case v.StringValue != nil:
		return *v.StringValue
	case v.DoubleValue != nil:
		return *v.DoubleValue
	case v.IntValue != nil:
		return *v.IntValue
	case v.SintValue != nil:
		return *v.SintValue
	case v.BoolValue != nil:
		return *v.BoolValue
	}
	t.Fatalf("value %x: no field set", msg)
	return nil
}
