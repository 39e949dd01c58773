package tiles

import (
	"math"
	"slices"
	"testing"
	"time"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/mvt/vectortile"

	"github.com/csdi-hk/csdi/catalog"
	"github.com/csdi-hk/csdi/geo"
)

// encodeOne encodes g as the only feature of a layer and decodes it back.
func encodeOne(t *testing.T, g orb.Geometry) *vectortile.Tile_Feature {
	t.Helper()
	e := newLayerEncoder("l", 4096)
	if !e.add(1, g, catalog.Tags{}) {
		return nil
	}
	tile := decodeTile(t, e.appendLayer(nil))
	if len(tile.Layers) != 1 || len(tile.Layers[0].Features) != 1 {
		t.Fatalf("want one layer with one feature, got %v", tile)
	}
	return tile.Layers[0].Features[0]
}

// The command streams are the worked examples of the MVT 2.1 specification,
// section 4.3.5; the multi-geometries check that the cursor carries on
// across parts and rings.
func TestEncodeSpecExamples(t *testing.T) {
	tests := []struct {
		name string
		g    orb.Geometry
		typ  vectortile.Tile_GeomType
		want []uint32
	}{
		{"point", orb.Point{25, 17}, vectortile.Tile_POINT, []uint32{9, 50, 34}},
		{"multipoint", orb.MultiPoint{{5, 7}, {3, 2}}, vectortile.Tile_POINT, []uint32{17, 10, 14, 3, 9}},
		{"linestring", orb.LineString{{2, 2}, {2, 10}, {10, 10}}, vectortile.Tile_LINESTRING, []uint32{9, 4, 4, 18, 0, 16, 16, 0}},
		{"multilinestring", orb.MultiLineString{{{2, 2}, {2, 10}, {10, 10}}, {{1, 1}, {3, 5}}}, vectortile.Tile_LINESTRING,
			[]uint32{9, 4, 4, 18, 0, 16, 16, 0, 9, 17, 17, 10, 4, 8}},
		{"polygon", orb.Polygon{{{3, 6}, {8, 12}, {20, 34}, {3, 6}}}, vectortile.Tile_POLYGON, []uint32{9, 6, 12, 18, 10, 12, 24, 44, 15}},
		{"multipolygon", orb.MultiPolygon{
			{{{0, 0}, {10, 0}, {10, 10}, {0, 10}, {0, 0}}},
			{{{11, 11}, {20, 11}, {20, 20}, {11, 20}, {11, 11}}, {{13, 13}, {13, 17}, {17, 17}, {17, 13}, {13, 13}}},
		}, vectortile.Tile_POLYGON, []uint32{9, 0, 0, 26, 20, 0, 0, 20, 19, 0, 15, 9, 22, 2, 26, 18, 0, 0, 18, 17, 0, 15, 9, 4, 13, 26, 0, 8, 8, 0, 0, 7, 15}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := encodeOne(t, tt.g)
			if f.GetType() != tt.typ {
				t.Errorf("type = %v, want %v", f.GetType(), tt.typ)
			}
			if !slices.Equal(f.Geometry, tt.want) {
				t.Errorf("geometry = %v\nwant       %v", f.Geometry, tt.want)
			}
			if f.GetId() != 1 {
				t.Errorf("id = %d, want 1", f.GetId())
			}
		})
	}
}

// Each case states one MVT 2.1 rule on input that breaks it, and checks the
// decoded command stream (decodeGeometry also checks every stream for zero-
// length LineTo and repeated closing points).
func TestEncodeRules(t *testing.T) {
	// Squares wound counter-clockwise on screen, the wrong way for an
	// exterior ring in tile coordinates.
	ccw := func(x, y, s float64) orb.Ring {
		return orb.Ring{{x, y}, {x, y + s}, {x + s, y + s}, {x + s, y}, {x, y}}
	}
	cw := func(x, y, s float64) orb.Ring {
		r := ccw(x, y, s)
		slices.Reverse(r)
		return r
	}
	signs := func(parts []part) []int {
		var s []int
		for _, r := range parts {
			s = append(s, int(math.Copysign(1, area(r))))
		}
		return s
	}
	tests := []struct {
		name  string
		g     orb.Geometry
		check func(t *testing.T, parts []part)
	}{
		{"exterior ring gets positive area", orb.Polygon{ccw(0, 0, 10)}, func(t *testing.T, parts []part) {
			if len(parts) != 1 || area(parts[0]) != 100 {
				t.Errorf("rings %v: want one ring of area +100", parts)
			}
		}},
		{"hole gets negative area and follows its exterior", orb.Polygon{cw(0, 0, 10), cw(2, 2, 3)}, func(t *testing.T, parts []part) {
			if got := signs(parts); !slices.Equal(got, []int{1, -1}) || area(parts[1]) != -9 {
				t.Errorf("ring signs %v (%v): want [1 -1], hole area -9", got, parts)
			}
		}},
		{"holes stay after their own exterior", orb.MultiPolygon{
			{ccw(0, 0, 10), ccw(2, 2, 3)},
			{cw(20, 0, 10), ccw(22, 2, 2), cw(26, 6, 2)},
		}, func(t *testing.T, parts []part) {
			if got := signs(parts); !slices.Equal(got, []int{1, -1, 1, -1, -1}) {
				t.Errorf("ring signs %v: want [1 -1 1 -1 -1]", got)
			}
			if parts[2][0][0] < 20 || parts[3][0][0] < 20 {
				t.Errorf("second polygon's rings out of place: %v", parts)
			}
		}},
		{"coordinates are rounded, not truncated", orb.MultiPoint{{0.6, 0.6}, {2.5, -0.5}, {2.49, 3.51}, {-0.6, 7.4}}, func(t *testing.T, parts []part) {
			want := part{{1, 1}, {3, -1}, {2, 4}, {-1, 7}}
			if len(parts) != 1 || !slices.Equal(parts[0], want) {
				t.Errorf("points %v, want %v", parts, want)
			}
		}},
		{"no zero-length segments", orb.LineString{{0, 0}, {0, 0}, {0.2, 0.3}, {5, 5}, {5.4, 5}, {4.6, 5.2}, {10, 10}}, func(t *testing.T, parts []part) {
			want := part{{0, 0}, {5, 5}, {10, 10}}
			if len(parts) != 1 || !slices.Equal(parts[0], want) {
				t.Errorf("line %v, want %v", parts, want)
			}
		}},
		{"no repeated closing point", orb.Polygon{{{0, 0}, {10, 0}, {10, 10}, {0, 10}, {0.3, 0.2}, {0, 0}}}, func(t *testing.T, parts []part) {
			if len(parts) != 1 || len(parts[0]) != 4 {
				t.Errorf("ring %v: want the 4 corners once each", parts)
			}
		}},
		{"hole collapsed by rounding is dropped", orb.Polygon{cw(0, 0, 10), {{1, 1}, {1.2, 5}, {1.1, 9}, {0.9, 5}, {1, 1}}}, func(t *testing.T, parts []part) {
			if len(parts) != 1 {
				t.Errorf("rings %v: want only the exterior", parts)
			}
		}},
		{"polygon whose exterior collapses is dropped with its holes", orb.MultiPolygon{
			{{{0, 0}, {0.2, 0}, {0.4, 0.3}, {0, 0}}, ccw(0, 0, 10)},
			{cw(20, 0, 10)},
		}, func(t *testing.T, parts []part) {
			if len(parts) != 1 || area(parts[0]) != 100 || parts[0][0][0] < 20 {
				t.Errorf("rings %v: want only the second polygon", parts)
			}
		}},
		{"ring of zero area is dropped", orb.MultiPolygon{{{{0, 0}, {5, 5}, {10, 10}, {0, 0}}}, {cw(20, 0, 10)}}, func(t *testing.T, parts []part) {
			if len(parts) != 1 {
				t.Errorf("rings %v: want only the second polygon", parts)
			}
		}},
		{"line collapsed to a point is dropped", orb.MultiLineString{{{1, 1}, {1.2, 0.9}}, {{0, 0}, {3, 4}}}, func(t *testing.T, parts []part) {
			if len(parts) != 1 || !slices.Equal(parts[0], part{{0, 0}, {3, 4}}) {
				t.Errorf("lines %v: want only the second", parts)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := encodeOne(t, tt.g)
			if f == nil {
				t.Fatal("feature dropped")
			}
			tt.check(t, decodeGeometry(t, f.GetType(), f.Geometry))
		})
	}
}

func TestEncodeDropsEmptyFeature(t *testing.T) {
	e := newLayerEncoder("l", 4096)
	e.setLayer(catalog.NewLayer(catalog.LayerInfo{ID: "l"}, []geo.Feature{{ID: 1, Geometry: orb.Point{}, Properties: map[string]any{"a": "b"}}}), nil)
	for _, g := range []orb.Geometry{
		orb.Polygon{{{0, 0}, {0.3, 0}, {0.3, 0.3}, {0, 0}}},
		orb.LineString{{0, 0}, {0.4, 0.4}},
		orb.MultiPoint{},
		orb.MultiPolygon{},
	} {
		if e.add(1, g, catalog.Tags{Keys: []uint32{0}, Values: []uint32{0}}) {
			t.Errorf("%v: added, want dropped", g)
		}
	}
	if out := e.appendLayer(nil); len(out) != 0 {
		t.Errorf("layer without features encoded as %d bytes, want none", len(out))
	}
}

func TestEncodeLayer(t *testing.T) {
	date := time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC)
	hkt := time.FixedZone("HKT", 8*3600)
	e := newLayerEncoder("toilets", 4096)
	feats := []struct {
		id    uint64
		props map[string]any
	}{
		{7, map[string]any{"name": "公廁", "n": int64(1), "neg": int64(-7), "f": 1.0, "b": true, "d": date,
			"dt": time.Date(2024, 3, 1, 9, 30, 0, 0, hkt), "null": nil}},
		{1 << 40, map[string]any{"name": "公廁", "n": int64(1), "f": 2.5, "b": false, "s": "1", "ds": "2024-03-01"}},
		{9, map[string]any{"name": "Public toilet", "n": int64(1), "f": 1.0}},
	}
	// The properties as the catalog indexes them, encoded in the order
	// above rather than the layer's id order.
	var gf []geo.Feature
	for _, f := range feats {
		gf = append(gf, geo.Feature{ID: f.id, Geometry: orb.Point{}, Properties: f.props})
	}
	cl := catalog.NewLayer(catalog.LayerInfo{ID: "toilets"}, gf)
	e.setLayer(cl, nil)
	for i, f := range feats {
		slot := int32(0)
		for cl.SlotFeature(slot).ID != f.id {
			slot++
		}
		if !e.add(f.id, orb.Point{float64(i), 1}, cl.SlotTags(slot)) {
			t.Fatalf("feature %d dropped", f.id)
		}
	}
	tile := decodeTile(t, e.appendLayer(nil))
	if len(tile.Layers) != 1 {
		t.Fatalf("%d layers, want 1", len(tile.Layers))
	}
	l := tile.Layers[0]
	if l.GetVersion() != 2 || l.Version == nil {
		t.Errorf("version = %v, want 2 set explicitly", l.Version)
	}
	if l.GetName() != "toilets" || l.GetExtent() != 4096 || l.Extent == nil {
		t.Errorf("name %q extent %v", l.GetName(), l.Extent)
	}
	wantKeys := []string{"b", "d", "ds", "dt", "f", "n", "name", "neg", "s"}
	got := slices.Clone(l.Keys)
	slices.Sort(got)
	if !slices.Equal(got, wantKeys) {
		t.Errorf("keys %v, want each of %v once", l.Keys, wantKeys)
	}
	// true, false, 1.0, 2.5, int 1, -7, 公廁, Public toilet, "1", the date
	// (and the string of its text: the same MVT value), the date-time.
	if len(l.Values) != 11 {
		t.Errorf("%d values, want 11 distinct: %v", len(l.Values), l.Values)
	}
	want := []map[string]any{
		{"name": "公廁", "n": int64(1), "neg": int64(-7), "f": 1.0, "b": true, "d": "2024-03-01", "dt": "2024-03-01T09:30:00+08:00"},
		{"name": "公廁", "n": int64(1), "f": 2.5, "b": false, "s": "1", "ds": "2024-03-01"},
		{"name": "Public toilet", "n": int64(1), "f": 1.0},
	}
	for i, f := range l.Features {
		if f.GetId() != feats[i].id {
			t.Errorf("feature %d: id %d, want %d", i, f.GetId(), feats[i].id)
		}
		got := tags(t, l, f)
		if len(got) != len(want[i]) {
			t.Errorf("feature %d: tags %v, want %v", i, got, want[i])
		}
		for k, v := range want[i] {
			if got[k] != v {
				t.Errorf("feature %d: %s = %#v, want %#v", i, k, got[k], v)
			}
		}
	}
	// Non-negative integers go in int_value, negative ones in sint_value.
	for _, v := range l.Values {
		if v.IntValue != nil && *v.IntValue < 0 || v.SintValue != nil && *v.SintValue >= 0 {
			t.Errorf("integer value %v in the wrong field", v)
		}
	}
}
