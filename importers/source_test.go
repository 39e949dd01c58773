package importers

import (
	"archive/zip"
	"errors"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/paulmach/orb"

	"github.com/csdi-hk/csdi/geo"
	"github.com/csdi-hk/csdi/geo/crs"
	"github.com/csdi-hk/csdi/internal/testenv"
)

// The sample layers, read as GeoJSON, are what every other format that
// ogr2ogr writes from them must read back as.
var sampleLayers = []string{"districts", "roads", "public_toilets", "smart_lampposts"}

func samplePath(name string) string {
	return filepath.Join("..", "testdata", "sample", name+".geojson")
}

func original(t *testing.T, name string) []geo.Feature {
	t.Helper()
	f, err := os.Open(samplePath(name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []geo.Feature
	for feat, err := range GeoJSON(f, name) {
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, feat)
	}
	return out
}

// ogr2ogr runs GDAL's ogr2ogr, failing the test if it fails.
func ogr2ogr(t *testing.T, args ...string) {
	t.Helper()
	bin := testenv.Command(t, "ogr2ogr")
	out, err := exec.Command(bin, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("ogr2ogr %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// openOne opens a file that must hold one layer and reads all of it.
func openOne(t *testing.T, path string, opts Options) (Source, []geo.Feature) {
	t.Helper()
	srcs, closeFn, err := Open(path, opts)
	if err != nil {
		t.Fatalf("Open(%s): %v", path, err)
	}
	defer closeFn()
	if len(srcs) != 1 {
		t.Fatalf("Open(%s): %d sources, want 1", path, len(srcs))
	}
	return srcs[0], readAll(t, srcs[0])
}

func readAll(t *testing.T, s Source) []geo.Feature {
	t.Helper()
	var out []geo.Feature
	for f, err := range s.Features {
		if err != nil {
			t.Fatalf("reading features: %v", err)
		}
		out = append(out, f)
	}
	return out
}

// readUntilError reads features until the first error and returns both.
func readUntilError(s Source) ([]geo.Feature, error) {
	var out []geo.Feature
	for f, err := range s.Features {
		if err != nil {
			return out, err
		}
		out = append(out, f)
	}
	return out, nil
}

// match says how a format's round trip may differ from the GeoJSON.
type match struct {
	tol       float64                // coordinates, in degrees
	rename    func(string) string    // field names as the format keeps them
	boolAsInt bool                   // booleans come back as 1 and 0
	ids       func(i int) uint64     // the id of the i-th feature; nil: the original's
	skip      func(name string) bool // properties the format adds
}

// dbfName is a field name cut to the 10 bytes a .dbf holds, as GDAL cuts it.
func dbfName(s string) string { return s[:min(len(s), 10)] }

func compareFeatures(t *testing.T, got, want []geo.Feature, m match) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%d features, want %d", len(got), len(want))
	}
	for i := range want {
		g, w := got[i], want[i]
		wantID := w.ID
		if m.ids != nil {
			wantID = m.ids(i)
		}
		if g.ID != wantID {
			t.Errorf("feature %d: id %d, want %d", i+1, g.ID, wantID)
		}
		if err := geomClose(g.Geometry, w.Geometry, m.tol); err != nil {
			t.Errorf("feature %d (id %d): geometry: %v", i+1, w.ID, err)
		}
		props := map[string]any{}
		for k, v := range g.Properties {
			if m.skip == nil || !m.skip(k) {
				props[k] = v
			}
		}
		if len(props) != len(w.Properties) {
			t.Errorf("feature %d: properties %v, want %v", i+1, props, w.Properties)
			continue
		}
		for k, wv := range w.Properties {
			name := k
			if m.rename != nil {
				name = m.rename(k)
			}
			gv, ok := props[name]
			if !ok {
				t.Errorf("feature %d: no property %q in %v", i+1, name, props)
				continue
			}
			if b, isBool := wv.(bool); isBool && m.boolAsInt {
				wv = map[bool]int64{false: 0, true: 1}[b]
			}
			if !sameValue(gv, wv) {
				t.Errorf("feature %d: %s = %#v, want %#v", i+1, name, gv, wv)
			}
		}
	}
}

func sameValue(a, b any) bool {
	if ta, ok := a.(time.Time); ok {
		tb, ok := b.(time.Time)
		return ok && ta.Equal(tb)
	}
	return a == b
}

// geomClose reports how a differs from b: in type, structure, or a
// coordinate by more than tol.
func geomClose(a, b orb.Geometry, tol float64) error {
	if reflect.TypeOf(a) != reflect.TypeOf(b) {
		return fmt.Errorf("%T, want %T", a, b)
	}
	if sa, sb := shapeOf(a), shapeOf(b); sa != sb {
		return fmt.Errorf("parts %s, want %s", sa, sb)
	}
	var pa, pb []orb.Point
	forEachPoint(a, func(p orb.Point) bool { pa = append(pa, p); return true })
	forEachPoint(b, func(p orb.Point) bool { pb = append(pb, p); return true })
	for i := range pa {
		if d := math.Max(math.Abs(pa[i][0]-pb[i][0]), math.Abs(pa[i][1]-pb[i][1])); !(d <= tol) {
			return fmt.Errorf("point %d is %v, want %v (off by %g)", i, pa[i], pb[i], d)
		}
	}
	return nil
}

func shapeOf(g orb.Geometry) string {
	switch g := g.(type) {
	case orb.Point:
		return "1"
	case orb.MultiPoint:
		return fmt.Sprint(len(g))
	case orb.LineString:
		return fmt.Sprint(len(g))
	case orb.Ring:
		return fmt.Sprint(len(g))
	case orb.MultiLineString:
		var s []string
		for _, l := range g {
			s = append(s, shapeOf(l))
		}
		return "[" + strings.Join(s, " ") + "]"
	case orb.Polygon:
		var s []string
		for _, r := range g {
			s = append(s, shapeOf(r))
		}
		return "[" + strings.Join(s, " ") + "]"
	case orb.MultiPolygon:
		var s []string
		for _, p := range g {
			s = append(s, shapeOf(p))
		}
		return "[" + strings.Join(s, " ") + "]"
	}
	return fmt.Sprintf("%T", g)
}

// writeZip writes a zip archive of the named files, each under its name.
func writeZip(t *testing.T, path string, files map[string][]byte) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := zip.NewWriter(f)
	for name, b := range files {
		e, err := w.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.Write(b); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

func writeFile(t *testing.T, path, content string) string {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestSniff(t *testing.T) {
	gpkgHead := make([]byte, 100)
	copy(gpkgHead, "SQLite format 3\x00")
	copy(gpkgHead[68:], "GPKG")
	sqliteHead := make([]byte, 100)
	copy(sqliteHead, "SQLite format 3\x00")
	shpHead := make([]byte, 100)
	copy(shpHead, []byte{0, 0, 0x27, 0x0a})
	copy(shpHead[28:], []byte{0xe8, 0x03})
	tests := []struct {
		name, content, want string
	}{
		{"geojson.txt", `  {"type":"FeatureCollection","features":[]}`, FormatGeoJSON},
		{"bom.json", "\ufeff{\"type\":\"Feature\"}", FormatGeoJSON},
		{"kml.xml", `<?xml version="1.0" encoding="UTF-8"?><kml xmlns="http://www.opengis.net/kml/2.2"><Document/></kml>`, FormatKML},
		{"wfs.xml", `<?xml version="1.0"?><wfs:FeatureCollection xmlns:wfs="http://www.opengis.net/wfs/2.0" xmlns:gml="http://www.opengis.net/gml/3.2"/>`, FormatGML},
		{"gml.data", `<FeatureCollection xmlns="http://www.opengis.net/gml/3.2"/>`, FormatGML},
		{"fgb.bin", "fgb\x03fgb\x00rest", FormatFlatGeobuf},
		{"layer.csv.txt", "name,lon,lat\nx,114.1,22.3\n", FormatCSV},
		{"big5.csv", "\xa6W\xba\xd9,lon,lat\n", FormatCSV},
		{"gpkg.db", string(gpkgHead), FormatGeoPackage},
		{"noext", string(shpHead), FormatShapefile},
		{"plain.sqlite", string(sqliteHead), ""},
		{"binary.bin", "\x00\x01\x02garbage", ""},
		{"xml.xml", `<html><body/></html>`, ""},
		{"empty", "", ""},
	}
	dir := t.TempDir()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := writeFile(t, filepath.Join(dir, tt.name), tt.content)
			got, err := sniff(p)
			if tt.want == "" {
				if err == nil || !strings.Contains(err.Error(), p) {
					t.Fatalf("sniff = %q, %v; want an error naming the file", got, err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("sniff = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

func TestSniffZip(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		entries []string
		want    string
	}{
		{[]string{"roads/ROADS.SHP", "roads/ROADS.DBF"}, FormatShapefile},
		{[]string{"doc.kml", "files/icon.png"}, FormatKML},
		{[]string{"__MACOSX/._x.shp", "readme.txt"}, ""},
	}
	for i, tt := range tests {
		files := map[string][]byte{}
		for _, e := range tt.entries {
			files[e] = []byte("x")
		}
		p := filepath.Join(dir, fmt.Sprintf("%d.dat", i))
		writeZip(t, p, files)
		got, err := sniff(p)
		switch {
		case tt.want == "" && (err == nil || !strings.Contains(err.Error(), "readme.txt")):
			t.Errorf("%v: sniff = %q, %v; want an error listing the entries", tt.entries, got, err)
		case tt.want != "" && (err != nil || got != tt.want):
			t.Errorf("%v: sniff = %q, %v; want %q", tt.entries, got, err, tt.want)
		}
	}
}

func TestOpenMissingFile(t *testing.T) {
	_, _, err := Open(filepath.Join(t.TempDir(), "nope.shp"), Options{})
	if !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("err = %v, want one wrapping os.ErrNotExist", err)
	}
}

// GDAL writes GeoJSON in other CRSs with the 2008 "crs" member; such a
// file in the HK1980 Grid reads back onto the original within 1 mm.
func TestGeoJSONLegacyCRS(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"districts", "smart_lampposts"} {
		t.Run(name, func(t *testing.T) {
			p := filepath.Join(dir, name+".json")
			ogr2ogr(t, "-f", "GeoJSON", "-t_srs", "EPSG:2326", p, samplePath(name))
			src, got := openOne(t, p, Options{})
			if src.CRS != crs.HK1980Grid || src.Format != FormatGeoJSON {
				t.Errorf("format %s, CRS %v; want geojson, EPSG:2326", src.Format, src.CRS)
			}
			compareFeatures(t, got, original(t, name), match{tol: 1e-8})
		})
	}
	t.Run("plain", func(t *testing.T) {
		src, got := openOne(t, samplePath("roads"), Options{})
		if src.CRS != crs.CRS84 {
			t.Errorf("CRS %v, want CRS84", src.CRS)
		}
		compareFeatures(t, got, original(t, "roads"), match{})
	})
	t.Run("--crs declares", func(t *testing.T) {
		p := writeFile(t, filepath.Join(dir, "grid.geojson"),
			`{"type":"FeatureCollection","features":[{"type":"Feature","geometry":{"type":"Point","coordinates":[836694.05,819069.80]},"properties":{}}]}`)
		srcs, _, err := Open(p, Options{})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := readUntilError(srcs[0]); err == nil || !strings.Contains(err.Error(), "EPSG:2326") {
			t.Errorf("without --crs: %v, want the error naming EPSG:2326", err)
		}
		_, got := openOne(t, p, Options{CRS: "EPSG:2326"})
		// The grid's origin in WGS 84, as PROJ's cs2cs gives it.
		if p := got[0].Geometry.(orb.Point); math.Abs(p[0]-114.181009327) > 1e-8 || math.Abs(p[1]-22.310602434) > 1e-8 {
			t.Errorf("grid origin at %v in WGS 84", p)
		}
	})
}

func TestToWGS84(t *testing.T) {
	tests := []struct {
		name string
		c    crs.CRS
		g    orb.Geometry
		want string
	}{
		{"lon/lat as grid", crs.HK1980Grid, orb.Point{114.17, 22.3}, "looks like longitude/latitude"},
		{"grid as lon/lat", crs.CRS84, orb.Point{836694, 819069}, "EPSG:2326"},
		{"NaN", crs.HK1980Grid, orb.Point{math.NaN(), 819069}, "not a finite number"},
		{"huge", crs.HK1980Grid, orb.Point{1e300, 819069}, "coordinate"},
		{"nil", crs.CRS84, nil, "no geometry"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := toWGS84(tt.c, tt.g)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want one containing %q", err, tt.want)
			}
		})
	}
}
