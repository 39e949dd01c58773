package importers

import (
	"database/sql"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/paulmach/orb"

	"github.com/csdi-hk/csdi/geo"
	"github.com/csdi-hk/csdi/geo/crs"
)

// coordTolerance is 1e-8 degrees, about 1 mm: room for GDAL's PROJ and
// geo/crs to differ on a round trip through the HK1980 Grid, too little to
// hide a swapped axis or a missing datum shift.
const coordTolerance = 1e-8

// openAll opens a file and reads every feature of every source.
func openAll(t *testing.T, path string, opts Options) ([]Source, [][]geo.Feature) {
	t.Helper()
	sources, closeFn, err := Open(path, opts)
	if err != nil {
		t.Fatalf("Open(%s): %v", path, err)
	}
	defer closeFn()
	var all [][]geo.Feature
	for _, s := range sources {
		all = append(all, readAll(t, s))
	}
	return sources, all
}

// featureErrors reads a source to its end and returns its features and
// errors.
func featureErrors(s Source) ([]geo.Feature, []error) {
	var fs []geo.Feature
	var errs []error
	for f, err := range s.Features {
		if err != nil {
			errs = append(errs, err)
			continue
		}
		fs = append(fs, f)
	}
	return fs, errs
}

func TestGeoPackageFromOGR(t *testing.T) {
	dir := t.TempDir()
	for i, v := range []struct{ srs, dim string }{{"EPSG:4326", "XY"}, {"EPSG:2326", "XY"}, {"EPSG:2326", "XYZ"}} {
		srs := v.srs
		t.Run(srs+" "+v.dim, func(t *testing.T) {
			path := filepath.Join(dir, fmt.Sprint(i, ".gpkg"))
			for i, name := range sampleLayers {
				// XYZ makes GDAL write ISO WKB Z types, which orb cannot read.
				args := []string{"-f", "GPKG", path, samplePath(name), "-nln", name, "-t_srs", srs, "-dim", v.dim}
				if i > 0 {
					args = append([]string{"-update"}, args...)
				}
				ogr2ogr(t, args...)
			}
			want, _ := crs.Lookup(srs)
			sources, got := openAll(t, path, Options{})
			if len(sources) != len(sampleLayers) {
				t.Fatalf("%d sources, want %d", len(sources), len(sampleLayers))
			}
			for i, name := range sampleLayers {
				s := sources[i]
				if s.Name != name || s.Format != FormatGeoPackage || s.CRS != want {
					t.Errorf("source %d: %q %s %v, want %q geopackage %v", i, s.Name, s.Format, s.CRS, name, want)
				}
				t.Run(name, func(t *testing.T) { compareFeatures(t, got[i], original(t, name), match{tol: coordTolerance}) })
			}

			src, roads := openOne(t, path, Options{SourceLayer: "ROADS"})
			if src.Name != "roads" {
				t.Fatalf("--source-layer ROADS: source %q", src.Name)
			}
			compareFeatures(t, roads, original(t, "roads"), match{tol: coordTolerance})
		})
	}
}

func TestGeoPackageErrors(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.gpkg")
	ogr2ogr(t, "-f", "GPKG", good, samplePath("smart_lampposts"), "-nln", "lampposts")
	content, err := os.ReadFile(good)
	if err != nil {
		t.Fatal(err)
	}
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	// edit copies the good file and runs SQL on the copy.
	edit := func(name string, stmts ...string) string {
		p := write(name, content)
		db, err := sql.Open("sqlite", p)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		// GDAL's R-tree triggers call SpatiaLite functions that plain
		// SQLite lacks.
		rows, err := db.Query("SELECT name FROM sqlite_master WHERE type = 'trigger'")
		if err != nil {
			t.Fatal(err)
		}
		var triggers []string
		for rows.Next() {
			var name string
			rows.Scan(&name)
			triggers = append(triggers, "DROP TRIGGER "+quoteIdent(name))
		}
		rows.Close()
		for _, s := range append(triggers, stmts...) {
			if _, err := db.Exec(s); err != nil {
				t.Fatalf("%s: %v", s, err)
			}
		}
		return p
	}
	hkAsDegrees := filepath.Join(dir, "hk-as-degrees.gpkg")
	ogr2ogr(t, "-f", "GPKG", hkAsDegrees, samplePath("smart_lampposts"), "-t_srs", "EPSG:2326")
	ogr2ogr(t, "-f", "GPKG", filepath.Join(dir, "hk-as-degrees2.gpkg"), hkAsDegrees, "-a_srs", "EPSG:4326")

	tests := []struct {
		name    string
		path    string
		opts    Options
		openErr string // error of Open
		rowErr  string // first error while reading
		errRow  int
		read    int // features read without error
	}{
		{name: "unknown source layer", path: good, opts: Options{SourceLayer: "roads"}, openErr: `no feature table "roads" (--source-layer); the GeoPackage has lampposts`},
		{name: "truncated", path: write("truncated.gpkg", content[:4096]), openErr: "truncated.gpkg"},
		{name: "undefined srs", path: edit("srs0.gpkg", "UPDATE gpkg_geometry_columns SET srs_id = 0"), openErr: "cannot determine the CRS of"},
		{name: "undefined srs with --crs", path: edit("srs0b.gpkg", "UPDATE gpkg_geometry_columns SET srs_id = 0"), opts: Options{CRS: "EPSG:4326"}, read: 150},
		{name: "unsupported srs", path: edit("srs.gpkg",
			"INSERT INTO gpkg_spatial_ref_sys VALUES ('ED50', 4230, 'EPSG', 4230, 'GEOGCS[\"ED50\",DATUM[\"European_Datum_1950\",SPHEROID[\"International 1924\",6378388,297]],PRIMEM[\"Greenwich\",0],UNIT[\"degree\",0.0174532925199433]]', NULL)",
			"UPDATE gpkg_geometry_columns SET srs_id = 4230"), openErr: `table "lampposts": srs_id 4230`},
		{name: "bad blob", path: edit("blob.gpkg", "UPDATE lampposts SET geom = x'475000010000000001' WHERE fid = 2"), rowErr: "row 2: fid 2: WKB at byte 0: truncated WKB", errRow: 2, read: 149},
		{name: "null geometry", path: edit("null.gpkg", "UPDATE lampposts SET geom = NULL WHERE fid = 3"), rowErr: "fid 3: no geometry", errRow: 3, read: 149},
		{name: "empty geometry", path: edit("empty.gpkg", "UPDATE lampposts SET geom = x'4750001100000000' WHERE fid = 4"), rowErr: "empty geometry", errRow: 4, read: 149},
		{name: "grid metres declared as degrees", path: filepath.Join(dir, "hk-as-degrees2.gpkg"), rowErr: "EPSG:2326", errRow: 1},
		{name: "text in a geometry column", path: edit("text.gpkg", "UPDATE lampposts SET geom = 'POINT(1 2)' WHERE fid = 5"), rowErr: "a string, not a GeoPackage geometry blob", errRow: 5, read: 149},
		{name: "invalid UTF-8", path: edit("utf8.gpkg", "UPDATE lampposts SET DEVICE_EN = CAST(x'ff41' AS TEXT) WHERE fid = 6"), rowErr: `column "DEVICE_EN": invalid UTF-8`, errRow: 6, read: 149},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sources, closeFn, err := readGeoPackage(tt.path, tt.opts)
			if tt.openErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.openErr) {
					t.Fatalf("Open error = %v, want one containing %q", err, tt.openErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer closeFn()
			fs, errs := featureErrors(sources[0])
			if tt.rowErr == "" && len(errs) > 0 {
				t.Fatalf("errors: %v", errs)
			}
			if tt.rowErr != "" {
				if len(errs) == 0 || !strings.Contains(errs[0].Error(), tt.rowErr) || !strings.Contains(errs[0].Error(), tt.path) {
					t.Fatalf("errors = %v, want one containing %q and the file name", errs, tt.rowErr)
				}
				var fe *FeatureError
				if !errors.As(errs[0], &fe) || fe.Row != tt.errRow {
					t.Errorf("error %v is not a FeatureError for row %d", errs[0], tt.errRow)
				}
			}
			if tt.read != 0 && len(fs) != tt.read {
				t.Errorf("%d features read, want %d", len(fs), tt.read)
			}
		})
	}
}

func TestGeoPackageValues(t *testing.T) {
	tests := []struct {
		declared string
		in       any
		want     any
	}{
		{"BOOLEAN", int64(1), true},
		{"BOOLEAN", int64(0), false},
		{"MEDIUMINT", int64(7), int64(7)},
		{"REAL", int64(7), 7.0},
		{"DOUBLE", 1.5, 1.5},
		{"TEXT(20)", "維多利亞公園", "維多利亞公園"},
		{"DATE", "2021-06-30", time.Date(2021, 6, 30, 0, 0, 0, 0, time.UTC)},
		{"DATE", time.Date(2021, 6, 30, 0, 0, 0, 0, time.UTC), time.Date(2021, 6, 30, 0, 0, 0, 0, time.UTC)},
		{"DATETIME", "2021-06-30T08:00:00.000Z", time.Date(2021, 6, 30, 8, 0, 0, 0, time.UTC)},
		{"DATETIME", "soon", "soon"},
		{"INTEGER", "n/a", "n/a"}, // SQLite's dynamic typing lets text into any column
		{"INTEGER", nil, nil},
	}
	for _, tt := range tests {
		got, err := gpkgValue(tt.in, gpkgType(tt.declared))
		if err != nil || !sameValue(got, tt.want) {
			t.Errorf("gpkgValue(%#v, %s) = %#v, %v; want %#v", tt.in, tt.declared, got, err, tt.want)
		}
	}
}

func TestParseWKB(t *testing.T) {
	le := func(typ uint32, coords ...float64) []byte {
		b := []byte{1}
		b = appendU32(b, typ)
		for _, c := range coords {
			b = appendF64(b, c)
		}
		return b
	}
	tests := []struct {
		name string
		wkb  []byte
		want orb.Geometry
		err  string
	}{
		{"point", le(1, 114, 22), orb.Point{114, 22}, ""},
		{"point z (ISO)", le(1001, 114, 22, 5), orb.Point{114, 22}, ""},
		{"point m (ISO)", le(2001, 114, 22, 5), orb.Point{114, 22}, ""},
		{"point zm (ISO)", le(3001, 114, 22, 5, 6), orb.Point{114, 22}, ""},
		{"point z (EWKB with SRID)", append(appendU32([]byte{1}, 0xa0000001), append(appendU32(nil, 4326), le(0, 114, 22, 5)[5:]...)...), orb.Point{114, 22}, ""},
		{"big-endian line", []byte{0, 0, 0, 0, 2, 0, 0, 0, 2, 0x40, 0x5c, 0x80, 0, 0, 0, 0, 0, 0x40, 0x36, 0, 0, 0, 0, 0, 0, 0x40, 0x5c, 0x80, 0, 0, 0, 0, 0, 0x40, 0x37, 0, 0, 0, 0, 0, 0},
			orb.LineString{{114, 22}, {114, 23}}, ""},
		{"polygon z", append(appendU32(appendU32(le(1003), 1), 4), le(0, 0, 0, 1, 1, 0, 1, 1, 1, 1, 0, 0, 0, 1)[5:]...),
			orb.Polygon{{{0, 0}, {1, 0}, {1, 1}, {0, 0}}}, ""},
		{"multipoint", append(appendU32(le(4), 2), append(le(1, 1, 2), le(1001, 3, 4, 5)...)...), orb.MultiPoint{{1, 2}, {3, 4}}, ""},
		{"collection", append(appendU32(le(7), 2), append(le(1, 1, 2), appendU32(le(2), 0)...)...), orb.Collection{orb.Point{1, 2}, orb.LineString{}}, ""},
		{"multipoint holding a line", append(appendU32(le(4), 1), appendU32(le(2), 0)...), nil, "a member of type 2 in a collection of type 4"},
		{"huge count", appendU32(le(2), 0xffffffff), nil, "count 4294967295 runs past the end"},
		{"truncated", le(1, 114)[:12], nil, "truncated"},
		{"empty point", le(1, math.NaN(), math.NaN()), nil, "empty point"},
		{"curve", le(8), nil, "curved geometry type 8"},
		{"bad order", []byte{2, 1, 0, 0, 0}, nil, "invalid byte order"},
		{"deep", deepCollection(40), nil, "nested too deeply"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g, err := parseWKB(tt.wkb)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("error = %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !orb.Equal(g, tt.want) {
				t.Errorf("got %v, want %v", g, tt.want)
			}
		})
	}
}

func deepCollection(n int) []byte {
	var b []byte
	for range n {
		b = appendU32(append(b, 1), 7)
		b = appendU32(b, 1)
	}
	return b
}

func appendU32(b []byte, v uint32) []byte {
	return append(b, byte(v), byte(v>>8), byte(v>>16), byte(v>>24))
}

func appendF64(b []byte, f float64) []byte {
	v := math.Float64bits(f)
	return appendU32(appendU32(b, uint32(v)), uint32(v>>32))
}

func FuzzGeoPackageBlob(f *testing.F) {
	point := append([]byte("GP\x00\x01\x00\x00\x00\x00"), 1, 1, 0, 0, 0)
	point = appendF64(appendF64(point, 114), 22)
	f.Add(point)
	f.Add([]byte("GP\x00\x11\x00\x00\x00\x00"))
	f.Fuzz(func(t *testing.T, b []byte) {
		g, err := gpkgGeometry(b)
		if err == nil && g == nil {
			t.Fatal("no geometry and no error")
		}
	})
}
