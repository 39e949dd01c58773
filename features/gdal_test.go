package features

import (
	"fmt"
	"math"
	"net/url"
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
	"github.com/paulmach/orb/geojson"

	"github.com/csdi-hk/csdi/geo"
	"github.com/csdi-hk/csdi/internal/testenv"
)

// GDAL's OAPIF driver is an independent client: what it reads through the
// API must be the data the layers hold.

func TestGDALSummary(t *testing.T) {
	ogrinfo := testenv.Command(t, "ogrinfo")
	f := newFixture(t, Options{})
	out := run(t, ogrinfo, "-ro", "-so", "-al", "OAPIF:"+f.url+"/ogc")
	counts, extents := map[string]string{}, map[string][]float64{}
	var layer string
	for line := range strings.SplitSeq(out, "\n") {
		if name, ok := strings.CutPrefix(line, "Layer name: "); ok {
			layer = name
		} else if n, ok := strings.CutPrefix(line, "Feature Count: "); ok {
			counts[layer] = n
		} else if e, ok := strings.CutPrefix(line, "Extent: "); ok {
			for _, s := range number.FindAllString(e, -1) {
				v, _ := strconv.ParseFloat(s, 64)
				extents[layer] = append(extents[layer], v)
			}
		}
	}
	for id, feats := range f.want {
		if got, want := counts[id], strconv.Itoa(len(feats)); got != want {
			t.Errorf("ogrinfo: layer %s Feature Count %q, want %s\n%s", id, got, want, out)
		}
		if len(feats) == 0 {
			continue
		}
		b := feats[0].Geometry.Bound()
		for _, ft := range feats {
			b = b.Union(ft.Geometry.Bound())
		}
		// ogrinfo prints six decimals.
		if want := []float64{b.Min[0], b.Min[1], b.Max[0], b.Max[1]}; !near(extents[id], want, 1e-6) {
			t.Errorf("ogrinfo: layer %s Extent %v, want %v", id, extents[id], want)
		}
	}
	if len(counts) != len(f.want) {
		t.Errorf("ogrinfo lists layers %v, want %d", counts, len(f.want))
	}
}

var (
	ogrFeature = regexp.MustCompile(`^OGRFeature\(([^)]*)\):(\d+)$`)
	ogrField   = regexp.MustCompile(`^  (\S+) \((?:[^()]|\([^()]*\))*\) = (.*)$`) // types like Integer(Boolean)
	ogrGeom    = regexp.MustCompile(`^  ((?:MULTI)?(?:POINT|LINESTRING|POLYGON)) (.*)$`)
	number     = regexp.MustCompile(`-?\d+(?:\.\d+)?(?:e[-+]?\d+)?`)
)

// TestGDALRead has ogrinfo read every feature of every layer, following the
// next links page by page, and compares ids, values and coordinates.
func TestGDALRead(t *testing.T) {
	ogrinfo := testenv.Command(t, "ogrinfo")
	f := newFixture(t, Options{})
	out := run(t, ogrinfo, "-ro", "-al", "OAPIF:"+f.url+"/ogc")

	type ogrFeat struct {
		fields     map[string]string
		geomType   string
		geomCoords []float64
	}
	got := map[string]map[uint64]*ogrFeat{}
	var cur *ogrFeat
	for line := range strings.SplitSeq(out, "\n") {
		if m := ogrFeature.FindStringSubmatch(line); m != nil {
			id, _ := strconv.ParseUint(m[2], 10, 64)
			cur = &ogrFeat{fields: map[string]string{}}
			if got[m[1]] == nil {
				got[m[1]] = map[uint64]*ogrFeat{}
			}
			if got[m[1]][id] != nil {
				t.Errorf("ogrinfo read %s feature %d twice", m[1], id)
			}
			got[m[1]][id] = cur
		} else if cur == nil {
			continue
		} else if m := ogrGeom.FindStringSubmatch(line); m != nil {
			cur.geomType = m[1]
			for _, s := range number.FindAllString(m[2], -1) {
				v, _ := strconv.ParseFloat(s, 64)
				cur.geomCoords = append(cur.geomCoords, v)
			}
		} else if m := ogrField.FindStringSubmatch(line); m != nil {
			cur.fields[m[1]] = m[2]
		}
	}

	for id, feats := range f.want {
		if len(got[id]) != len(feats) {
			t.Errorf("ogrinfo read %d features of %s, want %d", len(got[id]), id, len(feats))
		}
		for _, want := range feats {
			g := got[id][want.ID]
			if g == nil {
				t.Errorf("%s: ogrinfo did not read feature %d", id, want.ID)
				continue
			}
			for name, v := range want.Properties {
				if w := ogrValue(v); g.fields[name] != w {
					t.Errorf("%s %d: %s = %q, want %q", id, want.ID, name, g.fields[name], w)
				}
			}
			if len(g.fields) != len(want.Properties) {
				t.Errorf("%s %d: fields %v, want %v", id, want.ID, g.fields, want.Properties)
			}
			if wt := strings.ToUpper(want.Geometry.GeoJSONType()); g.geomType != wt {
				t.Errorf("%s %d: geometry %s, want %s", id, want.ID, g.geomType, wt)
			}
			// ogrinfo prints 15 significant digits.
			if !near(g.geomCoords, coords(want.Geometry), 1e-9) {
				t.Errorf("%s %d: coordinates %v, want %v", id, want.ID, g.geomCoords, coords(want.Geometry))
			}
		}
	}

	// The toilets do not fit one page: GDAL must have followed next links.
	paged := false
	for _, r := range f.seen() {
		paged = paged || strings.Contains(r, "/toilets/items?") && strings.Contains(r, "after=")
	}
	if !paged {
		t.Errorf("GDAL never followed a next link; requests: %v", f.seen())
	}
}

// TestGDALWhere has GDAL push an attribute filter to the server as
// property parameters, which it finds declared in the API definition.
func TestGDALWhere(t *testing.T) {
	ogrinfo := testenv.Command(t, "ogrinfo")
	f := newFixture(t, Options{})
	out := run(t, ogrinfo, "-ro", "OAPIF:"+f.url+"/ogc", "toilets", "-where", "seats = 3 AND open = 1")
	var got []uint64
	for line := range strings.SplitSeq(out, "\n") {
		if m := ogrFeature.FindStringSubmatch(line); m != nil {
			id, _ := strconv.ParseUint(m[2], 10, 64)
			got = append(got, id)
		}
	}
	want := selectIDs(f.want["toilets"], func(p map[string]any) bool { return p["seats"] == int64(3) && p["open"] == true })
	if !slices.Equal(got, want) || len(want) == 0 {
		t.Errorf("ogrinfo -where: %v, want %v", got, want)
	}
	pushed := false
	for _, r := range f.seen() {
		pushed = pushed || strings.Contains(r, "seats=3") && strings.Contains(r, "open=1")
	}
	if !pushed {
		t.Errorf("GDAL did not push the filter to the server: %v", f.seen())
	}
}

// TestGDALCopy copies every layer with ogr2ogr to GeoJSON, keeping the ids.
func TestGDALCopy(t *testing.T) {
	ogr2ogr := testenv.Command(t, "ogr2ogr")
	f := newFixture(t, Options{})
	for _, layer := range []string{"toilets", "places", "hk_areas", "empty"} {
		path := filepath.Join(t.TempDir(), layer+".json")
		run(t, ogr2ogr, "-f", "GeoJSON", "-preserve_fid", path, "OAPIF:"+f.url+"/ogc", layer)
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		fc, err := geojson.UnmarshalFeatureCollection(data)
		if err != nil {
			t.Fatalf("ogr2ogr output %s: %v", path, err)
		}
		want := f.want[layer]
		if len(want) > 0 && !strings.Contains(string(data), "CRS84") {
			t.Errorf("%s: ogr2ogr did not take the layer as CRS84:\n%.300s", layer, data)
		}
		if len(fc.Features) != len(want) {
			t.Fatalf("%s: ogr2ogr copied %d features, want %d", layer, len(fc.Features), len(want))
		}
		for i, gf := range fc.Features {
			w := want[i]
			if id, ok := gf.ID.(float64); !ok || uint64(id) != w.ID {
				t.Errorf("%s feature %d: id %v, want %d", layer, i, gf.ID, w.ID)
			}
			if gf.Geometry.GeoJSONType() != w.Geometry.GeoJSONType() || !near(coords(gf.Geometry), coords(w.Geometry), 1e-9) {
				t.Errorf("%s %d: geometry %v, want %v within 1e-9", layer, w.ID, gf.Geometry, w.Geometry)
			}
			if name := "name_tc"; layer == "toilets" && gf.Properties[name] != w.Properties[name] {
				t.Errorf("%s %d: %s = %v, want %v", layer, w.ID, name, gf.Properties[name], w.Properties[name])
			}
		}
	}
}

// TestGDALCopy2326 copies the Hong Kong layers out in the HK1980 Grid.
// GDAL 3.6 (Debian 12) has no CRS support in its OAPIF driver: it always
// reads CRS84 and reprojects itself with PROJ when asked with -t_srs. GDAL
// 3.7 and later take -oo CRS=EPSG:2326 and ask the server with crs=, and
// expect the coordinates in the CRS's authority axis order (northing,
// easting for EPSG:2326), which is what the server sends. So the copy
// made here with PROJ is compared with what the server serves for
// crs=EPSG:2326, axes swapped back to GDAL's easting, northing: two
// independent transforms that must agree within 1 mm.
func TestGDALCopy2326(t *testing.T) {
	ogr2ogr := testenv.Command(t, "ogr2ogr")
	f := newFixture(t, Options{})
	for _, layer := range []string{"toilets", "hk_areas"} {
		path := filepath.Join(t.TempDir(), layer+".json")
		args := []string{"-f", "GeoJSON", "-preserve_fid", "-t_srs", "EPSG:2326"}
		if supportsCRS(t) {
			args = []string{"-f", "GeoJSON", "-preserve_fid", "-oo", "CRS=EPSG:2326"}
		}
		run(t, ogr2ogr, append(args, path, "OAPIF:"+f.url+"/ogc", layer)...)
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(data), "EPSG::2326") {
			t.Errorf("%s: the copy is not in EPSG:2326:\n%.300s", layer, data)
		}
		copied, err := geojson.UnmarshalFeatureCollection(data)
		if err != nil {
			t.Fatalf("ogr2ogr output %s: %v", path, err)
		}
		r := getOK(t, f.url+"/ogc/collections/"+layer+"/items?limit=1000&crs="+url.QueryEscape("http://www.opengis.net/def/crs/EPSG/0/2326"), "application/geo+json")
		served, err := geojson.UnmarshalFeatureCollection(r.body)
		if err != nil {
			t.Fatal(err)
		}
		want := f.want[layer]
		if len(copied.Features) != len(want) || len(served.Features) != len(want) {
			t.Fatalf("%s: ogr2ogr copied %d features, the server serves %d, want %d", layer, len(copied.Features), len(served.Features), len(want))
		}
		worst := 0.0
		for i, w := range want {
			if id, ok := copied.Features[i].ID.(float64); !ok || uint64(id) != w.ID {
				t.Fatalf("%s feature %d: id %v, want %d", layer, i, copied.Features[i].ID, w.ID)
			}
			got, srv := coords(copied.Features[i].Geometry), coords(served.Features[i].Geometry)
			if len(got) != len(srv) || len(got) != len(coords(w.Geometry)) {
				t.Fatalf("%s %d: %d coordinates copied, %d served, want %d", layer, w.ID, len(got), len(srv), len(coords(w.Geometry)))
			}
			for k := 0; k < len(got); k += 2 {
				// Served northing, easting; GDAL writes easting, northing.
				d := max(math.Abs(got[k]-srv[k+1]), math.Abs(got[k+1]-srv[k]))
				worst = max(worst, d)
				if d > 1e-3 {
					t.Fatalf("%s %d: point %d copied as %v, %v; served as N %v, E %v", layer, w.ID, k/2, got[k], got[k+1], srv[k], srv[k+1])
				}
			}
		}
		t.Logf("%s: %d features, largest difference %.3g m", layer, len(want), worst)
	}
}

// TestGDALCopyServed2326 copies the Hong Kong layers out in the HK1980
// Grid as served: GDAL 3.6's OAPIF driver cannot ask for a crs (that came
// in 3.7), so ogr2ogr reads /items?crs=EPSG:2326 itself through its
// GeoJSON driver, an independent parser of what the server streams. The
// driver takes coordinates as they come, which for EPSG:2326 are in the
// EPSG axis order, northing then easting; the axisswap step turns them
// into the easting, northing that GDAL writes for the CRS, as 3.7 does
// when it reads crs=EPSG:2326 through OAPIF. The copy is then compared
// with PROJ's transform of the source (cs2cs, not geo/crs, which the
// server itself uses, so that the two sides share no code) within 1 mm.
// The GeoJSON driver does not follow next links, so the copy asks for
// the largest page and the test checks that one page held the whole layer.
// The world-wide places are left out: the HK1980 Grid is a Transverse
// Mercator of Hong Kong and means nothing at the poles.
func TestGDALCopyServed2326(t *testing.T) {
	ogr2ogr := testenv.Command(t, "ogr2ogr")
	f := newFixture(t, Options{})
	const hk1980 = "http://www.opengis.net/def/crs/EPSG/0/2326"
	for _, layer := range []string{"toilets", "hk_areas", "empty"} {
		src := f.url + "/ogc/collections/" + layer + "/items?limit=10000&crs=" + url.QueryEscape(hk1980)
		if r := getOK(t, src, "application/geo+json"); hasLink(r.json, "next") || r.header.Get("Content-Crs") != "<"+hk1980+">" {
			t.Fatalf("%s: a next link or Content-Crs %q: the page is not the whole layer in EPSG:2326", layer, r.header.Get("Content-Crs"))
		}
		path := filepath.Join(t.TempDir(), layer+".json")
		run(t, ogr2ogr, "-f", "GeoJSON", "-preserve_fid", "-s_srs", "EPSG:2326", "-t_srs", "EPSG:2326",
			"-ct", "+proj=axisswap +order=2,1", path, "GeoJSON:"+src)
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		copied, err := geojson.UnmarshalFeatureCollection(data)
		if err != nil {
			t.Fatalf("ogr2ogr output %s: %v", path, err)
		}
		want := f.want[layer]
		if len(copied.Features) != len(want) {
			t.Fatalf("%s: ogr2ogr copied %d features, want %d", layer, len(copied.Features), len(want))
		}
		if len(want) == 0 {
			continue
		}
		if !strings.Contains(string(data), "EPSG::2326") {
			t.Errorf("%s: the copy is not labelled EPSG:2326:\n%.300s", layer, data)
		}
		var src84 []orb.Point
		for _, w := range want {
			cs := coords(w.Geometry)
			for k := 0; k < len(cs); k += 2 {
				src84 = append(src84, orb.Point{cs[k], cs[k+1]})
			}
		}
		proj := cs2cs(t, "EPSG:2326", src84) // northing, easting
		worst, at := 0.0, 0
		for i, w := range want {
			if id, ok := copied.Features[i].ID.(float64); !ok || uint64(id) != w.ID {
				t.Fatalf("%s feature %d: id %v, want %d", layer, i, copied.Features[i].ID, w.ID)
			}
			got := coords(copied.Features[i].Geometry)
			if copied.Features[i].Geometry.GeoJSONType() != w.Geometry.GeoJSONType() || len(got) != len(coords(w.Geometry)) {
				t.Fatalf("%s %d: copied as %v, want a %s", layer, w.ID, copied.Features[i].Geometry, w.Geometry.GeoJSONType())
			}
			for k := 0; k < len(got); k, at = k+2, at+1 {
				p := proj[at]
				d := max(math.Abs(got[k]-p[1]), math.Abs(got[k+1]-p[0]))
				worst = max(worst, d)
				if d > 1e-3 {
					t.Fatalf("%s %d: point %d copied as E %v, N %v; PROJ says E %v, N %v", layer, w.ID, k/2, got[k], got[k+1], p[1], p[0])
				}
			}
		}
		t.Logf("%s: %d features, largest difference from PROJ %.3g m", layer, len(want), worst)
	}
}

// supportsCRS reports whether the installed GDAL's OAPIF driver has the CRS
// open option (GDAL 3.7 and later).
func supportsCRS(t *testing.T) bool {
	out := run(t, testenv.Command(t, "ogrinfo"), "--format", "OAPIF")
	return strings.Contains(out, `name="CRS"`)
}

func run(t *testing.T, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

// ogrValue formats a property value the way ogrinfo prints it.
func ogrValue(v any) string {
	switch v := v.(type) {
	case nil:
		return "(null)"
	case bool:
		if v {
			return "1"
		}
		return "0"
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	case time.Time:
		if t, _ := geo.TypeOf(v); t == geo.Date {
			return v.Format("2006/01/02")
		}
		return v.Format("2006/01/02 15:04:05+00")
	}
	return fmt.Sprint(v)
}

// coords flattens the coordinates of g in WKT order.
func coords(g orb.Geometry) []float64 {
	var out []float64
	var walk func(g orb.Geometry)
	walk = func(g orb.Geometry) {
		switch g := g.(type) {
		case orb.Point:
			out = append(out, g[0], g[1])
		case orb.MultiPoint:
			for _, p := range g {
				walk(p)
			}
		case orb.LineString:
			for _, p := range g {
				walk(p)
			}
		case orb.Ring:
			walk(orb.LineString(g))
		case orb.MultiLineString:
			for _, ls := range g {
				walk(ls)
			}
		case orb.Polygon:
			for _, r := range g {
				walk(r)
			}
		case orb.MultiPolygon:
			for _, p := range g {
				walk(p)
			}
		}
	}
	walk(g)
	return out
}

func near(a, b []float64, tol float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if math.Abs(a[i]-b[i]) > tol {
			return false
		}
	}
	return true
}
