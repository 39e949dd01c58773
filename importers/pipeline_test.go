package importers

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/paulmach/orb"

	"github.com/csdi-hk/csdi/catalog"
	"github.com/csdi-hk/csdi/catalog/gpkg"
	"github.com/csdi-hk/csdi/geo"
	"github.com/csdi-hk/csdi/internal/testenv"
)

func openStore(t *testing.T) *gpkg.Store {
	t.Helper()
	st, err := gpkg.Open(context.Background(), filepath.Join(t.TempDir(), "csdi.gpkg"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// readLayer reads a stored layer back: id -> feature.
func readLayer(t *testing.T, st catalog.Store, id string) (catalog.LayerInfo, map[uint64]geo.Feature) {
	t.Helper()
	feats := map[uint64]geo.Feature{}
	info, err := st.ReadLayer(context.Background(), id, func(f geo.Feature) error {
		feats[f.ID] = f
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return info, feats
}

// mixed is a GeoJSON file of six features: two good, two to repair, two
// to reject.
const mixed = `{"type":"FeatureCollection","features":[
{"type":"Feature","id":11,"geometry":{"type":"Polygon","coordinates":[[[114,22],[114.01,22],[114.01,22.01],[114,22]]]},"properties":{"name":"good"}},
{"type":"Feature","id":12,"geometry":{"type":"Polygon","coordinates":[[[114,22],[114.01,22],[114.01,22.01]]]},"properties":{"name":"unclosed"}},
{"type":"Feature","id":13,"geometry":{"type":"Polygon","coordinates":[[[114,22],[114.01,22.01],[114.01,22],[114,22.01],[114,22]]]},"properties":{"name":"bow-tie"}},
{"type":"Feature","id":14,"geometry":{"type":"Polygon","coordinates":[[[114,22],[114,22.01],[114.01,22.01],[114.01,22],[114,22]]]},"properties":{"name":"clockwise"}},
{"type":"Feature","id":15,"geometry":{"type":"LineString","coordinates":[[114.2,22.2],[114.2,22.2]]},"properties":{"name":"one point"}},
{"type":"Feature","id":16,"geometry":{"type":"Point","coordinates":[114.3,22.4]},"properties":{"name":"point"}}
]}`

func write(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestImportRepairsAndRejects(t *testing.T) {
	ctx := context.Background()
	st := openStore(t)
	path := write(t, "mixed.geojson", mixed)
	var last Progress
	reports, err := Import(ctx, st.ReplaceLayer, catalog.LayerInfo{ID: "mixed"}, path, ImportOptions{Progress: func(p Progress) { last = p }})
	if err != nil {
		t.Fatal(err)
	}
	if len(reports) != 1 {
		t.Fatalf("%d reports, want 1", len(reports))
	}
	r := reports[0]
	if r.Read != 6 || r.Imported != 4 || r.Repaired != 2 || r.Rejected != 2 || r.Version == 0 {
		t.Errorf("report %+v: want 6 read, 4 imported, 2 repaired, 2 rejected and a version", r)
	}
	if len(r.Rejects) != 2 || r.Rejects[0].Feature != 3 || r.Rejects[0].ID != 13 || !strings.Contains(r.Rejects[0].Reason, "self-intersection") ||
		r.Rejects[1].Feature != 5 || r.Rejects[1].ID != 15 || !strings.Contains(r.Rejects[1].Reason, "2 distinct points") {
		t.Errorf("rejects %+v", r.Rejects)
	}
	if r.Repairs["closed an unclosed ring"] != 1 || r.Repairs["rewound rings to RFC 7946 order"] != 1 {
		t.Errorf("repairs %v", r.Repairs)
	}
	if r.SourceCRS != "OGC:CRS84" && r.SourceCRS != "EPSG:4326" {
		t.Errorf("source CRS %q", r.SourceCRS)
	}
	if r.Format != FormatGeoJSON || r.File != "mixed.geojson" || r.BBox == nil || *r.BBox != [4]float64{114, 22, 114.3, 22.4} {
		t.Errorf("format %q, file %q, bbox %v", r.Format, r.File, r.BBox)
	}
	if last.Stage != "done" || last.Read != 6 || last.Bytes != last.Size || last.Size != int64(len(mixed)) {
		t.Errorf("last progress %+v", last)
	}

	info, feats := readLayer(t, st, "mixed")
	if info.FeatureCount != 4 || info.SourceFile != "mixed.geojson" || info.SourceCRS != r.SourceCRS {
		t.Errorf("stored info %+v", info)
	}
	for _, id := range []uint64{11, 12, 14} {
		ring := feats[id].Geometry.(orb.Polygon)[0]
		if len(ring) < 4 || ring[0] != ring[len(ring)-1] || ring.Orientation() != orb.CCW {
			t.Errorf("feature %d stored as %v: want a closed counter-clockwise ring", id, ring)
		}
	}
	if _, ok := feats[13]; ok {
		t.Error("the bow-tie was stored")
	}

	var text strings.Builder
	r.WriteText(&text)
	for _, want := range []string{"imported mixed: 4 features, version", "6 read, 4 imported, 2 repaired, 2 rejected",
		"feature 3 (id 13): self-intersection", "1 × closed an unclosed ring"} {
		if !strings.Contains(text.String(), want) {
			t.Errorf("report text lacks %q:\n%s", want, text.String())
		}
	}
	b, _ := json.Marshal(r)
	var back Report
	if err := json.Unmarshal(b, &back); err != nil || back.Rejected != 2 || back.Rejects[0].ID != 13 {
		t.Errorf("report JSON %s: %v", b, err)
	}
}

// TestImportFailuresKeepTheVersion: a strict import with a rejected
// feature, a truncated file, and a cancelled context all leave the version
// before as it was.
func TestImportFailuresKeepTheVersion(t *testing.T) {
	ctx := context.Background()
	st := openStore(t)
	good := write(t, "good.geojson", `{"type":"FeatureCollection","features":[{"type":"Feature","geometry":{"type":"Point","coordinates":[114.1,22.3]},"properties":{"v":"old"}}]}`)
	if _, err := Import(ctx, st.ReplaceLayer, catalog.LayerInfo{ID: "keep"}, good, ImportOptions{}); err != nil {
		t.Fatal(err)
	}
	before, _ := readLayer(t, st, "keep")

	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	tests := []struct {
		name string
		ctx  context.Context
		file string
		opts ImportOptions
		err  string
	}{
		{"strict", ctx, write(t, "mixed.geojson", mixed), ImportOptions{Strict: true}, "2 of 6 features rejected and the import is strict"},
		{"truncated", ctx, write(t, "cut.geojson", mixed[:len(mixed)/2]), ImportOptions{}, "cut.geojson"},
		{"cancelled", cancelled, write(t, "mixed.geojson", mixed), ImportOptions{}, "context canceled"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			reports, err := Import(tt.ctx, st.ReplaceLayer, catalog.LayerInfo{ID: "keep"}, tt.file, tt.opts)
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Fatalf("err = %v, want %q", err, tt.err)
			}
			if len(reports) == 1 && (reports[0].Error == "" || reports[0].Version != 0) {
				t.Errorf("report of a failed import: %+v", reports[0])
			}
			after, feats := readLayer(t, st, "keep")
			if after.Version != before.Version || len(feats) != 1 || feats[1].Properties["v"] != "old" {
				t.Errorf("after the failed import: version %d (was %d), features %v", after.Version, before.Version, feats)
			}
		})
	}
	t.Run("strict report", func(t *testing.T) {
		reports, _ := Import(ctx, st.ReplaceLayer, catalog.LayerInfo{ID: "keep"}, write(t, "m.geojson", mixed), ImportOptions{Strict: true})
		if len(reports) != 1 || reports[0].Read != 6 || reports[0].Rejected != 2 || len(reports[0].Rejects) != 2 {
			t.Errorf("strict report %+v: want the whole file read and both rejects listed", reports)
		}
	})
}

func TestImportCSVRowErrors(t *testing.T) {
	st := openStore(t)
	path := write(t, "p.csv", "name,lon,lat\na,114.1,22.3\nb,abc,22.3\nc,114.2,22.4\n")
	reports, err := Import(context.Background(), st.ReplaceLayer, catalog.LayerInfo{ID: "pts"}, path, ImportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	r := reports[0]
	if r.Imported != 2 || r.Rejected != 1 || r.Rejects[0].Feature != 2 || r.Format != FormatCSV {
		t.Fatalf("report %+v", r)
	}
}

// TestImportLayers: a GeoPackage of two tables is refused without a
// choice, imported table by table with AllLayers, or one with SourceLayer.
func TestImportLayers(t *testing.T) {
	ogr := testenv.Command(t, "ogr2ogr")
	dir := t.TempDir()
	path := filepath.Join(dir, "two.gpkg")
	for _, args := range [][]string{
		{"-f", "GPKG", path, "../testdata/sample/public_toilets.geojson", "-nln", "Toilets"},
		{"-f", "GPKG", "-update", path, "../testdata/sample/roads.geojson", "-nln", "道路"},
	} {
		if out, err := exec.Command(ogr, args...).CombinedOutput(); err != nil {
			t.Fatalf("ogr2ogr %v: %v\n%s", args, err, out)
		}
	}
	ctx := context.Background()
	st := openStore(t)
	_, err := Import(ctx, st.ReplaceLayer, catalog.LayerInfo{ID: "hk"}, path, ImportOptions{})
	if err == nil || !strings.Contains(err.Error(), `2 layers ("Toilets", "道路")`) && !strings.Contains(err.Error(), `2 layers ("道路", "Toilets")`) {
		t.Fatalf("err = %v, want the layers listed", err)
	}
	reports, err := Import(ctx, st.ReplaceLayer, catalog.LayerInfo{ID: "hk"}, path, ImportOptions{AllLayers: true})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]int64{}
	for _, r := range reports {
		got[r.Layer] = r.Imported
	}
	toilets, roads := len(original(t, "public_toilets")), len(original(t, "roads"))
	if len(got) != 2 || got["hk_toilets"] != int64(toilets) || got["hk_2"]+got["hk_1"] != int64(roads) {
		t.Errorf("imported %v; want hk_toilets with %d and the Chinese-named table by number with %d", got, toilets, roads)
	}
	reports, err = Import(ctx, st.ReplaceLayer, catalog.LayerInfo{ID: "roads"}, path, ImportOptions{Options: Options{SourceLayer: "道路"}})
	if err != nil || reports[0].Imported != int64(roads) || reports[0].SourceLayer != "道路" {
		t.Fatalf("with --source-layer: %+v, %v", reports, err)
	}
}

func TestSubLayerIDs(t *testing.T) {
	ids, err := SubLayerIDs("x", []Source{{Name: "Buildings 2024"}, {Name: "道路"}, {Name: "road-Centre_lines"}, {Name: strings.Repeat("a", 80)}})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"x_buildings_2024", "x_2", "x_road_centre_lines", "x_" + strings.Repeat("a", 61)}
	for i := range want {
		if ids[i] != want[i] {
			t.Errorf("id %d = %q, want %q", i, ids[i], want[i])
		}
	}
	if _, err := SubLayerIDs("x", []Source{{Name: "A b"}, {Name: "a-b"}}); err == nil || !strings.Contains(err.Error(), "both become") {
		t.Errorf("colliding names: err = %v", err)
	}
}

// TestFileWatch reads a file part way and checks the offset seen.
func TestFileWatch(t *testing.T) {
	if _, err := os.Stat("/proc/self/fdinfo"); err != nil {
		t.Skip("no /proc/self/fdinfo: not Linux")
	}
	path := write(t, "f", strings.Repeat("x", 10000))
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w := fileWatch{path: path, fd: -1}
	if off := w.offset(); off != 0 {
		t.Fatalf("offset before reading = %d", off)
	}
	f.Read(make([]byte, 1234))
	if off := w.offset(); off != 1234 {
		t.Fatalf("offset = %d, want 1234", off)
	}
}

// TestPrefetch: the features arrive in order, an early stop of the
// consumer stops the reader, and the reader's error comes last.
func TestPrefetch(t *testing.T) {
	const n = 10000
	read := func(fail error, made *int) func(func(geo.Feature) bool) error {
		return func(emit func(geo.Feature) bool) error {
			for i := 1; i <= n; i++ {
				*made = i
				if !emit(geo.Feature{ID: uint64(i)}) {
					return nil
				}
			}
			return fail
		}
	}
	var made int
	var got []uint64
	err := prefetch(read(nil, &made), func(f geo.Feature, _ error) bool {
		got = append(got, f.ID)
		return true
	})
	if err != nil || len(got) != n || got[0] != 1 || got[n-1] != n || !slices.IsSorted(got) {
		t.Fatalf("all: %d features, err %v", len(got), err)
	}
	got = got[:0]
	err = prefetch(read(nil, &made), func(f geo.Feature, _ error) bool {
		got = append(got, f.ID)
		return len(got) < 300
	})
	if err != nil || len(got) != 300 || made >= n {
		t.Fatalf("stopped after 300: got %d, the reader made %d of %d, err %v", len(got), made, n, err)
	}
	boom := errors.New("boom")
	got = got[:0]
	err = prefetch(read(boom, &made), func(f geo.Feature, _ error) bool {
		got = append(got, f.ID)
		return true
	})
	if err != boom || len(got) != n {
		t.Fatalf("failing reader: %d features, err %v", len(got), err)
	}
}
