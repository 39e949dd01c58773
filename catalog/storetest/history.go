package storetest

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/csdi-hk/csdi/catalog"
	"github.com/csdi-hk/csdi/geo"
)

func history(t *testing.T, s catalog.Store, id string) []catalog.Version {
	t.Helper()
	h, err := s.History(ctxFor(t), id)
	if err != nil {
		t.Fatalf("history of %q: %v", id, err)
	}
	return h
}

func rollback(t *testing.T, s catalog.Store, id string, v int64) catalog.LayerInfo {
	t.Helper()
	info, err := s.Rollback(ctxFor(t), id, v)
	if err != nil {
		t.Fatalf("roll back %q to version %d: %v", id, v, err)
	}
	return info
}

// versionOf is what History must say of a version made by a replace.
func versionOf(info catalog.LayerInfo, current bool) catalog.Version {
	return catalog.Version{Version: info.Version, CreatedAt: info.UpdatedAt, CreatedBy: info.CreatedBy, SourceFile: info.SourceFile,
		FeatureCount: info.FeatureCount, Current: current, DataVersion: info.Version}
}

func sameVersions(t *testing.T, what string, got, want []catalog.Version) {
	t.Helper()
	norm := func(vs []catalog.Version) []catalog.Version {
		out := slices.Clone(vs)
		for i := range out {
			out[i].CreatedAt = out[i].CreatedAt.UTC()
		}
		return out
	}
	g, w := norm(got), norm(want)
	if !slices.EqualFunc(g, w, func(a, b catalog.Version) bool {
		return a.CreatedAt.Equal(b.CreatedAt) && a.Version == b.Version && a.CreatedBy == b.CreatedBy && a.SourceFile == b.SourceFile &&
			a.FeatureCount == b.FeatureCount && a.Current == b.Current && a.DataVersion == b.DataVersion
	}) {
		t.Errorf("%s:\n got %+v\nwant %+v", what, g, w)
	}
}

// notKept checks that a rollback to version v of layer id fails with
// ErrNotFound and says which version.
func notKept(t *testing.T, s catalog.Store, id string, v int64) {
	t.Helper()
	_, err := s.Rollback(ctxFor(t), id, v)
	if !errors.Is(err, catalog.ErrNotFound) {
		t.Errorf("roll back %q to version %d: got %v, want ErrNotFound", id, v, err)
	} else if !strings.Contains(err.Error(), fmt.Sprint(v)) {
		t.Errorf("roll back %q to version %d: error %q does not name the version", id, v, err)
	}
}

// features returns n points whose property v is v, ids from 1.
func features(n int, v int64) []geo.Feature {
	fs := make([]geo.Feature, n)
	for i := range fs {
		fs[i] = point(uint64(i+1), map[string]any{"v": v})
	}
	return fs
}

func testHistory(t *testing.T, s catalog.Store) {
	ctx := ctxFor(t)
	if _, err := s.History(ctx, "nothing"); !errors.Is(err, catalog.ErrNotFound) {
		t.Errorf("history of a missing layer: got %v, want ErrNotFound", err)
	}
	if _, err := s.Rollback(ctx, "nothing", 1); !errors.Is(err, catalog.ErrNotFound) {
		t.Errorf("rollback of a missing layer: got %v, want ErrNotFound", err)
	}
	var made []catalog.LayerInfo
	for i, who := range []string{"alice", "bob 陳", "carol", "dave"} {
		info := catalog.LayerInfo{ID: "hist", Title: fmt.Sprint("v", i), CreatedBy: who, SourceFile: fmt.Sprintf("data/%d.geojson", i)}
		made = append(made, replace(t, s, info, features(i+1, int64(i))))
		// Another layer's versions are its own.
		replace(t, s, catalog.LayerInfo{ID: "other", Title: "Other"}, features(1, 0))
	}
	want := []catalog.Version{versionOf(made[3], true), versionOf(made[2], false), versionOf(made[1], false)}
	sameVersions(t, "history, keeping 3", history(t, s, "hist"), want)
	for i, v := range want {
		if v.CreatedBy != []string{"dave", "carol", "bob 陳"}[i] || v.FeatureCount != int64(4-i) {
			t.Errorf("replace %d said it was made by %q with %d features", 3-i, v.CreatedBy, v.FeatureCount)
		}
	}
	notKept(t, s, "hist", made[0].Version)
	notKept(t, s, "hist", made[3].Version+1000)
	if h := history(t, s, "other"); len(h) != 3 || !h[0].Current {
		t.Errorf("history of other: %+v, want 3 versions, the first current", h)
	}
}

func testKeepDefault(t *testing.T, s catalog.Store) {
	var made []catalog.LayerInfo
	for i := range 3 {
		made = append(made, replace(t, s, catalog.LayerInfo{ID: "kept", Title: fmt.Sprint("v", i)}, features(i+1, int64(i))))
	}
	sameVersions(t, "history, keeping the default", history(t, s, "kept"),
		[]catalog.Version{versionOf(made[2], true), versionOf(made[1], false)})
	notKept(t, s, "kept", made[0].Version)
	info := rollback(t, s, "kept", made[1].Version)
	got, feats := read(t, s, "kept")
	checkInfo(t, "rolled back to the previous version", got, made[1])
	if got.Version != info.Version || info.Version <= made[2].Version {
		t.Errorf("read version %d, rollback said %d, want more than %d", got.Version, info.Version, made[2].Version)
	}
	sameFeatures(t, feats, features(2, 1))
}

func testKeepOne(t *testing.T, s catalog.Store) {
	first := replace(t, s, catalog.LayerInfo{ID: "once", Title: "One"}, features(1, 1))
	second := replace(t, s, catalog.LayerInfo{ID: "once", Title: "Two"}, features(2, 2))
	sameVersions(t, "history, keeping 1", history(t, s, "once"), []catalog.Version{versionOf(second, true)})
	notKept(t, s, "once", first.Version)
	_, feats := read(t, s, "once")
	sameFeatures(t, feats, features(2, 2))
}

// testRollback goes back and forth between two versions that differ in
// everything, data and metadata, through a version whose metadata is
// forgotten while its data still serves a later one.
func testRollback(t *testing.T, s catalog.Store) {
	m1 := catalog.LayerInfo{
		ID: "roll", Title: "Slopes", TitleZH: "斜坡", Description: "Registered slopes", DescriptionZH: "已登記斜坡",
		Department: "CEDD", Attribution: "© CEDD", SourceCRS: "EPSG:2326", CreatedBy: "alice", SourceFile: "slopes.zip",
		Tiles: catalog.TileOptions{MinZoom: 2, MaxZoom: 14, Properties: []string{"name"}, Simplify: 1.5, KeepSmall: true, TimeField: "day"},
	}
	d1 := []geo.Feature{
		{ID: 5, Geometry: gPoly, Properties: map[string]any{"name": "A", "day": day}},
		{ID: 9, Geometry: gMPoly, Properties: map[string]any{"name": "B", "day": time.Date(2001, 1, 2, 0, 0, 0, 0, time.UTC)}},
	}
	m2 := catalog.LayerInfo{ID: "roll", Title: "Roads", CreatedBy: "bob", SourceFile: "roads.geojson"}
	d2 := []geo.Feature{
		{ID: 1, Geometry: gLine, Properties: map[string]any{"n": int64(1)}},
		{ID: 2, Geometry: gMLine, Properties: map[string]any{"n": int64(2), "x": 0.5}},
		{ID: 3, Geometry: gLine},
	}
	v1 := replace(t, s, m1, d1)
	v2 := replace(t, s, m2, d2)

	// check reads the layer and checks it holds want's metadata and data
	// as version got, newer than after.
	check := func(what string, got catalog.LayerInfo, want catalog.LayerInfo, data []geo.Feature, after int64) {
		t.Helper()
		checkInfo(t, what, got, want)
		if got.Version <= after {
			t.Errorf("%s: version %d, want more than %d", what, got.Version, after)
		}
		read, feats := read(t, s, "roll")
		checkInfo(t, what+", read back", read, want)
		if read.Version != got.Version || !read.UpdatedAt.Equal(got.UpdatedAt) {
			t.Errorf("%s: read version %d updated %v, rollback said %d %v", what, read.Version, read.UpdatedAt, got.Version, got.UpdatedAt)
		}
		sameFeatures(t, feats, data)
		ls, err := s.Layers(ctxFor(t))
		if err != nil || len(ls) != 1 {
			t.Fatalf("layers: %v %v", ids(ls), err)
		}
		checkInfo(t, what+", listed", ls[0], want)
		if ls[0].Version != got.Version {
			t.Errorf("%s: listed version %d, want %d", what, ls[0].Version, got.Version)
		}
	}

	r1 := rollback(t, s, "roll", v1.Version)
	check("rolled back to version 1", r1, v1, d1, v2.Version)
	restored := func(info catalog.LayerInfo, data catalog.LayerInfo) catalog.Version {
		v := versionOf(info, true)
		v.DataVersion = data.Version
		return v
	}
	sameVersions(t, "history after a rollback", history(t, s, "roll"),
		[]catalog.Version{restored(r1, v1), versionOf(v2, false), versionOf(v1, false)})

	r2 := rollback(t, s, "roll", v2.Version)
	check("rolled back to version 2", r2, v2, d2, r1.Version)
	// Keeping 3: v1's metadata is forgotten, but its data still serves r1.
	old := restored(r1, v1)
	old.Current = false
	sameVersions(t, "history after a second rollback", history(t, s, "roll"),
		[]catalog.Version{restored(r2, v2), old, versionOf(v2, false)})
	notKept(t, s, "roll", v1.Version)

	r3 := rollback(t, s, "roll", r1.Version)
	check("rolled back to the first rollback", r3, v1, d1, r2.Version)

	// To the current version: a new version, the same content.
	r4 := rollback(t, s, "roll", r3.Version)
	check("rolled back to the current version", r4, v1, d1, r3.Version)

	// A replace after all that is an ordinary new version.
	v5 := replace(t, s, m2, d1)
	_, feats := read(t, s, "roll")
	sameFeatures(t, feats, d1)
	if h := history(t, s, "roll"); h[0].Version != v5.Version || h[0].DataVersion != v5.Version || len(h) != 3 {
		t.Errorf("history after a replace: %+v", h)
	}
}

func testUpdateInfo(t *testing.T, s catalog.Store) {
	ctx := ctxFor(t)
	data := []geo.Feature{
		point(1, map[string]any{"name": "x", "at": moment, "n": int64(1)}),
		point(2, map[string]any{"name": "y", "at": momentTZ, "n": int64(2)}),
	}
	v1 := replace(t, s, catalog.LayerInfo{ID: "edited", Title: "Before", Department: "Old", SourceCRS: "EPSG:2326",
		CreatedBy: "importer", SourceFile: "before.csv"}, data)

	edit := catalog.LayerInfo{
		ID: "edited", Title: "After", TitleZH: "之後", Description: "d", DescriptionZH: "描述", Department: "New",
		Attribution: "© New", CreatedBy: "editor",
		Tiles: catalog.TileOptions{MaxZoom: 12, Properties: []string{}, TimeField: "at"},
		// Not for UpdateInfo to change: they describe the data.
		SourceCRS: "EPSG:4326", SourceFile: "other.csv", FeatureCount: 99, GeometryType: "Polygon",
		Fields: []geo.Field{{Name: "bogus", Type: geo.Boolean}}, Version: 1, UpdatedAt: time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC),
	}
	u, err := s.UpdateInfo(ctx, edit)
	if err != nil {
		t.Fatalf("update info: %v", err)
	}
	want := v1
	want.Title, want.TitleZH, want.Description, want.DescriptionZH = "After", "之後", "d", "描述"
	want.Department, want.Attribution, want.CreatedBy, want.Tiles = "New", "© New", "editor", edit.Tiles
	checkInfo(t, "update", u, want)
	if u.Version <= v1.Version || u.UpdatedAt.Before(v1.UpdatedAt) {
		t.Errorf("update: version %d updated %v, want after %d %v", u.Version, u.UpdatedAt, v1.Version, v1.UpdatedAt)
	}
	got, feats := read(t, s, "edited")
	checkInfo(t, "read after update", got, want)
	if got.Version != u.Version {
		t.Errorf("read version %d, update said %d", got.Version, u.Version)
	}
	sameFeatures(t, feats, data)
	if got.Tiles.Properties == nil {
		t.Errorf("tile properties: an empty list (no properties) read back as nil (all)")
	}
	edited := versionOf(u, true)
	edited.DataVersion = v1.Version
	sameVersions(t, "history after an update", history(t, s, "edited"), []catalog.Version{edited, versionOf(v1, false)})

	// Refused: unknown layer, options that do not fit the data.
	if _, err := s.UpdateInfo(ctx, catalog.LayerInfo{ID: "nothing", Title: "x"}); !errors.Is(err, catalog.ErrNotFound) {
		t.Errorf("update of a missing layer: got %v, want ErrNotFound", err)
	}
	bad := edit
	bad.Tiles = catalog.TileOptions{TimeField: "name"}
	if _, err := s.UpdateInfo(ctx, bad); err == nil || !strings.Contains(err.Error(), `"name"`) {
		t.Errorf("update with a string time field: got %v, want an error naming the field", err)
	}
	bad.Tiles = catalog.TileOptions{MinZoom: 30}
	if _, err := s.UpdateInfo(ctx, bad); err == nil {
		t.Error("update with minzoom 30: no error")
	}
	sameVersions(t, "history after refused updates", history(t, s, "edited"), []catalog.Version{edited, versionOf(v1, false)})

	r := rollback(t, s, "edited", v1.Version)
	got, feats = read(t, s, "edited")
	checkInfo(t, "rolled back an update", got, v1)
	if got.Version != r.Version || r.Version <= u.Version {
		t.Errorf("rolled back: read version %d, rollback said %d, want more than %d", got.Version, r.Version, u.Version)
	}
	sameFeatures(t, feats, data)
}

func testDeleteHistory(t *testing.T, s catalog.Store) {
	ctx := ctxFor(t)
	var made []catalog.LayerInfo
	for i := range 3 {
		made = append(made, replace(t, s, catalog.LayerInfo{ID: "gone", Title: "Gone"}, features(i+1, int64(i))))
	}
	if err := s.DeleteLayer(ctx, "gone"); err != nil {
		t.Fatalf("delete: %v", err)
	}
	if _, err := s.History(ctx, "gone"); !errors.Is(err, catalog.ErrNotFound) {
		t.Errorf("history after delete: got %v, want ErrNotFound", err)
	}
	for _, m := range made {
		if _, err := s.Rollback(ctx, "gone", m.Version); !errors.Is(err, catalog.ErrNotFound) {
			t.Errorf("rollback to version %d after delete: got %v, want ErrNotFound", m.Version, err)
		}
	}
	back := replace(t, s, catalog.LayerInfo{ID: "gone", Title: "Back"}, features(1, 9))
	sameVersions(t, "history of a layer made again", history(t, s, "gone"), []catalog.Version{versionOf(back, true)})
	notKept(t, s, "gone", made[2].Version)
}

// tiled is a layer with a field of every kind tile options may name.
func tiled() []geo.Feature {
	return []geo.Feature{
		point(1, map[string]any{"名稱": "甲", "day": day, "at": moment, "n": int64(1)}),
		point(2, map[string]any{"名稱": "乙", "day": day, "at": momentTZ, "n": int64(2)}),
	}
}

func testTileOptions(t *testing.T, s catalog.Store) {
	for _, tc := range []struct {
		id   string
		opts catalog.TileOptions
	}{
		{"all", catalog.TileOptions{MinZoom: 3, MaxZoom: 16, Properties: []string{"名稱", "n"}, Simplify: 2.5, KeepSmall: true, TimeField: "at"}},
		{"defaults", catalog.TileOptions{}},
		{"no_properties", catalog.TileOptions{Properties: []string{}}},
		{"date_field", catalog.TileOptions{TimeField: "day", MinZoom: 5}},
		{"deepest", catalog.TileOptions{MinZoom: catalog.MaxZoom, MaxZoom: catalog.MaxZoom, Simplify: 0.25}},
	} {
		t.Run(tc.id, func(t *testing.T) {
			info := replace(t, s, catalog.LayerInfo{ID: tc.id, Title: tc.id, Tiles: tc.opts}, tiled())
			got, _ := read(t, s, tc.id)
			ls, err := s.Layers(ctxFor(t))
			if err != nil {
				t.Fatalf("layers: %v", err)
			}
			i := slices.IndexFunc(ls, func(l catalog.LayerInfo) bool { return l.ID == tc.id })
			if i < 0 {
				t.Fatalf("layer %q not listed", tc.id)
			}
			for what, g := range map[string]catalog.TileOptions{"replace": info.Tiles, "read": got.Tiles, "layers": ls[i].Tiles} {
				// nil (all properties) and empty (none) differ.
				if g.MinZoom != tc.opts.MinZoom || g.MaxZoom != tc.opts.MaxZoom || g.Simplify != tc.opts.Simplify ||
					g.KeepSmall != tc.opts.KeepSmall || g.TimeField != tc.opts.TimeField ||
					!slices.Equal(g.Properties, tc.opts.Properties) || (g.Properties == nil) != (tc.opts.Properties == nil) {
					t.Errorf("%s: tile options %+v (properties nil: %t), want %+v (nil: %t)",
						what, g, g.Properties == nil, tc.opts, tc.opts.Properties == nil)
				}
			}
		})
	}
}

// testTileOptionsInvalid checks that a replace with options that do not fit
// its data fails with an error that names the problem, leaving everything
// as it was.
func testTileOptionsInvalid(t *testing.T, s catalog.Store) {
	good := replace(t, s, catalog.LayerInfo{ID: "tiled", Title: "Tiled", Tiles: catalog.TileOptions{MaxZoom: 10}}, tiled())
	hist := history(t, s, "tiled")
	for _, tc := range []struct {
		name string
		opts catalog.TileOptions
		says string
	}{
		{"minzoom above maxzoom", catalog.TileOptions{MinZoom: 10, MaxZoom: 5}, "minzoom 10"},
		{"maxzoom too deep", catalog.TileOptions{MaxZoom: 25}, "maxzoom 25"},
		{"negative minzoom", catalog.TileOptions{MinZoom: -1}, "minzoom -1"},
		{"negative simplify", catalog.TileOptions{Simplify: -1}, "simplify"},
		{"NaN simplify", catalog.TileOptions{Simplify: math.NaN()}, "simplify"},
		{"unknown property", catalog.TileOptions{Properties: []string{"n", "nope"}}, `"nope"`},
		{"property twice", catalog.TileOptions{Properties: []string{"n", "名稱", "n"}}, `"n"`},
		{"unknown time field", catalog.TileOptions{TimeField: "when"}, `"when"`},
		{"string time field", catalog.TileOptions{TimeField: "名稱"}, `"名稱"`},
		{"integer time field", catalog.TileOptions{TimeField: "n"}, "integer"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, id := range []string{"tiled", "fresh"} {
				_, err := s.ReplaceLayer(ctxFor(t), catalog.LayerInfo{ID: id, Title: "Bad", Tiles: tc.opts}, seq(tiled()))
				if err == nil {
					t.Fatalf("replace of %q: no error", id)
				}
				if !strings.Contains(err.Error(), tc.says) {
					t.Errorf("replace of %q: error %q does not say %s", id, err, tc.says)
				}
			}
			got, _ := read(t, s, "tiled")
			checkInfo(t, "after a refused replace", got, good)
			sameVersions(t, "history after a refused replace", history(t, s, "tiled"), hist)
			if _, err := s.History(ctxFor(t), "fresh"); !errors.Is(err, catalog.ErrNotFound) {
				t.Errorf("a refused first replace left a layer: %v", err)
			}
		})
	}
}

func testTokens(t *testing.T, s catalog.Store) {
	ctx := ctxFor(t)
	hash := func(token string) []byte {
		h := sha256.Sum256([]byte(token))
		return h[:]
	}
	lands, planning := hash("lands-secret"), hash("planning-secret")
	if _, err := s.TokenDepartment(ctx, lands); !errors.Is(err, catalog.ErrNotFound) {
		t.Errorf("department of an unknown token: got %v, want ErrNotFound", err)
	}
	for dept, h := range map[string][]byte{"Lands Department": lands, "規劃署": planning} {
		if err := s.CreateToken(ctx, dept, h); err != nil {
			t.Fatalf("create token for %s: %v", dept, err)
		}
	}
	lookup := func(h []byte, want string) {
		t.Helper()
		got, err := s.TokenDepartment(ctx, h)
		if err != nil || got != want {
			t.Errorf("department of token: %q, %v; want %q", got, err, want)
		}
	}
	lookup(lands, "Lands Department")
	lookup(planning, "規劃署")
	if _, err := s.TokenDepartment(ctx, hash("guess")); !errors.Is(err, catalog.ErrNotFound) {
		t.Errorf("department of an unknown token: got %v, want ErrNotFound", err)
	}
	if err := s.CreateToken(ctx, "Highways Department", lands); err == nil {
		t.Error("a second department took a recorded token")
	}
	lookup(lands, "Lands Department")
	for name, tc := range map[string]struct {
		dept string
		hash []byte
	}{
		"plain token": {"Lands Department", []byte("lands-secret")},
		"no hash":     {"Lands Department", nil},
		"no dept":     {" ", hash("x")},
	} {
		if err := s.CreateToken(ctx, tc.dept, tc.hash); err == nil {
			t.Errorf("create token, %s: no error", name)
		}
	}
	if err := s.RevokeToken(ctx, lands); err != nil {
		t.Fatalf("revoke: %v", err)
	}
	if _, err := s.TokenDepartment(ctx, lands); !errors.Is(err, catalog.ErrNotFound) {
		t.Errorf("department of a revoked token: got %v, want ErrNotFound", err)
	}
	if err := s.RevokeToken(ctx, lands); !errors.Is(err, catalog.ErrNotFound) {
		t.Errorf("second revoke: got %v, want ErrNotFound", err)
	}
	lookup(planning, "規劃署")
}
