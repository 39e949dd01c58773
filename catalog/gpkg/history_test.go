package gpkg_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/paulmach/orb"

	"github.com/csdi-hk/csdi/catalog"
	"github.com/csdi-hk/csdi/catalog/gpkg"
	"github.com/csdi-hk/csdi/catalog/storetest"
	"github.com/csdi-hk/csdi/geo"
	"github.com/csdi-hk/csdi/internal/testenv"
)

// TestKilledProcess kills a process in the middle of a replace, after its
// transaction has spilled pages into the WAL: the next open must roll them
// back.
func TestKilledProcess(t *testing.T) {
	storetest.KillMidReplace(t, storetest.Kill{
		Where: func(t *testing.T) string { return filepath.Join(t.TempDir(), "csdi.gpkg") },
		Open: func(t testing.TB, where string) catalog.Store {
			s, err := gpkg.Open(context.Background(), where)
			if err != nil {
				t.Fatalf("open %s: %v", where, err)
			}
			return s
		},
		During: func(t *testing.T, where string) {
			fi, err := os.Stat(where + "-wal")
			if err != nil || fi.Size() < 1<<20 {
				t.Fatalf("the child's replace has not reached the WAL (%v): want more than 1 MiB in it", err)
			}
			t.Logf("WAL holds %d bytes of the child's transaction", fi.Size())
		},
		After: func(t *testing.T, where string) {
			db := rawDB(t, where)
			if got := queryStrings(t, db, "PRAGMA integrity_check"); !slices.Equal(got, []string{"ok"}) {
				t.Errorf("integrity check after the kill: %q", got)
			}
			tables := queryStrings(t, db, `SELECT name FROM sqlite_master WHERE type = 'table'
				AND name NOT LIKE 'gpkg%' AND name NOT LIKE 'sqlite%' AND name NOT LIKE 'csdi%' ORDER BY name`)
			if len(tables) != 2 || tables[0] != "victim" || !regexp.MustCompile(`^victim@\d+$`).MatchString(tables[1]) {
				t.Errorf("tables after the kill %q, want victim and one kept version", tables)
			}
		},
	})
}

func lines(n int, v int64) []geo.Feature {
	var fs []geo.Feature
	for i := range n {
		x := 114 + float64(i)*0.01
		fs = append(fs, geo.Feature{ID: uint64(i + 1), Geometry: orb.LineString{{x, 22.2}, {x + 0.005, 22.3}}, Properties: map[string]any{"v": v}})
	}
	return fs
}

// TestHistoryTables looks at the file: kept versions are renamed tables that
// GDAL does not list, a rollback registers the table it brings back with its
// own geometry type, and a delete leaves nothing.
func TestHistoryTables(t *testing.T) {
	ogrinfo := testenv.Command(t, "ogrinfo")
	path := filepath.Join(t.TempDir(), "csdi.gpkg")
	s := openAt(t, path)
	defer s.Close()
	db := rawDB(t, path)
	tables := func() []string {
		return queryStrings(t, db, "SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE 'roads%' ORDER BY name")
	}
	registered := func() []string {
		return queryStrings(t, db, `SELECT c.table_name || ' ' || c.identifier || ' ' || g.geometry_type_name
			FROM gpkg_contents c JOIN gpkg_geometry_columns g USING (table_name) ORDER BY 1`)
	}
	points := []geo.Feature{{ID: 1, Geometry: orb.Point{114, 22.3}}}
	polygons := []geo.Feature{{ID: 1, Geometry: orb.Polygon{{{114, 22}, {114.1, 22}, {114.1, 22.1}, {114, 22}}}}}
	var made []catalog.LayerInfo
	for i, fs := range [][]geo.Feature{points, lines(5, 2), polygons} {
		made = append(made, replace(t, s, catalog.LayerInfo{ID: "roads", Title: fmt.Sprint("Roads ", i+1)}, fs))
	}
	kept := func(v int64) string { return fmt.Sprintf("roads@%d", v) }
	if got, want := tables(), []string{"roads", kept(made[1].Version)}; !slices.Equal(got, want) {
		t.Errorf("tables after 3 replaces, keeping 2: %q, want %q", got, want)
	}
	if got, want := registered(), []string{"roads Roads 3 POLYGON"}; !slices.Equal(got, want) {
		t.Errorf("registered %q, want %q", got, want)
	}

	rollback, err := s.Rollback(t.Context(), "roads", made[1].Version)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := tables(), []string{"roads", kept(made[2].Version)}; !slices.Equal(got, want) {
		t.Errorf("tables after a rollback: %q, want %q", got, want)
	}
	if got, want := registered(), []string{"roads Roads 2 LINESTRING"}; !slices.Equal(got, want) {
		t.Errorf("registered after a rollback %q, want %q", got, want)
	}
	list := run(t, ogrinfo, "-ro", path)
	var listed []string
	for _, m := range regexp.MustCompile(`(?m)^\d+: (.*)$`).FindAllStringSubmatch(list, -1) {
		listed = append(listed, m[1])
	}
	if want := []string{"roads (Line String)", "csdi_layers (None)"}; !slices.Equal(listed, want) {
		t.Errorf("GDAL lists %q, want %q", listed, want)
	}
	if out := run(t, ogrinfo, "-ro", "-so", path, "roads"); !strings.Contains(out, "Feature Count: 5\n") {
		t.Errorf("GDAL's count after the rollback, want 5:\n%s", out)
	}
	edited, err := s.UpdateInfo(t.Context(), catalog.LayerInfo{ID: "roads", Title: "Renamed", Description: "見"})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := registered(), []string{"roads Renamed LINESTRING"}; !slices.Equal(got, want) {
		t.Errorf("registered after an update %q, want %q", got, want)
	}
	if edited.Version <= rollback.Version {
		t.Errorf("update made version %d, not after %d", edited.Version, rollback.Version)
	}

	if err := s.DeleteLayer(t.Context(), "roads"); err != nil {
		t.Fatal(err)
	}
	if got := tables(); len(got) != 0 {
		t.Errorf("tables after delete: %q", got)
	}
	if got := queryStrings(t, db, "SELECT id FROM csdi_versions"); len(got) != 0 {
		t.Errorf("kept versions after delete: %q", got)
	}

	onePath := filepath.Join(t.TempDir(), "one.gpkg")
	one, err := gpkg.OpenWith(t.Context(), onePath, gpkg.Options{Keep: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer one.Close()
	for i := range 3 {
		replace(t, one, catalog.LayerInfo{ID: "roads"}, lines(i+1, int64(i)))
	}
	if got := queryStrings(t, rawDB(t, onePath), "SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE 'roads%'"); !slices.Equal(got, []string{"roads"}) {
		t.Errorf("tables keeping 1: %q, want only roads", got)
	}
	if _, err := gpkg.OpenWith(t.Context(), filepath.Join(t.TempDir(), "bad.gpkg"), gpkg.Options{Keep: -1}); err == nil {
		t.Error("keep -1: no error")
	}
}

// TestIndexedLayer has GDAL add a spatial index, with its triggers, to a
// layer; the next replace keeps the old table without them, and a rollback
// brings back data that GDAL reads right.
func TestIndexedLayer(t *testing.T) {
	ogrinfo := testenv.Command(t, "ogrinfo")
	path := filepath.Join(t.TempDir(), "csdi.gpkg")
	s := openAt(t, path)
	defer s.Close()
	feats := lamps(700)
	first := replace(t, s, catalog.LayerInfo{ID: "lamps", Title: "Lamps"}, feats)
	run(t, ogrinfo, "-q", path, "-sql", "SELECT CreateSpatialIndex('lamps', 'geom')")
	db := rawDB(t, path)
	if got := queryStrings(t, db, "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'lamps'"); len(got) == 0 {
		t.Fatal("GDAL made no triggers for its spatial index")
	}
	replace(t, s, catalog.LayerInfo{ID: "lamps", Title: "Lamps"}, lamps(50))
	if out := run(t, ogrinfo, "-ro", "-so", path, "lamps"); !strings.Contains(out, "Feature Count: 50\n") {
		t.Errorf("GDAL's count after a replace, want 50:\n%s", out)
	}
	if _, err := s.Rollback(t.Context(), "lamps", first.Version); err != nil {
		t.Fatal(err)
	}
	q := orb.Bound{Min: orb.Point{113.90021, 22.14}, Max: orb.Point{113.95021, 22.2}} // off the grid of lamps
	inside := 0
	for _, f := range feats {
		if q.Contains(f.Geometry.(orb.Point)) {
			inside++
		}
	}
	if inside == 0 || inside == len(feats) {
		t.Fatalf("test setup: %d of %d features in the filter", inside, len(feats))
	}
	if out := run(t, ogrinfo, "-ro", "-so", path, "lamps"); !strings.Contains(out, "Feature Count: 700\n") {
		t.Errorf("GDAL's count after a rollback, want 700:\n%s", out)
	}
	out := run(t, ogrinfo, "-ro", "-so", "-spat", "113.90021", "22.14", "113.95021", "22.2", path, "lamps")
	if !strings.Contains(out, fmt.Sprintf("Feature Count: %d\n", inside)) {
		t.Errorf("GDAL's spatial filter after a rollback, want %d features:\n%s", inside, out)
	}
	if got := queryStrings(t, db, "SELECT name FROM sqlite_master WHERE name LIKE 'rtree%' OR type = 'trigger'"); len(got) != 0 {
		t.Errorf("left over: %q", got)
	}
}

// TestOldFile opens a file as the store made it before versions, tokens and
// tile options existed.
func TestOldFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "csdi.gpkg")
	s := openAt(t, path)
	v1 := replace(t, s, catalog.LayerInfo{ID: "roads", Title: "Roads"}, lines(3, 1))
	s.Close()
	db := rawDB(t, path)
	for _, q := range []string{
		"ALTER TABLE csdi_layers DROP COLUMN data",
		"DROP TABLE csdi_versions",
		"DROP TABLE csdi_tokens",
		"DELETE FROM gpkg_contents WHERE table_name = 'csdi_layers'",
		"UPDATE csdi_layers SET info = json_remove(info, '$.tiles', '$.created_by', '$.source_file')",
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	db.Close()

	for range 2 { // twice: the second open finds everything in place
		s = openAt(t, path)
		defer s.Close()
	}
	ls, err := s.Layers(t.Context())
	if err != nil || len(ls) != 1 || ls[0].Version != v1.Version || ls[0].Tiles.Properties != nil {
		t.Fatalf("layers of an old file: %+v %v", ls, err)
	}
	h, err := s.History(t.Context(), "roads")
	if err != nil || len(h) != 1 || h[0].Version != v1.Version || h[0].DataVersion != v1.Version || !h[0].Current {
		t.Fatalf("history of an old file: %+v %v", h, err)
	}
	replace(t, s, catalog.LayerInfo{ID: "roads", Title: "Roads 2"}, lines(5, 2))
	if _, err := s.Rollback(t.Context(), "roads", v1.Version); err != nil {
		t.Fatal(err)
	}
	if info, feats := read(t, s, "roads"); len(feats) != 3 || info.Title != "Roads" {
		t.Errorf("rolled back to the old version: %q with %d features", info.Title, len(feats))
	}
	hash := make([]byte, catalog.TokenHashSize)
	if err := s.CreateToken(t.Context(), "Lands", hash); err != nil {
		t.Fatal(err)
	}
}
