// Package storetest is the contract every catalog.Store passes: the
// PostGIS store and the GeoPackage store run the same Run, so a behaviour
// the Catalog relies on cannot drift between them.
package storetest

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"iter"
	"math"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/paulmach/orb"

	"github.com/csdi-hk/csdi/catalog"
	"github.com/csdi-hk/csdi/geo"
)

// Run runs the contract suite. open returns a fresh, empty store on each call;
// Run closes it when the subtest ends.
//
// Besides what catalog.Store's comments say, the suite holds a store to:
//   - values read back as the type of their field (geo.Widen: an integer in a
//     number field reads as float64, anything in a string field as its text,
//     e.g. "true", "1.5"); date-times to the millisecond (GeoPackage keeps no
//     more); a nil property and an absent one are the same;
//   - any property name: "fid", "geom", names that differ only in case,
//     quotes, names longer than 63 bytes;
//   - Layers ordered by id in byte order (as Go compares strings);
//   - a version never reused, even by a layer deleted and made again;
//   - the error of the features stream and of a cancelled context wrapped
//     (errors.Is) in ReplaceLayer's error, and each's error in ReadLayer's;
//   - Rollback to the current version allowed (a new version, same content).
//
// open's keep is the number of versions the store must keep (its Options.Keep;
// 0 for the default, catalog.DefaultKeep).
func Run(t *testing.T, open func(t *testing.T, keep int) catalog.Store) {
	fresh := func(t *testing.T, keep int) catalog.Store {
		t.Helper()
		s := open(t, keep)
		t.Cleanup(func() {
			if err := s.Close(); err != nil {
				t.Errorf("close store: %v", err)
			}
		})
		return s
	}
	for _, tc := range []struct {
		name string
		fn   func(t *testing.T, s catalog.Store)
		keep int
	}{
		{"Ping", testPing, 0},
		{"Empty", testEmpty, 0},
		{"Values", testValues, 0},
		{"Widening", testWidening, 0},
		{"AwkwardNames", testAwkwardNames, 0},
		{"Geometries", testGeometries, 0},
		{"OrderAndSummary", testOrderAndSummary, 0},
		{"EmptyLayer", testEmptyLayer, 0},
		{"Metadata", testMetadata, 0},
		{"Version", testVersion, 0},
		{"LayersOrder", testLayersOrder, 0},
		{"Delete", testDelete, 0},
		{"InvalidID", testInvalidID, 0},
		{"ReadStops", testReadStops, 0},
		{"Atomicity", testAtomicity, 0},
		{"ConcurrentReader", testConcurrentReader, 0},
		{"Many", testMany, 0},
		{"History", testHistory, 3},
		{"KeepDefault", testKeepDefault, 0},
		{"KeepOne", testKeepOne, 1},
		{"Rollback", testRollback, 3},
		{"UpdateInfo", testUpdateInfo, 3},
		{"DeleteHistory", testDeleteHistory, 0},
		{"TileOptions", testTileOptions, 0},
		{"TileOptionsInvalid", testTileOptionsInvalid, 0},
		{"Tokens", testTokens, 0},
	} {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, fresh(t, tc.keep)) })
	}
}

func ctxFor(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// seq turns a slice into the stream ReplaceLayer takes.
func seq(feats []geo.Feature) iter.Seq2[geo.Feature, error] {
	return func(yield func(geo.Feature, error) bool) {
		for _, f := range feats {
			if !yield(f, nil) {
				return
			}
		}
	}
}

func replace(t *testing.T, s catalog.Store, info catalog.LayerInfo, feats []geo.Feature) catalog.LayerInfo {
	t.Helper()
	got, err := s.ReplaceLayer(ctxFor(t), info, seq(feats))
	if err != nil {
		t.Fatalf("replace layer %q: %v", info.ID, err)
	}
	return got
}

func read(t *testing.T, s catalog.Store, id string) (catalog.LayerInfo, []geo.Feature) {
	t.Helper()
	var feats []geo.Feature
	info, err := s.ReadLayer(ctxFor(t), id, func(f geo.Feature) error {
		feats = append(feats, f)
		return nil
	})
	if err != nil {
		t.Fatalf("read layer %q: %v", id, err)
	}
	return info, feats
}

func pt(x, y float64) orb.Point { return orb.Point{x, y} }

// point returns a feature at a place in Hong Kong derived from id, so every
// feature of a test layer is different.
func point(id uint64, props map[string]any) geo.Feature {
	return geo.Feature{ID: id, Geometry: pt(114.1+float64(id)*1e-6, 22.3-float64(id)*1e-6), Properties: props}
}

func testPing(t *testing.T, s catalog.Store) {
	if err := s.Ping(ctxFor(t)); err != nil {
		t.Fatalf("ping: %v", err)
	}
}

func testEmpty(t *testing.T, s catalog.Store) {
	ls, err := s.Layers(ctxFor(t))
	if err != nil {
		t.Fatalf("layers: %v", err)
	}
	if len(ls) != 0 {
		t.Fatalf("a fresh store lists %d layers, want 0", len(ls))
	}
	_, err = s.ReadLayer(ctxFor(t), "nothing", func(geo.Feature) error { return nil })
	if !errors.Is(err, catalog.ErrNotFound) {
		t.Fatalf("read of a missing layer: got %v, want ErrNotFound", err)
	}
}

var (
	hkt      = time.FixedZone("HKT", 8*3600)
	day      = time.Date(2024, 2, 29, 0, 0, 0, 0, time.UTC)
	moment   = time.Date(2024, 7, 1, 9, 30, 15, 250_000_000, hkt) // a date-time, kept to the millisecond
	momentTZ = time.Date(1997, 6, 30, 23, 59, 59, 0, time.UTC)
)

func testValues(t *testing.T, s catalog.Store) {
	in := []geo.Feature{
		point(1, map[string]any{
			"名稱": "中西區", "text": "it's \"quoted\"\nand 🙂", "empty": "",
			"count": int64(42), "big": int64(math.MaxInt64), "small": int64(math.MinInt64),
			"ratio": 0.1, "huge": -1.5e300, "open": true, "closed": false,
			"day": day, "at": moment, "null": nil,
		}),
		point(2, map[string]any{
			"名稱": "灣仔區", "text": "", "empty": nil,
			"count": int64(-7), "big": int64(0), "small": nil,
			"ratio": 1e-300, "huge": 2.0, "open": false, "closed": nil,
			"day": time.Date(1841, 1, 26, 0, 0, 0, 0, time.UTC), "at": momentTZ, "null": nil,
		}),
		point(3, nil),
	}
	info := replace(t, s, catalog.LayerInfo{ID: "values", Title: "Values"}, in)

	want := []geo.Field{
		{Name: "at", Type: geo.DateTime}, {Name: "big", Type: geo.Integer}, {Name: "closed", Type: geo.Boolean},
		{Name: "count", Type: geo.Integer}, {Name: "day", Type: geo.Date}, {Name: "empty", Type: geo.String},
		{Name: "huge", Type: geo.Number}, {Name: "null", Type: geo.String}, {Name: "open", Type: geo.Boolean},
		{Name: "ratio", Type: geo.Number}, {Name: "small", Type: geo.Integer}, {Name: "text", Type: geo.String},
		{Name: "名稱", Type: geo.String},
	}
	if !slices.Equal(info.Fields, want) {
		t.Errorf("fields from replace:\n got %v\nwant %v", info.Fields, want)
	}
	got, feats := read(t, s, "values")
	if !slices.Equal(got.Fields, want) {
		t.Errorf("fields from read:\n got %v\nwant %v", got.Fields, want)
	}
	sameFeatures(t, feats, in)
}

// testWidening checks a field whose values disagree: it takes the wider type
// (geo.Widen) and every value reads back as that type.
func testWidening(t *testing.T, s catalog.Store) {
	in := []geo.Feature{
		point(1, map[string]any{"n": int64(1), "d": day, "s": int64(5), "b": true, "f": 1.5}),
		point(2, map[string]any{"n": 2.5, "d": moment, "s": "five", "b": "no", "f": "x"}),
		point(3, map[string]any{"n": int64(-3), "d": day, "s": int64(-6), "b": false, "f": 0.25}),
	}
	info := replace(t, s, catalog.LayerInfo{ID: "widening", Title: "Widening"}, in)
	wantFields := []geo.Field{
		{Name: "b", Type: geo.String}, {Name: "d", Type: geo.DateTime}, {Name: "f", Type: geo.String},
		{Name: "n", Type: geo.Number}, {Name: "s", Type: geo.String},
	}
	if !slices.Equal(info.Fields, wantFields) {
		t.Errorf("fields:\n got %v\nwant %v", info.Fields, wantFields)
	}
	_, feats := read(t, s, "widening")
	want := []geo.Feature{
		point(1, map[string]any{"n": 1.0, "d": day, "s": "5", "b": "true", "f": "1.5"}),
		point(2, map[string]any{"n": 2.5, "d": moment, "s": "five", "b": "no", "f": "x"}),
		point(3, map[string]any{"n": -3.0, "d": day, "s": "-6", "b": "false", "f": "0.25"}),
	}
	sameFeatures(t, feats, want)
}

// testAwkwardNames uses property names a store might trip on: its own column
// names, names that differ only in case, quotes, and a name longer than 63
// bytes (PostgreSQL's identifier limit).
func testAwkwardNames(t *testing.T, s catalog.Store) {
	long := strings.Repeat("香港特別行政區", 4) // 84 bytes
	props := map[string]any{
		"fid": "f", "geom": "g", "id": "i", "Name": "upper", "name": "lower", "NAME": int64(3),
		`a"b`: "quote", "a'b": "apostrophe", "a b": "space", "a;b--": "semicolon",
		long: "long", long + "2": "long too",
	}
	in := []geo.Feature{point(7, props)}
	info := replace(t, s, catalog.LayerInfo{ID: "awkward", Title: "Awkward"}, in)
	var names []string
	for _, f := range info.Fields {
		names = append(names, f.Name)
	}
	want := slices.Sorted(func(yield func(string) bool) {
		for k := range props {
			if !yield(k) {
				return
			}
		}
	})
	if !slices.Equal(names, want) {
		t.Errorf("field names:\n got %q\nwant %q", names, want)
	}
	_, feats := read(t, s, "awkward")
	sameFeatures(t, feats, in)
}

// Coordinates with ten decimals, so a store that rounds (to float32, or to
// a fixed number of digits) fails.
var (
	gPoint = pt(114.1694567891, 22.3193012345)
	gMulti = orb.MultiPoint{pt(114.0000000001, 22.1), pt(114.3, 22.5000000009)}
	gLine  = orb.LineString{pt(113.9, 22.2), pt(114.0123456789, 22.3456789012), pt(114.2, 22.4)}
	gMLine = orb.MultiLineString{
		{pt(114.1, 22.2), pt(114.2, 22.3)},
		{pt(114.15, 22.25), pt(114.16, 22.26), pt(114.17, 22.2500000001)},
	}
	gPoly = orb.Polygon{
		{pt(114.0, 22.2), pt(114.3, 22.2), pt(114.3, 22.5), pt(114.0, 22.5), pt(114.0, 22.2)},
		{pt(114.1, 22.3), pt(114.1, 22.4), pt(114.2, 22.4), pt(114.2, 22.3), pt(114.1, 22.3)},
	}
	gMPoly = orb.MultiPolygon{
		gPoly,
		{{pt(113.8, 22.1), pt(113.85, 22.1), pt(113.85, 22.15), pt(113.8, 22.1)}},
	}
)

func testGeometries(t *testing.T, s catalog.Store) {
	for _, tc := range []struct {
		id   string
		geom []orb.Geometry
		typ  string
	}{
		{"point", []orb.Geometry{gPoint, pt(114.2, 22.25)}, "Point"},
		{"multipoint", []orb.Geometry{gMulti}, "Point"},
		{"point_and_multi", []orb.Geometry{gPoint, gMulti}, "Point"},
		{"linestring", []orb.Geometry{gLine}, "LineString"},
		{"multilinestring", []orb.Geometry{gMLine, gLine}, "LineString"},
		{"polygon", []orb.Geometry{gPoly}, "Polygon"},
		{"multipolygon", []orb.Geometry{gMPoly, gPoly}, "Polygon"},
		{"mixed", []orb.Geometry{gPoint, gMulti, gLine, gMLine, gPoly, gMPoly}, "Geometry"},
	} {
		t.Run(tc.id, func(t *testing.T) {
			var in []geo.Feature
			bound := tc.geom[0].Bound()
			for i, g := range tc.geom {
				in = append(in, geo.Feature{ID: uint64(i + 1), Geometry: g, Properties: map[string]any{"kind": g.GeoJSONType()}})
				bound = bound.Union(g.Bound())
			}
			info := replace(t, s, catalog.LayerInfo{ID: tc.id, Title: tc.id}, in)
			if info.GeometryType != tc.typ {
				t.Errorf("geometry type %q, want %q", info.GeometryType, tc.typ)
			}
			if !sameBound(info.Bounds, bound) {
				t.Errorf("bounds %v, want %v", info.Bounds, bound)
			}
			got, feats := read(t, s, tc.id)
			if got.GeometryType != tc.typ || !sameBound(got.Bounds, bound) {
				t.Errorf("read back geometry type %q bounds %v, want %q %v", got.GeometryType, got.Bounds, tc.typ, bound)
			}
			sameFeatures(t, feats, in)
		})
	}
}

func testOrderAndSummary(t *testing.T, s catalog.Store) {
	ids := []uint64{50, 3, 1 << 40, 7, 1, 999}
	var in []geo.Feature
	for i, id := range ids {
		in = append(in, geo.Feature{
			ID:         id,
			Geometry:   orb.LineString{pt(114+float64(i)*0.01, 22.2), pt(114.005+float64(i)*0.01, 22.25+float64(i)*0.01)},
			Properties: map[string]any{"i": int64(i)},
		})
	}
	before := time.Now()
	info := replace(t, s, catalog.LayerInfo{ID: "ordered", Title: "Ordered"}, in)
	after := time.Now()

	want := catalog.LayerInfo{
		ID: "ordered", Title: "Ordered",
		Fields:       []geo.Field{{Name: "i", Type: geo.Integer}},
		FeatureCount: int64(len(ids)),
		Bounds:       orb.Bound{Min: pt(114, 22.2), Max: pt(114.055, 22.3)},
		GeometryType: "LineString",
	}
	checkInfo(t, "replace", info, want)
	if info.Version <= 0 {
		t.Errorf("version %d, want positive", info.Version)
	}
	// The database's clock may be another machine's: allow some skew.
	if info.UpdatedAt.Before(before.Add(-time.Minute)) || info.UpdatedAt.After(after.Add(time.Minute)) {
		t.Errorf("updated at %v, want about %v", info.UpdatedAt, before)
	}

	got, feats := read(t, s, "ordered")
	checkInfo(t, "read", got, want)
	if got.Version != info.Version || !got.UpdatedAt.Equal(info.UpdatedAt) {
		t.Errorf("read version %d updated %v, replace said %d %v", got.Version, got.UpdatedAt, info.Version, info.UpdatedAt)
	}
	sorted := slices.Clone(in)
	slices.SortFunc(sorted, func(a, b geo.Feature) int { return cmp.Compare(a.ID, b.ID) })
	sameFeatures(t, feats, sorted) // sameFeatures checks the order too

	ls, err := s.Layers(ctxFor(t))
	if err != nil {
		t.Fatalf("layers: %v", err)
	}
	if len(ls) != 1 {
		t.Fatalf("%d layers listed, want 1", len(ls))
	}
	checkInfo(t, "layers", ls[0], want)
	if ls[0].Version != info.Version {
		t.Errorf("listed version %d, want %d", ls[0].Version, info.Version)
	}
}

func testEmptyLayer(t *testing.T, s catalog.Store) {
	info := replace(t, s, catalog.LayerInfo{ID: "empty", Title: "Empty"}, nil)
	want := catalog.LayerInfo{ID: "empty", Title: "Empty", Fields: []geo.Field{}, GeometryType: "Geometry"}
	checkInfo(t, "replace", info, want)
	got, feats := read(t, s, "empty")
	checkInfo(t, "read", got, want)
	if len(feats) != 0 {
		t.Errorf("read %d features from an empty layer", len(feats))
	}
}

func testMetadata(t *testing.T, s catalog.Store) {
	full := catalog.LayerInfo{
		ID:            "meta",
		Title:         "Public Toilets",
		TitleZH:       "公廁",
		Description:   "Public toilets managed by FEHD, with 'quotes' and \"double quotes\".",
		DescriptionZH: "食物環境衞生署管理的公廁。",
		Department:    "Food and Environmental Hygiene Department 食物環境衞生署",
		Attribution:   "© Food and Environmental Hygiene Department",
		SourceCRS:     "EPSG:2326",
		CreatedBy:     "FEHD GIS team",
		SourceFile:    "toilets_2024-07.zip",
		Tiles: catalog.TileOptions{MinZoom: 10, MaxZoom: 18, Properties: []string{"地區"}, Simplify: 0.5,
			KeepSmall: true},
		// What the store computes is ignored on input.
		Fields:       []geo.Field{{Name: "bogus", Type: geo.Boolean}},
		Version:      999_999,
		FeatureCount: 42,
		Bounds:       orb.Bound{Min: pt(-1, -1), Max: pt(1, 1)},
		GeometryType: "Bogus",
		UpdatedAt:    time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC),
	}
	feats := []geo.Feature{point(1, map[string]any{"地區": "中西區"})}
	info := replace(t, s, full, feats)
	want := full
	want.Fields = []geo.Field{{Name: "地區", Type: geo.String}}
	want.FeatureCount = 1
	want.Bounds = feats[0].Geometry.Bound()
	want.GeometryType = "Point"
	checkInfo(t, "replace", info, want)
	if info.UpdatedAt.Year() == 2000 {
		t.Errorf("updated at %v was taken from the input", info.UpdatedAt)
	}
	got, _ := read(t, s, "meta")
	checkInfo(t, "read", got, want)

	// A new version replaces all of the metadata, blanks included.
	bare := catalog.LayerInfo{ID: "meta", Title: "Toilets"}
	replace(t, s, bare, feats)
	got, _ = read(t, s, "meta")
	want = catalog.LayerInfo{ID: "meta", Title: "Toilets", Fields: want.Fields, FeatureCount: 1, Bounds: want.Bounds, GeometryType: "Point"}
	checkInfo(t, "read after a bare replace", got, want)
}

func testVersion(t *testing.T, s catalog.Store) {
	var last int64
	check := func(what string, v int64) {
		t.Helper()
		if v <= last {
			t.Errorf("%s: version %d, want more than %d", what, v, last)
		}
		last = v
	}
	info := catalog.LayerInfo{ID: "versioned", Title: "V"}
	for i := range 3 {
		got := replace(t, s, info, []geo.Feature{point(uint64(i+1), nil)})
		check(fmt.Sprintf("replace %d", i+1), got.Version)
		read, _ := read(t, s, "versioned")
		if read.Version != got.Version {
			t.Errorf("read version %d, replace said %d", read.Version, got.Version)
		}
	}
	// Another layer's replace does not lower it either.
	replace(t, s, catalog.LayerInfo{ID: "other", Title: "O"}, nil)
	// A layer deleted and made again must not reuse an old version: a
	// replica still holding the old one would keep it (Catalog.Refresh).
	if err := s.DeleteLayer(ctxFor(t), "versioned"); err != nil {
		t.Fatalf("delete: %v", err)
	}
	got := replace(t, s, info, nil)
	check("replace after delete", got.Version)
}

func testLayersOrder(t *testing.T, s catalog.Store) {
	// Byte order, as Go compares strings: a collation that skips '_' or
	// sorts digits after letters gets it wrong.
	ids := []string{"roads", "a_b", "ab", "a1", "a", "z9", "a_", "b"}
	for _, id := range ids {
		replace(t, s, catalog.LayerInfo{ID: id, Title: strings.ToUpper(id)}, []geo.Feature{point(1, nil)})
	}
	ls, err := s.Layers(ctxFor(t))
	if err != nil {
		t.Fatalf("layers: %v", err)
	}
	var got []string
	for _, l := range ls {
		got = append(got, l.ID)
		if l.Title != strings.ToUpper(l.ID) || l.FeatureCount != 1 {
			t.Errorf("layer %q listed with title %q count %d", l.ID, l.Title, l.FeatureCount)
		}
	}
	want := slices.Sorted(slices.Values(ids))
	if !slices.Equal(got, want) {
		t.Errorf("layers\n got %q\nwant %q", got, want)
	}
}

func testDelete(t *testing.T, s catalog.Store) {
	ctx := ctxFor(t)
	keep := []geo.Feature{point(1, map[string]any{"k": "v"})}
	replace(t, s, catalog.LayerInfo{ID: "keep", Title: "Keep"}, keep)
	replace(t, s, catalog.LayerInfo{ID: "gone", Title: "Gone"}, []geo.Feature{point(1, nil), point(2, nil)})
	if err := s.DeleteLayer(ctx, "gone"); err != nil {
		t.Fatalf("delete: %v", err)
	}
	if _, err := s.ReadLayer(ctx, "gone", func(geo.Feature) error { return nil }); !errors.Is(err, catalog.ErrNotFound) {
		t.Errorf("read after delete: got %v, want ErrNotFound", err)
	}
	if err := s.DeleteLayer(ctx, "gone"); !errors.Is(err, catalog.ErrNotFound) {
		t.Errorf("second delete: got %v, want ErrNotFound", err)
	}
	if err := s.DeleteLayer(ctx, "never"); !errors.Is(err, catalog.ErrNotFound) {
		t.Errorf("delete of a layer never made: got %v, want ErrNotFound", err)
	}
	ls, err := s.Layers(ctx)
	if err != nil {
		t.Fatalf("layers: %v", err)
	}
	if len(ls) != 1 || ls[0].ID != "keep" {
		t.Errorf("layers after delete: %v, want only keep", ids(ls))
	}
	_, feats := read(t, s, "keep")
	sameFeatures(t, feats, keep)
	// The id is free again.
	replace(t, s, catalog.LayerInfo{ID: "gone", Title: "Back"}, []geo.Feature{point(9, nil)})
	info, feats := read(t, s, "gone")
	if info.Title != "Back" || len(feats) != 1 || feats[0].ID != 9 {
		t.Errorf("layer made again after delete: title %q, %d features", info.Title, len(feats))
	}
}

func testInvalidID(t *testing.T, s catalog.Store) {
	for _, id := range []string{"", "Roads", "1roads", "roads-2", `x"; DROP TABLE y; --`, "路", strings.Repeat("a", 64)} {
		_, err := s.ReplaceLayer(ctxFor(t), catalog.LayerInfo{ID: id, Title: "bad"}, seq([]geo.Feature{point(1, nil)}))
		if err == nil {
			t.Errorf("replace with id %q: no error", id)
		}
	}
	ls, err := s.Layers(ctxFor(t))
	if err != nil {
		t.Fatalf("layers: %v", err)
	}
	if len(ls) != 0 {
		t.Errorf("invalid ids left layers %v", ids(ls))
	}
}

func testReadStops(t *testing.T, s catalog.Store) {
	var in []geo.Feature
	for i := range 10 {
		in = append(in, point(uint64(i+1), nil))
	}
	replace(t, s, catalog.LayerInfo{ID: "stops", Title: "Stops"}, in)
	stop := errors.New("enough")
	calls := 0
	_, err := s.ReadLayer(ctxFor(t), "stops", func(geo.Feature) error {
		calls++
		if calls == 3 {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) {
		t.Errorf("read: got %v, want the error from each", err)
	}
	if calls != 3 {
		t.Errorf("each called %d times after it failed on the 3rd", calls)
	}
	// The store is still usable.
	if _, feats := read(t, s, "stops"); len(feats) != 10 {
		t.Errorf("read %d features, want 10", len(feats))
	}
}

// testAtomicity makes replaces fail in every way the contract names and
// checks each leaves the previous version and the history exactly as they
// were, and a new layer not made at all.
func testAtomicity(t *testing.T, s catalog.Store) {
	const n = 200
	var v0, v1 []geo.Feature
	for i := range n {
		v0 = append(v0, point(uint64(i+1), map[string]any{"v": int64(0)}))
		v1 = append(v1, point(uint64(i+1), map[string]any{"v": int64(1), "名稱": fmt.Sprint("舊", i)}))
	}
	older := replace(t, s, catalog.LayerInfo{ID: "stable", Title: "Older", CreatedBy: "first", SourceFile: "v0.geojson"}, v0)
	old := replace(t, s, catalog.LayerInfo{ID: "stable", Title: "Old", TitleZH: "舊"}, v1)
	hist := history(t, s, "stable")

	boom := errors.New("source broke")
	// next returns a v2 feature; each case spoils the stream half way.
	next := func(i int) geo.Feature {
		f := point(uint64(i+1), map[string]any{"v": int64(2), "new": true})
		f.Geometry = pt(113.9, 22.2)
		return f
	}
	for _, tc := range []struct {
		name string
		// stream yields v2 features and fails at i == n/2 (cancel ends ctx).
		stream func(cancel context.CancelFunc) iter.Seq2[geo.Feature, error]
		is     error
	}{
		{"source error", func(context.CancelFunc) iter.Seq2[geo.Feature, error] {
			return func(yield func(geo.Feature, error) bool) {
				for i := range n {
					if i == n/2 {
						yield(geo.Feature{}, boom)
						return
					}
					if !yield(next(i), nil) {
						return
					}
				}
			}
		}, boom},
		{"duplicate id", spoil(n, next, func(f *geo.Feature) { f.ID = 1 }), nil},
		{"zero id", spoil(n, next, func(f *geo.Feature) { f.ID = 0 }), nil},
		{"nil geometry", spoil(n, next, func(f *geo.Feature) { f.Geometry = nil }), nil},
		{"unsupported value", spoil(n, next, func(f *geo.Feature) { f.Properties["bad"] = int32(1) }), nil},
		{"cancelled context", func(cancel context.CancelFunc) iter.Seq2[geo.Feature, error] {
			return func(yield func(geo.Feature, error) bool) {
				for i := range n {
					if i == n/2 {
						cancel()
					}
					if !yield(next(i), nil) {
						return
					}
				}
			}
		}, context.Canceled},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, id := range []string{"stable", "fresh"} {
				ctx, cancel := context.WithCancel(ctxFor(t))
				_, err := s.ReplaceLayer(ctx, catalog.LayerInfo{ID: id, Title: "New"}, tc.stream(cancel))
				cancel()
				if err == nil {
					t.Fatalf("replace of %q: no error", id)
				}
				if tc.is != nil && !errors.Is(err, tc.is) {
					t.Errorf("replace of %q: got %v, want it to wrap %v", id, err, tc.is)
				}
			}
			got, feats := read(t, s, "stable")
			checkInfo(t, "old version", got, old)
			if got.Version != old.Version || !got.UpdatedAt.Equal(old.UpdatedAt) {
				t.Errorf("version %d updated %v, want the old %d %v", got.Version, got.UpdatedAt, old.Version, old.UpdatedAt)
			}
			sameFeatures(t, feats, v1)
			sameVersions(t, "history after a failed replace", history(t, s, "stable"), hist)
			if _, err := s.ReadLayer(ctxFor(t), "fresh", func(geo.Feature) error { return nil }); !errors.Is(err, catalog.ErrNotFound) {
				t.Errorf("a failed first replace left a layer behind: read gave %v", err)
			}
			if _, err := s.History(ctxFor(t), "fresh"); !errors.Is(err, catalog.ErrNotFound) {
				t.Errorf("a failed first replace left a history behind: got %v", err)
			}
			ls, err := s.Layers(ctxFor(t))
			if err != nil {
				t.Fatalf("layers: %v", err)
			}
			if len(ls) != 1 {
				t.Errorf("layers %v, want only stable", ids(ls))
			}
		})
	}
	// The version before is still there to roll back to, and the store
	// still takes a good replace.
	info, err := s.Rollback(ctxFor(t), "stable", older.Version)
	if err != nil {
		t.Fatalf("roll back after the failures: %v", err)
	}
	got, feats := read(t, s, "stable")
	checkInfo(t, "rolled back", got, older)
	if got.Version != info.Version {
		t.Errorf("read version %d, rollback said %d", got.Version, info.Version)
	}
	sameFeatures(t, feats, v0)
	replace(t, s, catalog.LayerInfo{ID: "stable", Title: "New"}, []geo.Feature{next(0)})
}

// spoil returns a stream of n features from next whose middle one is spoilt by bad.
func spoil(n int, next func(int) geo.Feature, bad func(*geo.Feature)) func(context.CancelFunc) iter.Seq2[geo.Feature, error] {
	return func(context.CancelFunc) iter.Seq2[geo.Feature, error] {
		return func(yield func(geo.Feature, error) bool) {
			for i := range n {
				f := next(i)
				if i == n/2 {
					bad(&f)
				}
				if !yield(f, nil) {
					return
				}
			}
		}
	}
}

// testConcurrentReader reads while a replace is half done: first at a fixed
// point with the writer held still, then in a loop against replaces running
// at full speed. Every read must be one whole version.
func testConcurrentReader(t *testing.T, s catalog.Store) {
	const n = 500
	version := func(v int64) []geo.Feature {
		var fs []geo.Feature
		for i := range n {
			fs = append(fs, point(uint64(i+1), map[string]any{"v": v}))
		}
		return fs
	}
	title := func(v int64) string { return fmt.Sprint("v", v) }
	old := replace(t, s, catalog.LayerInfo{ID: "busy", Title: title(1)}, version(1))

	// whole reads the layer and checks it is one version; it returns the title.
	whole := func(ctx context.Context) (string, error) {
		var vals []int64
		info, err := s.ReadLayer(ctx, "busy", func(f geo.Feature) error {
			v, _ := f.Properties["v"].(int64)
			vals = append(vals, v)
			return nil
		})
		if err != nil {
			return "", err
		}
		if int64(len(vals)) != info.FeatureCount || len(vals) != n {
			return "", fmt.Errorf("read %d features, info says %d, want %d", len(vals), info.FeatureCount, n)
		}
		for _, v := range vals {
			if title(v) != info.Title {
				return "", fmt.Errorf("a feature of version %d in a read of %q", v, info.Title)
			}
		}
		return info.Title, nil
	}

	halfway, resume := make(chan struct{}), make(chan struct{})
	done := make(chan error, 1)
	go func() {
		_, err := s.ReplaceLayer(ctxFor(t), catalog.LayerInfo{ID: "busy", Title: title(2)}, func(yield func(geo.Feature, error) bool) {
			for i, f := range version(2) {
				if i == n/2 {
					close(halfway)
					<-resume
				}
				if !yield(f, nil) {
					return
				}
			}
		})
		done <- err
	}()
	select {
	case <-halfway:
	case err := <-done:
		t.Fatalf("replace ended before it was half done: %v", err)
	}
	got, err := whole(ctxFor(t))
	close(resume)
	if err != nil {
		t.Fatalf("read during a replace: %v", err)
	}
	if got != old.Title {
		t.Errorf("read during a replace saw %q, want the old %q", got, old.Title)
	}
	if err := <-done; err != nil {
		t.Fatalf("replace: %v", err)
	}
	if got, err := whole(ctxFor(t)); err != nil || got != title(2) {
		t.Fatalf("read after the replace: %q %v, want %q", got, err, title(2))
	}

	// Free running: a writer makes versions 3..8 while two readers loop.
	ctx, stop := context.WithCancel(ctxFor(t))
	defer stop()
	var wg sync.WaitGroup
	errs := make(chan error, 3)
	seen := make([]map[string]bool, 2)
	for r := range seen {
		seen[r] = map[string]bool{}
		wg.Go(func() {
			for ctx.Err() == nil {
				got, err := whole(ctx)
				if err != nil {
					if ctx.Err() == nil {
						errs <- err
					}
					return
				}
				seen[r][got] = true
			}
		})
	}
	// Then rollbacks, which swap whole tables, back and forth between the
	// last two.
	var made []int64
	for v := int64(3); v <= 8; v++ {
		info, err := s.ReplaceLayer(ctx, catalog.LayerInfo{ID: "busy", Title: title(v)}, seq(version(v)))
		if err != nil {
			errs <- fmt.Errorf("replace %d: %w", v, err)
			break
		}
		made = append(made, info.Version)
	}
	for i := range 3 {
		if len(made) < 2 {
			break
		}
		to := made[len(made)-2]
		info, err := s.Rollback(ctx, "busy", to)
		if err != nil {
			errs <- fmt.Errorf("rollback %d to version %d: %w", i, to, err)
			break
		}
		made = append(made, info.Version)
	}
	stop()
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	t.Logf("readers saw versions %v and %v", seen[0], seen[1])
	// The last rollback went to the data of version 7 (3..8, then 7, 8, 7).
	if got, err := whole(ctxFor(t)); err != nil || got != title(7) {
		t.Errorf("read after the rollbacks: %q %v, want %q", got, err, title(7))
	}
}

// testMany loads a layer large enough to cross any batch size a store uses.
func testMany(t *testing.T, s catalog.Store) {
	const n = 25_000
	in := make([]geo.Feature, n)
	for i := range in {
		in[i] = geo.Feature{
			ID:         uint64(i + 1),
			Geometry:   pt(113.8+float64(i%500)*0.001, 22.15+float64(i/500)*0.001),
			Properties: map[string]any{"i": int64(i), "name": fmt.Sprint("街燈 ", i)},
		}
		if i%3 == 0 {
			in[i].Properties["odd"] = 0.5
		}
	}
	start := time.Now()
	info := replace(t, s, catalog.LayerInfo{ID: "many", Title: "Many"}, in)
	t.Logf("replace of %d features took %v", n, time.Since(start))
	if info.FeatureCount != n {
		t.Errorf("count %d, want %d", info.FeatureCount, n)
	}
	_, feats := read(t, s, "many")
	sameFeatures(t, feats, in)
}

func ids(ls []catalog.LayerInfo) []string {
	var out []string
	for _, l := range ls {
		out = append(out, l.ID)
	}
	return out
}

// checkInfo compares what the caller sets and what the store computes,
// except Version and UpdatedAt, which the caller checks on its own terms.
func checkInfo(t *testing.T, what string, got, want catalog.LayerInfo) {
	t.Helper()
	g, w := got, want
	g.Version, w.Version = 0, 0
	g.UpdatedAt, w.UpdatedAt = time.Time{}, time.Time{}
	g.Bounds, w.Bounds = orb.Bound{}, orb.Bound{}
	g.Fields, w.Fields = nil, nil
	if !reflect.DeepEqual(g, w) {
		t.Errorf("%s: info\n got %+v\nwant %+v", what, g, w)
	}
	if !sameBound(got.Bounds, want.Bounds) {
		t.Errorf("%s: bounds %v, want %v", what, got.Bounds, want.Bounds)
	}
	if len(got.Fields) != len(want.Fields) || (len(got.Fields) > 0 && !slices.Equal(got.Fields, want.Fields)) {
		t.Errorf("%s: fields\n got %v\nwant %v", what, got.Fields, want.Fields)
	}
}

const eps = 1e-9

func sameBound(a, b orb.Bound) bool {
	return samePoint(a.Min, b.Min) && samePoint(a.Max, b.Max)
}

func samePoint(a, b orb.Point) bool {
	return math.Abs(a[0]-b[0]) <= eps && math.Abs(a[1]-b[1]) <= eps
}

// sameFeatures reports every difference between two feature lists, in order.
// A property that is nil and one that is absent are the same: a column store
// cannot tell them apart.
func sameFeatures(t *testing.T, got, want []geo.Feature) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%d features, want %d", len(got), len(want))
	}
	bad := 0
	for i := range min(len(got), len(want)) {
		if err := sameFeature(got[i], want[i]); err != nil {
			t.Errorf("feature %d (id %d): %v", i, want[i].ID, err)
			if bad++; bad == 5 {
				t.Fatalf("stopping after %d bad features", bad)
			}
		}
	}
}

func sameFeature(got, want geo.Feature) error {
	if got.ID != want.ID {
		return fmt.Errorf("id %d, want %d", got.ID, want.ID)
	}
	if err := sameGeometry(got.Geometry, want.Geometry); err != nil {
		return err
	}
	for k, w := range want.Properties {
		g := got.Properties[k]
		if w == nil || g == nil {
			if w != g {
				return fmt.Errorf("property %q = %#v, want %#v", k, g, w)
			}
			continue
		}
		if !sameValue(g, w) {
			return fmt.Errorf("property %q = %#v (%T), want %#v (%T)", k, g, g, w, w)
		}
	}
	for k, g := range got.Properties {
		if _, ok := want.Properties[k]; !ok && g != nil {
			return fmt.Errorf("extra property %q = %#v", k, g)
		}
	}
	return nil
}

func sameValue(g, w any) bool {
	switch w := w.(type) {
	case time.Time:
		g, ok := g.(time.Time)
		return ok && g.Equal(w)
	case float64:
		g, ok := g.(float64)
		return ok && (g == w || math.Abs(g-w) <= 1e-15*math.Abs(w))
	}
	return g == w
}

func sameGeometry(got, want orb.Geometry) error {
	if got == nil {
		return errors.New("no geometry")
	}
	if got.GeoJSONType() != want.GeoJSONType() {
		return fmt.Errorf("geometry %s, want %s", got.GeoJSONType(), want.GeoJSONType())
	}
	g, w := points(got), points(want)
	if !slices.Equal(g.shape, w.shape) {
		return fmt.Errorf("%s shape %v, want %v", want.GeoJSONType(), g.shape, w.shape)
	}
	for i := range w.pts {
		if !samePoint(g.pts[i], w.pts[i]) {
			return fmt.Errorf("%s point %d is %v, want %v", want.GeoJSONType(), i, g.pts[i], w.pts[i])
		}
	}
	return nil
}

// flat is a geometry as its points in order plus the length of each part.
type flat struct {
	pts   []orb.Point
	shape []int
}

func points(g orb.Geometry) flat {
	var f flat
	add := func(ps []orb.Point) {
		f.pts = append(f.pts, ps...)
		f.shape = append(f.shape, len(ps))
	}
	switch g := g.(type) {
	case orb.Point:
		add([]orb.Point{g})
	case orb.MultiPoint:
		add(g)
	case orb.LineString:
		add(g)
	case orb.MultiLineString:
		for _, l := range g {
			add(l)
		}
	case orb.Polygon:
		for _, r := range g {
			add(r)
		}
		f.shape = append(f.shape, -1)
	case orb.MultiPolygon:
		for _, p := range g {
			for _, r := range p {
				add(r)
			}
			f.shape = append(f.shape, -1)
		}
	}
	return f
}
