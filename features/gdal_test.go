package features

import (
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
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
	counts := map[string]string{}
	var layer string
	for line := range strings.SplitSeq(out, "\n") {
		if name, ok := strings.CutPrefix(line, "Layer name: "); ok {
			layer = name
		} else if n, ok := strings.CutPrefix(line, "Feature Count: "); ok {
			counts[layer] = n
		}
	}
	for id, feats := range f.want {
		if got, want := counts[id], strconv.Itoa(len(feats)); got != want {
			t.Errorf("ogrinfo: layer %s Feature Count %q, want %s\n%s", id, got, want, out)
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

// TestGDALCopy copies a layer with ogr2ogr to GeoJSON, keeping the ids.
func TestGDALCopy(t *testing.T) {
	ogr2ogr := testenv.Command(t, "ogr2ogr")
	f := newFixture(t, Options{})
	for _, layer := range []string{"toilets", "places"} {
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
