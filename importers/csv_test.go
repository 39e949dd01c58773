package importers

import (
	"errors"
	"fmt"
	"io"
	"math"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/paulmach/orb"
	"golang.org/x/text/encoding/traditionalchinese"

	"github.com/csdi-hk/csdi/geo"
	"github.com/csdi-hk/csdi/geo/crs"
)

// The Done-when test: ogr2ogr's CSV files of the sample layers, points as
// X/Y columns and lines and polygons as WKT, in WGS 84 and in the HK1980
// Grid, read as the GeoJSON does. With the .csvt file ogr2ogr writes
// beside them every type comes back; without it GDAL's booleans (1 and 0)
// are integers.
func TestCSVMatchesGeoJSON(t *testing.T) {
	for _, name := range sampleLayers {
		geometry := "AS_XY"
		if name == "districts" || name == "roads" {
			geometry = "AS_WKT"
		}
		for _, grid := range []bool{false, true} {
			for _, csvt := range []bool{true, false} {
				args := []string{"-f", "CSV", "-lco", "GEOMETRY=" + geometry}
				label, wantCRS, m := name, crs.CRS84, match{boolAsInt: !csvt}
				if grid {
					args = append(args, "-t_srs", "EPSG:2326")
					label, wantCRS, m.tol = label+" in EPSG:2326", crs.HK1980Grid, 1e-8
				}
				if csvt {
					args = append(args, "-lco", "CREATE_CSVT=YES")
					label += " with csvt"
				}
				t.Run(label, func(t *testing.T) {
					p := filepath.Join(t.TempDir(), name+".csv")
					ogr2ogr(t, append(args, p, samplePath(name))...)
					src, got := openOne(t, p, Options{})
					if src.Format != FormatCSV || src.CRS != wantCRS {
						t.Errorf("format %s, CRS %v; want csv, %v", src.Format, src.CRS, wantCRS)
					}
					compareFeatures(t, got, original(t, name), m)
				})
			}
		}
	}
}

func TestCSVGeometryColumns(t *testing.T) {
	origin := orb.Point{114.181009327, 22.310602434} // the HK1980 Grid origin in WGS 84, from PROJ
	tests := []struct {
		name, doc string
		opts      Options
		crs       crs.CRS
		point     orb.Point
		props     map[string]any
	}{
		{"chinese lon/lat", "名稱,經度,緯度\n維多利亞公園,114.188,22.282\n", Options{}, crs.CRS84, orb.Point{114.188, 22.282}, map[string]any{"名稱": "維多利亞公園"}},
		{"bilingual", "Name 名稱,經度 Longitude,緯度 Latitude\nx,114.188,22.282\n", Options{}, crs.CRS84, orb.Point{114.188, 22.282}, map[string]any{"Name 名稱": "x"}},
		{"lat before lon", "LAT,LNG,id\n22.282,114.188,7\n", Options{}, crs.CRS84, orb.Point{114.188, 22.282}, map[string]any{"id": int64(7)}},
		{"units in parentheses, semicolons", "Longitude (WGS84);Latitude (WGS84);n\n114.188;22.282;1.5\n", Options{}, crs.CRS84, orb.Point{114.188, 22.282}, map[string]any{"n": 1.5}},
		{"easting/northing with BOM", "\ufeffEasting,Northing,Name\n836694.05,819069.80,origin\n", Options{}, crs.HK1980Grid, origin, map[string]any{"Name": "origin"}},
		{"chinese grid, tabs", "東距 (米)\t北距 (米)\t地點\n836694.05\t819069.80\t原點\n", Options{}, crs.HK1980Grid, origin, map[string]any{"地點": "原點"}},
		{"HK1980 prefix", "HK1980_E,HK1980_N\n836694.05,819069.80\n", Options{}, crs.HK1980Grid, origin, map[string]any{}},
		{"both kinds: lon/lat used, grid kept", "Easting,Northing,Longitude,Latitude\n836694.05,819069.80,114.181009327,22.310602434\n", Options{}, crs.CRS84, origin,
			map[string]any{"Easting": 836694.05, "Northing": 819069.80}},
		{"x/y holding lon/lat", "x,y\n114.188,22.282\n", Options{}, crs.CRS84, orb.Point{114.188, 22.282}, map[string]any{}},
		{"x/y holding grid metres", "X,Y\n836694.05,819069.80\n", Options{}, crs.HK1980Grid, origin, map[string]any{}},
		{"x/y with --crs", "X,Y\n836694.05,819069.80\n", Options{CRS: "EPSG:2326"}, crs.HK1980Grid, origin, map[string]any{}},
		{"wkt", "id,geometry\n1,POINT (114.188 22.282)\n", Options{}, crs.CRS84, orb.Point{114.188, 22.282}, map[string]any{"id": int64(1)}},
		{"wkt in grid", "WKT,id\n\"POINT (836694.05 819069.80)\",1\n", Options{}, crs.HK1980Grid, origin, map[string]any{"id": int64(1)}},
		{"named by flags", "a,b,c\n114.188,22.282,z\n", Options{X: "A", Y: "b"}, crs.CRS84, orb.Point{114.188, 22.282}, map[string]any{"c": "z"}},
		{"--geometry", "shape_wkt,lon,lat\nPOINT (114.1 22.2),1,2\n", Options{Geometry: "shape_wkt"}, crs.CRS84, orb.Point{114.1, 22.2}, map[string]any{"lon": int64(1), "lat": int64(2)}},
		{"duplicate and empty headers", "lon,lat,a,a,\n114.1,22.2,1,2,3\n", Options{}, crs.CRS84, orb.Point{114.1, 22.2}, map[string]any{"a": int64(1), "a_2": int64(2), "field_5": int64(3)}},
	}
	dir := t.TempDir()
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := writeFile(t, filepath.Join(dir, fmt.Sprintf("%d.csv", i)), tt.doc)
			src, got := openOne(t, p, tt.opts)
			if src.CRS != tt.crs {
				t.Errorf("CRS %v, want %v", src.CRS, tt.crs)
			}
			if err := geomClose(got[0].Geometry, tt.point, 1e-8); err != nil {
				t.Error(err)
			}
			compareFeatures(t, got[:1], []geo.Feature{{ID: 1, Geometry: got[0].Geometry, Properties: tt.props}}, match{})
		})
	}
}

func TestCSVTypes(t *testing.T) {
	var b strings.Builder
	b.WriteString("lon,lat,int,code,float,bool,date,slashdate,datetime,text,mixed,late,empty\n")
	b.WriteString("114.1,22.2,-12,007,1.50,TRUE,2021-06-30,2021/06/30,2021-06-30T08:00:00+08:00,維園,1,5,\n")
	b.WriteString("114.1,22.2,3,12,2,false,2021-07-01,2021/07/01,2021/07/01 09:30:00+08,\"a, \"\"b\"\"\",x,6,\n")
	for range csvSample - 2 {
		b.WriteString("114.1,22.2,,,,,,,,,,7,\n")
	}
	b.WriteString("114.1,22.2,,,,,,,,,,12345678901234567890,\n") // row 1001: too big for int64
	p := writeFile(t, filepath.Join(t.TempDir(), "types.csv"), b.String())
	_, got := openOne(t, p, Options{})
	hk := time.FixedZone("", 8*3600)
	want := []map[string]any{
		{"int": int64(-12), "code": "007", "float": 1.5, "bool": true, "date": time.Date(2021, 6, 30, 0, 0, 0, 0, time.UTC),
			"slashdate": time.Date(2021, 6, 30, 0, 0, 0, 0, time.UTC), "datetime": time.Date(2021, 6, 30, 8, 0, 0, 0, hk),
			"text": "維園", "mixed": "1", "late": int64(5), "empty": nil},
		{"int": int64(3), "code": "12", "float": 2.0, "bool": false, "date": time.Date(2021, 7, 1, 0, 0, 0, 0, time.UTC),
			"slashdate": time.Date(2021, 7, 1, 0, 0, 0, 0, time.UTC), "datetime": time.Date(2021, 7, 1, 9, 30, 0, 0, hk),
			"text": `a, "b"`, "mixed": "x", "late": int64(6), "empty": nil},
	}
	var wantFeatures []geo.Feature
	for i, props := range want {
		wantFeatures = append(wantFeatures, geo.Feature{ID: uint64(i + 1), Geometry: orb.Point{114.1, 22.2}, Properties: props})
	}
	compareFeatures(t, got[:2], wantFeatures, match{})
	if len(got) != csvSample+1 {
		t.Fatalf("%d features, want %d", len(got), csvSample+1)
	}
	if v := got[2].Properties["int"]; v != nil {
		t.Errorf("empty integer = %#v, want nil", v)
	}
	if v := got[csvSample].Properties["late"]; v != "12345678901234567890" {
		t.Errorf("row %d: late = %#v, want the text kept whole", csvSample+1, v)
	}
}

func TestCSVEncoding(t *testing.T) {
	dir := t.TempDir()
	utf8Doc := "lon,lat,名稱\n114.1,22.2,深水埗公園\n114.2,22.3,維多利亞公園\n"
	big5, err := traditionalchinese.Big5.NewEncoder().String(utf8Doc)
	if err != nil {
		t.Fatal(err)
	}
	p := writeFile(t, filepath.Join(dir, "big5.csv"), big5)
	_, got := openOne(t, p, Options{Encoding: "big5-hkscs"})
	if len(got) != 2 || got[0].Properties["名稱"] != "深水埗公園" || got[1].Properties["名稱"] != "維多利亞公園" {
		t.Fatalf("Big5: %v", got)
	}
	if _, _, err := Open(p, Options{}); err == nil || !strings.Contains(err.Error(), "--encoding big5") || !strings.Contains(err.Error(), p) {
		t.Errorf("Big5 header without --encoding: %v, want an error suggesting --encoding big5", err)
	}

	// Invalid UTF-8 in one row rejects that row, and reading goes on.
	p = writeFile(t, filepath.Join(dir, "bad.csv"), "lon,lat,name\n114.1,22.2,ok\n114.1,22.2,bad\xff\n114.1,22.2,ok too\n")
	srcs, _, err := Open(p, Options{})
	if err != nil {
		t.Fatal(err)
	}
	var ids []uint64
	var errs []error
	for f, err := range srcs[0].Features {
		if err != nil {
			errs = append(errs, err)
			continue
		}
		ids = append(ids, f.ID)
	}
	var fe *FeatureError
	if len(errs) != 1 || !errors.As(errs[0], &fe) || fe.Row != 2 || !strings.Contains(errs[0].Error(), `"name"`) || !strings.Contains(errs[0].Error(), "invalid UTF-8") {
		t.Errorf("errors %v, want one for row 2 naming the column", errs)
	}
	if fmt.Sprint(ids) != "[1 3]" {
		t.Errorf("ids %v, want [1 3]", ids)
	}
}

func TestCSVErrors(t *testing.T) {
	tests := []struct {
		name, doc string
		opts      Options
		open      string // Open's error contains this
		stream    string // or the stream's first error does
		row       int    // and names this row
	}{
		{name: "grid metres as lon/lat", doc: "lon,lat\n836694.05,819069.80\n", open: "EPSG:2326"},
		{name: "grid metres as lon/lat later", doc: "lon,lat\n114.1,22.2\n836694.05,819069.80\n", stream: "EPSG:2326", row: 2},
		{name: "lon/lat as grid", doc: "Easting,Northing\n114.1,22.2\n", stream: "looks like longitude/latitude", row: 1},
		{name: "no coordinate columns", doc: "name,address\na,b\n", open: "no coordinate columns in the header name,address"},
		{name: "unknown CRS", doc: "x,y\n500000,2500000\n", open: "cannot determine the CRS"},
		{name: "x without y", doc: "a,b\n1,2\n", opts: Options{X: "a"}, open: "--x and --y"},
		{name: "missing named column", doc: "a,b\n1,2\n", opts: Options{Geometry: "wkt"}, open: `no column "wkt"`},
		{name: "not a number", doc: "lon,lat\n114.1,22.2\n114.1,abc\n", stream: `"abc" is not a number`, row: 2},
		{name: "empty coordinate", doc: "lon,lat\n114.1,22.2\n,22.2\n", stream: "empty", row: 2},
		{name: "huge coordinate", doc: "lon,lat\n114.1,22.2\n1e308,22.2\n", stream: "outside longitude", row: 2},
		{name: "too many fields", doc: "lon,lat\n114.1,22.2,x\n", stream: "more than the 2 columns", row: 1},
		{name: "bad wkt", doc: "wkt\nPOINT (114.1 22.2)\nPOINT (114.1\n", stream: "is not WKT", row: 2},
		{name: "truncated quote", doc: "lon,lat,name\n114.1,22.2,x\n114.1,22.2,\"unterminated", stream: "after row 1"},
		{name: "bad --crs", doc: "lon,lat\n114.1,22.2\n", opts: Options{CRS: "EPSG:9999"}, open: "--crs"},
	}
	dir := t.TempDir()
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := writeFile(t, filepath.Join(dir, fmt.Sprintf("%d.csv", i)), tt.doc)
			srcs, _, err := Open(p, tt.opts)
			if tt.open != "" {
				if err == nil || !strings.Contains(err.Error(), tt.open) {
					t.Fatalf("Open: %v, want an error containing %q", err, tt.open)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			_, err = readUntilError(srcs[0])
			if err == nil || !strings.Contains(err.Error(), tt.stream) || !strings.Contains(err.Error(), p) {
				t.Fatalf("stream: %v, want an error naming the file and containing %q", err, tt.stream)
			}
			var fe *FeatureError
			if tt.row > 0 && (!errors.As(err, &fe) || fe.Row != tt.row) {
				t.Errorf("error %v is not a FeatureError for row %d", err, tt.row)
			}
		})
	}
}

func TestNormalizeHeader(t *testing.T) {
	for in, want := range map[string]string{
		"Easting (m)": "easting", "HK1980 Grid Northing": "northing", "經度（WGS84）": "經度", " X_Coord ": "xcoord",
		"the_geom": "thegeom", "Lat.": "lat",
	} {
		if got := normalizeHeader(in); got != want {
			t.Errorf("normalizeHeader(%q) = %q, want %q", in, got, want)
		}
	}
}

func FuzzCSV(f *testing.F) {
	f.Add("lon,lat,name\n114.1,22.2,維園\n114.2,22.3,\"a,b\"\n", "")
	f.Add("Easting\tNorthing\n836694.05\t819069.80\n", "")
	f.Add("WKT,id\n\"POLYGON ((114 22,114.1 22,114.1 22.1,114 22))\",1\n", "")
	f.Add("lon,lat\n\xa6W,\xba\xd9\n", "big5")
	f.Fuzz(func(t *testing.T, doc, encoding string) {
		open := func() (io.ReadCloser, error) { return io.NopCloser(strings.NewReader(doc)), nil }
		c, err := newCSVFile("fuzz.csv", open, nil, Options{Encoding: encoding})
		if err != nil {
			if !strings.Contains(err.Error(), "fuzz.csv") && !strings.Contains(err.Error(), "--") {
				t.Fatalf("error does not name the file: %v", err)
			}
			return
		}
		for feat, err := range c.features {
			if err != nil {
				if !strings.HasPrefix(err.Error(), "fuzz.csv: ") {
					t.Fatalf("error does not name the file: %v", err)
				}
				continue
			}
			if feat.ID == 0 || CheckLonLat(feat.Geometry) != nil {
				t.Fatalf("feature %d: %v", feat.ID, feat.Geometry)
			}
			for k, v := range feat.Properties {
				if fv, ok := v.(float64); ok && (math.IsNaN(fv) || math.IsInf(fv, 0)) {
					t.Fatalf("%s = %v", k, v)
				}
			}
		}
	})
}
