package gpkg_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"iter"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/paulmach/orb"

	"github.com/csdi-hk/csdi/catalog"
	"github.com/csdi-hk/csdi/catalog/gpkg"
	"github.com/csdi-hk/csdi/catalog/storetest"
	"github.com/csdi-hk/csdi/geo"
	"github.com/csdi-hk/csdi/internal/testenv"
)

func TestContract(t *testing.T) {
	storetest.Run(t, func(t *testing.T, keep int) catalog.Store {
		s, err := gpkg.OpenWith(t.Context(), filepath.Join(t.TempDir(), "data", "csdi.gpkg"), gpkg.Options{Keep: keep})
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}

func openAt(t *testing.T, path string) *gpkg.Store {
	t.Helper()
	s, err := gpkg.Open(t.Context(), path)
	if err != nil {
		t.Fatalf("open %s: %v", path, err)
	}
	return s
}

func seqOf(feats []geo.Feature) iter.Seq2[geo.Feature, error] {
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
	out, err := s.ReplaceLayer(t.Context(), info, seqOf(feats))
	if err != nil {
		t.Fatalf("replace %q: %v", info.ID, err)
	}
	return out
}

// rawDB opens the file with plain SQLite, to look at it as another program would.
func rawDB(t *testing.T, path string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", path+"?_pragma=busy_timeout(10000)")
	if err != nil {
		t.Fatalf("open %s: %v", path, err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func queryStrings(t *testing.T, db *sql.DB, q string, args ...any) []string {
	t.Helper()
	rows, err := db.QueryContext(t.Context(), q, args...)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return out
}

func TestOpenMakesGeoPackage(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a", "b", "csdi.gpkg")
	s := openAt(t, path)
	replace(t, s, catalog.LayerInfo{ID: "kept", Title: "Kept"}, []geo.Feature{{ID: 3, Geometry: orb.Point{114, 22}}})
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	db := rawDB(t, path)
	var app, ver int64
	if err := db.QueryRow("PRAGMA application_id").Scan(&app); err != nil {
		t.Fatal(err)
	}
	if err := db.QueryRow("PRAGMA user_version").Scan(&ver); err != nil {
		t.Fatal(err)
	}
	if app != 0x47504B47 || ver < 10200 {
		t.Errorf("application_id %#x user_version %d, want 0x47504B47 and at least 10200", app, ver)
	}
	srs := queryStrings(t, db, "SELECT srs_id FROM gpkg_spatial_ref_sys ORDER BY srs_id")
	if !slices.Equal(srs, []string{"-1", "0", "4326"}) {
		t.Errorf("spatial reference systems %v, want -1, 0, 4326", srs)
	}

	// Reopened, the layer is there.
	s = openAt(t, path)
	defer s.Close()
	ls, err := s.Layers(t.Context())
	if err != nil || len(ls) != 1 || ls[0].ID != "kept" || ls[0].FeatureCount != 1 {
		t.Fatalf("layers after reopening: %+v, %v", ls, err)
	}
}

func TestOpenRefusesOtherSQLite(t *testing.T) {
	path := filepath.Join(t.TempDir(), "other.db")
	db := rawDB(t, path)
	if _, err := db.Exec("CREATE TABLE notes (body TEXT)"); err != nil {
		t.Fatal(err)
	}
	db.Close()
	s, err := gpkg.Open(t.Context(), path)
	if err == nil {
		s.Close()
		t.Fatal("opened a SQLite file that is not a GeoPackage")
	}
	if !strings.Contains(err.Error(), path) {
		t.Errorf("error %q does not name the file", err)
	}
}

func TestReservedIDs(t *testing.T) {
	path := filepath.Join(t.TempDir(), "csdi.gpkg")
	s := openAt(t, path)
	defer s.Close()
	replace(t, s, catalog.LayerInfo{ID: "roads", Title: "Roads"}, []geo.Feature{{ID: 1, Geometry: orb.Point{114, 22}}})
	for _, id := range []string{"gpkg_contents", "gpkg_spatial_ref_sys", "rtree_roads_geom", "csdi_layers", "sqlite_sequence"} {
		if _, err := s.ReplaceLayer(t.Context(), catalog.LayerInfo{ID: id}, seqOf(nil)); err == nil {
			t.Errorf("replace of %q: no error", id)
		}
	}
	ls, err := s.Layers(t.Context())
	if err != nil || len(ls) != 1 {
		t.Fatalf("layers: %v %v", ids(ls), err)
	}
	if _, feats := read(t, s, "roads"); len(feats) != 1 {
		t.Errorf("roads has %d features, want 1", len(feats))
	}
}

func ids(ls []catalog.LayerInfo) []string {
	var out []string
	for _, l := range ls {
		out = append(out, l.ID)
	}
	return out
}

func read(t *testing.T, s catalog.Store, id string) (catalog.LayerInfo, []geo.Feature) {
	t.Helper()
	var feats []geo.Feature
	info, err := s.ReadLayer(t.Context(), id, func(f geo.Feature) error {
		feats = append(feats, f)
		return nil
	})
	if err != nil {
		t.Fatalf("read %q: %v", id, err)
	}
	return info, feats
}

// TestNothingLeftBehind looks at the file itself after failed replaces and a
// delete: no table, index or registry row of the layer may remain.
func TestNothingLeftBehind(t *testing.T) {
	path := filepath.Join(t.TempDir(), "csdi.gpkg")
	s := openAt(t, path)
	defer s.Close()
	db := rawDB(t, path)
	objects := func() []string {
		return queryStrings(t, db, `SELECT type || ' ' || name FROM sqlite_master WHERE name LIKE '%fresh%' OR name LIKE '%gone%'
			UNION ALL SELECT 'contents ' || table_name FROM gpkg_contents WHERE table_name <> 'csdi_layers'
			UNION ALL SELECT 'geometry_columns ' || table_name FROM gpkg_geometry_columns
			UNION ALL SELECT 'extensions ' || table_name FROM gpkg_extensions`)
	}
	boom := errors.New("boom")
	widening := func(yield func(geo.Feature, error) bool) {
		// Features that make the store add and retype columns first.
		for i, v := range []any{int64(1), 2.5, "three"} {
			if !yield(geo.Feature{ID: uint64(i + 1), Geometry: orb.Point{114, 22}, Properties: map[string]any{"v": v}}, nil) {
				return
			}
		}
		if !yield(geo.Feature{ID: 9, Geometry: orb.LineString{{114, 22}, {115, 23}}}, nil) {
			return
		}
		yield(geo.Feature{}, boom)
	}
	if _, err := s.ReplaceLayer(t.Context(), catalog.LayerInfo{ID: "fresh"}, widening); !errors.Is(err, boom) {
		t.Fatalf("replace: got %v, want %v", err, boom)
	}
	if got := objects(); len(got) != 0 {
		t.Errorf("a failed replace left %q", got)
	}

	first := replace(t, s, catalog.LayerInfo{ID: "gone", Title: "Gone"}, []geo.Feature{{ID: 1, Geometry: orb.Point{114, 22}}})
	replace(t, s, catalog.LayerInfo{ID: "gone", Title: "Gone"}, []geo.Feature{{ID: 2, Geometry: orb.Point{114, 22}}})
	want := []string{"table gone", "contents gone", "geometry_columns gone", "table gone@" + strconv.FormatInt(first.Version, 10)}
	before := objects()
	if !containsAll(before, want) {
		t.Errorf("after two replaces the file holds %q, want at least %q", before, want)
	}
	// A failed replace of a layer with history leaves the file as it was.
	all := func() []string {
		return queryStrings(t, db, `SELECT type || ' ' || name || ' ' || coalesce(sql, '') FROM sqlite_master
			UNION ALL SELECT id || ' ' || version || ' ' || data FROM csdi_versions ORDER BY 1`)
	}
	was := all()
	if _, err := s.ReplaceLayer(t.Context(), catalog.LayerInfo{ID: "gone"}, widening); !errors.Is(err, boom) {
		t.Fatalf("replace: got %v, want %v", err, boom)
	}
	if got := all(); !slices.Equal(got, was) {
		t.Errorf("a failed replace changed the file:\n got %q\nwant %q", got, was)
	}
	if err := s.DeleteLayer(t.Context(), "gone"); err != nil {
		t.Fatal(err)
	}
	if got := objects(); len(got) != 0 {
		t.Errorf("a delete left %q", got)
	}
}

func containsAll(got, want []string) bool {
	for _, w := range want {
		if !slices.Contains(got, w) {
			return false
		}
	}
	return true
}

// TestGDALMadeFile opens a GeoPackage GDAL made, with its spatial index and
// cached feature count, and replaces and deletes its layer: GDAL must then
// see the new features, not a stale index or count.
func TestGDALMadeFile(t *testing.T) {
	ogr2ogr, ogrinfo := testenv.Command(t, "ogr2ogr"), testenv.Command(t, "ogrinfo")
	dir := t.TempDir()
	src := filepath.Join(dir, "scatter.geojson")
	if err := os.WriteFile(src, []byte(`{"type":"FeatureCollection","features":[
{"type":"Feature","properties":{"n":1},"geometry":{"type":"Point","coordinates":[114.1,22.3]}},
{"type":"Feature","properties":{"n":2},"geometry":{"type":"Point","coordinates":[114.5,22.5]}}]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "gdal.gpkg")
	run(t, ogr2ogr, "-f", "GPKG", "-nln", "scatter", path, src)
	db := rawDB(t, path)
	if got := queryStrings(t, db, "SELECT name FROM sqlite_master WHERE name IN ('rtree_scatter_geom', 'gpkg_ogr_contents') ORDER BY name"); len(got) != 2 {
		t.Fatalf("GDAL made no index or no count cache: %v", got)
	}

	s := openAt(t, path)
	defer s.Close()
	rng := rand.New(rand.NewPCG(1, 2))
	var feats []geo.Feature
	for i := range 700 {
		feats = append(feats, geo.Feature{ID: uint64(i + 1), Geometry: orb.Point{113.8 + rng.Float64()*0.6, 22.15 + rng.Float64()*0.4}})
	}
	replace(t, s, catalog.LayerInfo{ID: "scatter", Title: "Scatter"}, feats)
	q := orb.Bound{Min: orb.Point{114, 22.2}, Max: orb.Point{114.2, 22.4}}
	inside := 0
	for _, f := range feats {
		if q.Contains(f.Geometry.(orb.Point)) {
			inside++
		}
	}
	if out := run(t, ogrinfo, "-ro", "-so", path, "scatter"); !strings.Contains(out, "Feature Count: 700\n") {
		t.Errorf("GDAL's count after a replace, want 700:\n%s", out)
	}
	out := run(t, ogrinfo, "-ro", "-so", "-spat", "114", "22.2", "114.2", "22.4", path, "scatter")
	if !strings.Contains(out, fmt.Sprintf("Feature Count: %d\n", inside)) {
		t.Errorf("GDAL's spatial filter after a replace, want %d features:\n%s", inside, out)
	}
	if err := s.DeleteLayer(t.Context(), "scatter"); err != nil {
		t.Fatal(err)
	}
	left := queryStrings(t, db, `SELECT name FROM sqlite_master WHERE name LIKE '%scatter%'
		UNION ALL SELECT table_name FROM gpkg_extensions WHERE table_name = 'scatter'
		UNION ALL SELECT table_name FROM gpkg_ogr_contents`)
	if len(left) != 0 {
		t.Errorf("delete left %v", left)
	}
}

func abs(f float64) float64 { return max(f, -f) }

func run(t *testing.T, name string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s %q: %v\n%s", name, args, err, stderr.String())
	}
	if stderr.Len() > 0 {
		t.Errorf("%s %q warned:\n%s", name, args, stderr.String())
	}
	return string(out)
}

// TestGDALReads has GDAL, an independent GeoPackage reader, list the layers,
// their counts, fields and geometry types, and read values and coordinates.
func TestGDALReads(t *testing.T) {
	ogrinfo := testenv.Command(t, "ogrinfo")
	path := filepath.Join(t.TempDir(), "csdi.gpkg")
	s := openAt(t, path)
	defer s.Close()

	day := time.Date(2024, 2, 29, 0, 0, 0, 0, time.UTC)
	at := time.Date(2024, 7, 1, 9, 30, 15, 250_000_000, time.FixedZone("HKT", 8*3600))
	toilets := []geo.Feature{
		{ID: 10, Geometry: orb.Point{114.1694567891, 22.3193012345}, Properties: map[string]any{
			"名稱": "中西區公廁", "地區": "中西區", "座位": int64(12), "面積": 35.5, "開放": true, "啟用日期": day, "更新時間": at}},
		{ID: 11, Geometry: orb.Point{114.1822, 22.2783}, Properties: map[string]any{"名稱": "灣仔公廁", "地區": "灣仔區", "座位": int64(8)}},
		{ID: 12, Geometry: orb.Point{114.2, 22.3}, Properties: map[string]any{"名稱": "東區公廁", "開放": false}},
	}
	replace(t, s, catalog.LayerInfo{ID: "toilets", Title: "Public Toilets", TitleZH: "公廁", Description: "FEHD toilets"}, toilets)
	replace(t, s, catalog.LayerInfo{ID: "routes", Title: "Routes"}, []geo.Feature{
		{ID: 1, Geometry: orb.MultiLineString{{{114, 22.2}, {114.1, 22.3}}}, Properties: map[string]any{"route": "1A"}},
		{ID: 2, Geometry: orb.MultiLineString{{{114.2, 22.2}, {114.3, 22.3}}, {{114.3, 22.3}, {114.4, 22.35}}}, Properties: map[string]any{"route": "2"}},
	})
	replace(t, s, catalog.LayerInfo{ID: "districts", Title: "Districts"}, []geo.Feature{
		{ID: 1, Geometry: orb.Polygon{{{114, 22.2}, {114.1, 22.2}, {114.1, 22.3}, {114, 22.2}}}, Properties: map[string]any{"區": "中西區", "人口": int64(235953)}},
	})
	replace(t, s, catalog.LayerInfo{ID: "mixed", Title: "Mixed"}, []geo.Feature{
		{ID: 1, Geometry: orb.Point{114, 22}}, {ID: 2, Geometry: orb.LineString{{114, 22}, {114.1, 22.1}}},
	})
	replace(t, s, catalog.LayerInfo{ID: "nothing", Title: "Nothing"}, nil)
	// A title two layers share (gpkg_contents.identifier is unique).
	replace(t, s, catalog.LayerInfo{ID: "again", Title: "Districts"}, []geo.Feature{{ID: 1, Geometry: orb.Point{114, 22}}})

	type layer struct {
		geom   string
		count  int
		fields []string
	}
	want := map[string]layer{
		"toilets": {"Point", 3, []string{"名稱: String", "啟用日期: Date", "地區: String", "座位: Integer64",
			"更新時間: DateTime", "開放: Integer(Boolean)", "面積: Real"}},
		"routes":    {"Multi Line String", 2, []string{"route: String"}},
		"districts": {"Polygon", 1, []string{"人口: Integer64", "區: String"}},
		"mixed":     {"Unknown (any)", 2, nil},
		"nothing":   {"Unknown (any)", 0, nil},
		"again":     {"Point", 1, nil},
	}

	// The list of layers, as `ogrinfo <file>` prints it.
	list := run(t, ogrinfo, "-ro", path)
	for id := range want {
		if !regexp.MustCompile(`(?m)^\d+: ` + id + `( \(|$)`).MatchString(list) {
			t.Errorf("ogrinfo does not list %s:\n%s", id, list)
		}
	}

	summary := run(t, ogrinfo, "-ro", "-so", "-al", path)
	got := map[string]layer{}
	var cur string
	fieldLine := regexp.MustCompile(`^(\S.*): (String|Integer64|Integer\(Boolean\)|Integer|Real|Date|DateTime) \(`)
	for line := range strings.Lines(summary) {
		line = strings.TrimRight(line, "\n")
		switch {
		case strings.HasPrefix(line, "Layer name: "):
			cur = strings.TrimPrefix(line, "Layer name: ")
			got[cur] = layer{}
		case strings.HasPrefix(line, "Geometry: "):
			l := got[cur]
			l.geom = strings.TrimPrefix(line, "Geometry: ")
			got[cur] = l
		case strings.HasPrefix(line, "Feature Count: "):
			l := got[cur]
			l.count, _ = strconv.Atoi(strings.TrimPrefix(line, "Feature Count: "))
			got[cur] = l
		default:
			if m := fieldLine.FindStringSubmatch(line); m != nil && cur != "" {
				l := got[cur]
				l.fields = append(l.fields, m[1]+": "+m[2])
				got[cur] = l
			}
		}
	}
	for id, w := range want {
		g := got[id]
		slices.Sort(g.fields)
		slices.Sort(w.fields)
		if g.geom != w.geom || g.count != w.count || !slices.Equal(g.fields, w.fields) {
			t.Errorf("ogrinfo -so -al, layer %s:\n got %+v\nwant %+v", id, g, w)
		}
	}
	if !strings.Contains(summary, "IDENTIFIER=Public Toilets") || !strings.Contains(summary, "DESCRIPTION=FEHD toilets") {
		t.Errorf("ogrinfo does not show the title and description of toilets:\n%s", summary)
	}

	// Values and coordinates, read by GDAL.
	full := run(t, ogrinfo, "-ro", "-al", "-fid", "10", path, "toilets")
	for _, s := range []string{
		"名稱 (String) = 中西區公廁", "座位 (Integer64) = 12", "面積 (Real) = 35.5", "開放 (Integer(Boolean)) = 1",
		"啟用日期 (Date) = 2024/02/29", "更新時間 (DateTime) = 2024/07/01 01:30:15.250+00",
		"POINT (114.1694567891 22.3193012345)",
	} {
		if !strings.Contains(full, s) {
			t.Errorf("ogrinfo feature 10 lacks %q:\n%s", s, full)
		}
	}

	// A spatial filter: two of three toilets.
	filtered := run(t, ogrinfo, "-ro", "-so", "-spat", "114.15", "22.25", "114.19", "22.35", path, "toilets")
	if !strings.Contains(filtered, "Feature Count: 2") {
		t.Errorf("ogrinfo -spat should count 2 toilets:\n%s", filtered)
	}
}

// TestReadsGDALGeometries decodes geometries GDAL wrote (points without an
// envelope, its own flags), so the decoder is not only tested against the
// encoder beside it.
func TestReadsGDALGeometries(t *testing.T) {
	ogr2ogr := testenv.Command(t, "ogr2ogr")
	dir := t.TempDir()
	src := filepath.Join(dir, "in.geojson")
	const geojson = `{"type":"FeatureCollection","features":[
{"type":"Feature","id":1,"properties":{},"geometry":{"type":"Point","coordinates":[114.1234567891,22.2345678912]}},
{"type":"Feature","id":2,"properties":{},"geometry":{"type":"MultiPolygon","coordinates":[[[[114,22],[114.1,22],[114.1,22.1],[114,22]],[[114.01,22.01],[114.02,22.01],[114.02,22.02],[114.01,22.01]]]]}},
{"type":"Feature","id":3,"properties":{},"geometry":{"type":"LineString","coordinates":[[114,22],[114.5,22.5]]}}]}`
	if err := os.WriteFile(src, []byte(geojson), 0o644); err != nil {
		t.Fatal(err)
	}
	dst := filepath.Join(dir, "gdal.gpkg")
	run(t, ogr2ogr, "-f", "GPKG", "-nln", "made", dst, src)
	db := rawDB(t, dst)
	rows, err := db.Query("SELECT geom FROM made ORDER BY fid")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var got []string
	for rows.Next() {
		var b []byte
		if err := rows.Scan(&b); err != nil {
			t.Fatal(err)
		}
		g, err := gpkg.DecodeGeometry(b)
		if err != nil {
			t.Fatalf("decode GDAL's geometry %x: %v", b, err)
		}
		got = append(got, fmt.Sprint(g))
	}
	want := []string{
		"[114.1234567891 22.2345678912]",
		"[[[[114 22] [114.1 22] [114.1 22.1] [114 22]] [[114.01 22.01] [114.02 22.01] [114.02 22.02] [114.01 22.01]]]]",
		"[[114 22] [114.5 22.5]]",
	}
	if !slices.Equal(got, want) {
		t.Errorf("decoded\n got %q\nwant %q", got, want)
	}
}

// lamps are small point features, the shape of most CSDI layers.
func lamps(n int) []geo.Feature {
	feats := make([]geo.Feature, n)
	for i := range feats {
		feats[i] = geo.Feature{
			ID:       uint64(i + 1),
			Geometry: orb.Point{113.8 + float64(i%1000)*0.0005, 22.15 + float64(i/1000)*0.004},
			Properties: map[string]any{
				"name": "路燈 " + strconv.Itoa(i), "district": "中西區", "height": 6.5, "installed": int64(1990 + i%30),
			},
		}
	}
	return feats
}

func BenchmarkReplace(b *testing.B) {
	const n = 100_000
	feats := lamps(n)
	s, err := gpkg.Open(b.Context(), filepath.Join(b.TempDir(), "bench.gpkg"))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	for b.Loop() {
		if _, err := s.ReplaceLayer(b.Context(), catalog.LayerInfo{ID: "lamps", Title: "Lamps"}, seqOf(feats)); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "features/s")
}

func BenchmarkReadLayer(b *testing.B) {
	const n = 100_000
	s, err := gpkg.Open(b.Context(), filepath.Join(b.TempDir(), "bench.gpkg"))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	if _, err := s.ReplaceLayer(b.Context(), catalog.LayerInfo{ID: "lamps", Title: "Lamps"}, seqOf(lamps(n))); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		count := 0
		if _, err := s.ReadLayer(b.Context(), "lamps", func(geo.Feature) error { count++; return nil }); err != nil || count != n {
			b.Fatalf("read %d features: %v", count, err)
		}
	}
	b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "features/s")
}

// TestRepeatedIDNamed checks the error names the repeated id, wherever it
// falls in the store's batches.
func TestRepeatedIDNamed(t *testing.T) {
	s := openAt(t, filepath.Join(t.TempDir(), "csdi.gpkg"))
	defer s.Close()
	for _, tc := range []struct{ at, n, repeats int }{{3, 10, 1}, {100, 300, 2}, {299, 300, 250}, {1000, 1001, 1}} {
		var feats []geo.Feature
		for i := range tc.n {
			id := uint64(i + 1)
			if i == tc.at {
				id = uint64(tc.repeats)
			}
			feats = append(feats, geo.Feature{ID: id, Geometry: orb.Point{114, 22}})
		}
		_, err := s.ReplaceLayer(t.Context(), catalog.LayerInfo{ID: "dups"}, seqOf(feats))
		if want := fmt.Sprintf("feature id %d appears twice", tc.repeats); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%+v: got %v, want an error saying %q", tc, err, want)
		}
	}
}
