package crs

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/csdi-hk/csdi/internal/testenv"
)

// TestFromWKTSamples reads the WKT that GDAL writes for each supported CRS
// (testdata/wkt, made by generate.sh), named <code>.<variant>.wkt, and the
// look-alikes in testdata/wkt/reject that must be refused.
func TestFromWKTSamples(t *testing.T) {
	files, err := filepath.Glob("testdata/wkt/*.wkt")
	if err != nil || len(files) < 31 {
		t.Fatalf("WKT samples: %d files, %v", len(files), err)
	}
	files = append(files, "testdata/wkt/2326.arcgis.prj")
	for _, f := range files {
		code, _, _ := strings.Cut(filepath.Base(f), ".")
		want, err := Lookup(code)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		got, err := FromWKT(readFile(t, f))
		if err != nil || got != want {
			t.Errorf("%s: got %v, %v; want %v", f, got, err, want)
		}
	}

	rejects, err := filepath.Glob("testdata/wkt/reject/*.wkt")
	if err != nil || len(rejects) < 17 {
		t.Fatalf("WKT rejects: %d files, %v", len(rejects), err)
	}
	for _, f := range rejects {
		if got, err := FromWKT(readFile(t, f)); err == nil {
			t.Errorf("%s: got %v, want an error", f, got)
		} else {
			t.Logf("%s: %v", f, err)
		}
	}
}

func readFile(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestFromWKTGDAL asks the installed GDAL for fresh WKT, in case its output
// has moved on from the committed samples.
func TestFromWKTGDAL(t *testing.T) {
	gdalsrsinfo := testenv.Command(t, "gdalsrsinfo")
	for _, c := range All() {
		for _, format := range []string{"wkt1", "wkt_simple", "wkt_noct", "wkt_esri", "wkt2_2015", "wkt2_2019"} {
			out, err := exec.Command(gdalsrsinfo, "-o", format, c.Code()).CombinedOutput()
			if err != nil {
				t.Fatalf("gdalsrsinfo -o %s %s: %v\n%s", format, c.Code(), err, out)
			}
			got, err := FromWKT(string(out))
			// Only WKT1 and WKT2 keep CRS84's axes; without them it is
			// EPSG:4326, the same transform.
			want := c
			if c == CRS84 && (format == "wkt_simple" || format == "wkt_noct" || format == "wkt_esri") {
				want = WGS84
			}
			if err != nil || got != want {
				t.Errorf("%s %s: got %v, %v; want %v\n%s", c, format, got, err, want, out)
			}
		}
	}
}

// TestFromWKT covers spellings and edits the samples do not.
func TestFromWKT(t *testing.T) {
	esri2326 := readFile(t, "testdata/wkt/2326.wkt_esri.wkt")
	wkt1 := readFile(t, "testdata/wkt/2326.wkt1.wkt")
	tests := []struct {
		name string
		wkt  string
		want CRS // 0: an error
	}{
		{"byte order mark", "\ufeff" + esri2326, HK1980Grid},
		{"one line", strings.Join(strings.Fields(esri2326), " "), HK1980Grid},
		{"parentheses", strings.NewReplacer("[", "(", "]", ")").Replace(esri2326), HK1980Grid},
		{"trailing newlines", esri2326 + "\r\n\r\n", HK1980Grid},
		{"WGS 84 with lon, lat axes", `GEOGCS["WGS 84",DATUM["WGS_1984",SPHEROID["WGS 84",6378137,298.257223563]],PRIMEM["Greenwich",0],UNIT["degree",0.0174532925199433],AXIS["Longitude",EAST],AXIS["Latitude",NORTH]]`, CRS84},
		{"HK1980 datum with the sign-flipped TOWGS84 still uses EPSG:1825",
			strings.Replace(wkt1, `AUTHORITY["EPSG","6611"]`, `TOWGS84[-162.619,-276.959,-161.764,-0.067753,2.243648,1.158828,-1.094246],AUTHORITY["EPSG","6611"]`, 1), HK1980Grid},
		{"unnamed datum with the sign-flipped TOWGS84",
			strings.Replace(readFile(t, "testdata/wkt/2326.towgs84-wkt1.wkt"), "TOWGS84[-162.619,-276.959,-161.764,0.067753,-2.243648,-1.158828", "TOWGS84[-162.619,-276.959,-161.764,-0.067753,2.243648,1.158828", 1), 0},
		{"authority contradicts the definition", strings.Replace(wkt1, `AUTHORITY["EPSG","2326"]`, `AUTHORITY["EPSG","3857"]`, 1), 0},
		{"unsupported authority", strings.Replace(wkt1, `AUTHORITY["EPSG","2326"]`, `AUTHORITY["EPSG","32650"]`, 1), 0},
		{"origin moved 0.01 m", strings.Replace(esri2326, "836694.05", "836694.06", 1), 0},
		{"scale factor", strings.Replace(esri2326, `"Scale_Factor",1.0`, `"Scale_Factor",0.9996`, 1), 0},
		{"central meridian", strings.Replace(esri2326, "114.178555555556", "114.0", 1), 0},
		{"grid in feet", strings.Replace(esri2326, `UNIT["Meter",1.0]`, `UNIT["Foot",0.3048]`, 1), 0},
		{"grads", strings.Replace(esri2326, `UNIT["Degree",0.0174532925199433]`, `UNIT["Grad",0.015707963267949]`, 1), 0},
		{"Paris meridian", strings.Replace(esri2326, `PRIMEM["Greenwich",0.0]`, `PRIMEM["Paris",2.33722917]`, 1), 0},
		{"other projection", strings.Replace(esri2326, "Transverse_Mercator", "Cassini", 1), 0},
		{"geocentric", `GEOCCS["WGS 84",DATUM["WGS_1984",SPHEROID["WGS 84",6378137,298.257223563]],PRIMEM["Greenwich",0],UNIT["metre",1]]`, 0},
		{"vertical", `VERT_CS["HKPD height",VERT_DATUM["Hong Kong Principal Datum",2005],UNIT["metre",1]]`, 0},
		{"empty", "", 0},
		{"a name", "EPSG:2326", 0},
		{"unclosed", `GEOGCS["WGS 84",DATUM["WGS_1984"`, 0},
		{"unterminated string", `GEOGCS["WGS 84`, 0},
		{"mismatched brackets", `GEOGCS["WGS 84")`, 0},
		{"trailing text", `GEOGCS["WGS 84",DATUM["WGS_1984"]] x`, 0},
		{"too deep", strings.Repeat("A[", 100) + strings.Repeat("]", 100), 0},
	}
	for _, tt := range tests {
		got, err := FromWKT(tt.wkt)
		switch {
		case tt.want == 0 && err == nil:
			t.Errorf("%s: got %v, want an error", tt.name, got)
		case tt.want != 0 && (err != nil || got != tt.want):
			t.Errorf("%s: got %v, %v; want %v", tt.name, got, err, tt.want)
		case err != nil && !strings.Contains(err.Error(), "crs: WKT "):
			t.Errorf("%s: error %q does not name the WKT", tt.name, err)
		}
	}
}

func FuzzFromWKT(f *testing.F) {
	files, _ := filepath.Glob("testdata/wkt/*.wkt")
	rejects, _ := filepath.Glob("testdata/wkt/reject/*.wkt")
	for _, name := range append(files, rejects...) {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(string(b))
	}
	f.Fuzz(func(t *testing.T, wkt string) {
		c, err := FromWKT(wkt)
		if err == nil && c.Code() == "" {
			t.Fatalf("FromWKT gave %d without an error", c)
		}
	})
}
