package tiles

import (
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/maptile"
	"github.com/paulmach/orb/project"

	"github.com/csdi-hk/csdi/catalog"
	"github.com/csdi-hk/csdi/geo"
)

var (
	ogrFeature = regexp.MustCompile(`^OGRFeature\(([^)]*)\):\d+$`)
	ogrField   = regexp.MustCompile(`^\s+(\S+) \((?:[^()]|\([^()]*\))*\) = (.*)$`)
	ogrGeom    = regexp.MustCompile(`^\s+((?:MULTI)?(?:POINT|LINESTRING|POLYGON) .*)$`)
)

// ogrFeatures reads ogrinfo's text dump into layer -> features, each a map
// of field to value with the WKT geometry under "_geom".
func ogrFeatures(out string) map[string][]map[string]string {
	res := map[string][]map[string]string{}
	var cur map[string]string
	for line := range strings.SplitSeq(out, "\n") {
		if m := ogrFeature.FindStringSubmatch(line); m != nil {
			cur = map[string]string{}
			res[m[1]] = append(res[m[1]], cur)
		} else if cur == nil {
			continue
		} else if m := ogrGeom.FindStringSubmatch(line); m != nil {
			cur["_geom"] = m[1]
		} else if m := ogrField.FindStringSubmatch(line); m != nil && m[2] != "(null)" {
			cur[m[1]] = m[2]
		}
	}
	return res
}

// TestTileGDAL has GDAL's MVT driver, an independent decoder, read a tile:
// layers, feature ids, attributes (Chinese included), coordinates back in
// EPSG:3857, and polygons valid by GEOS with the expected areas.
func TestTileGDAL(t *testing.T) {
	ogrinfo := tool(t, "ogrinfo")
	tile := maptile.At(pier, 16)
	unit := 2 * 20037508.342789244 / math.Exp2(float64(tile.Z)) / 4096 // metres per tile unit
	inTile := func(r orb.Ring) orb.Ring {
		var out orb.Ring
		for _, p := range r {
			out = append(out, mercatorToWGS84(tile, p[0], p[1]))
		}
		return out
	}
	layers := sampleLayers(t)
	layers["parcels"] = newLayer(t, catalog.LayerInfo{ID: "parcels"}, []geo.Feature{
		{ID: 21, Geometry: orb.Polygon{inTile(rect(500, 500, 1500, 1500)), inTile(rect(800, 800, 1200, 1200))},
			Properties: map[string]any{"lot": "IL 8888", "地段": "內地段"}},
		{ID: 22, Geometry: orb.Polygon{inTile(orb.Ring{{3000, 1000}, {4500, 1000}, {4500, 3000}, {3000, 3000}, {3000, 2500}, {4300, 2500}, {4300, 1500}, {3000, 1500}, {3000, 1000}})},
			Properties: map[string]any{"lot": "U"}},
		{ID: 23, Geometry: orb.Polygon{inTile(rect(-500, 2000, 300, 2600))}, Properties: map[string]any{"lot": "edge"}},
		{ID: 24, Geometry: orb.Polygon{inTile(rect(-900, 2000, -100, 2600))}, Properties: map[string]any{"lot": "beyond the buffer"}},
	})
	// Concave stars across the buffer edges, each crossing it many times.
	rng := rand.New(rand.NewPCG(7, 7))
	var stars []geo.Feature
	for i := range 40 {
		c := orb.Point{rng.Float64()*5000 - 450, rng.Float64()*5000 - 450}
		var r orb.Ring
		k := 8 + rng.IntN(40)
		for j := range k {
			a := 2 * math.Pi * float64(j) / float64(k)
			d := 300 + rng.Float64()*700
			r = append(r, orb.Point{c[0] + d*math.Cos(a), c[1] + d*math.Sin(a)})
		}
		stars = append(stars, geo.Feature{ID: uint64(i + 1), Geometry: orb.Polygon{inTile(append(r, r[0]))}})
	}
	layers["stars"] = newLayer(t, catalog.LayerInfo{ID: "stars"}, stars)
	srv := serve(t, layers, Options{})
	resp, body := get(t, tileURL(srv.URL, "toilets,roads,parcels,stars", tile))
	if resp.StatusCode != 200 {
		t.Fatalf("status %d: %s", resp.StatusCode, body)
	}
	path := filepath.Join(t.TempDir(), "tile.mvt")
	if err := os.WriteFile(path, body, 0o644); err != nil {
		t.Fatal(err)
	}
	ogr := func(args ...string) string {
		t.Helper()
		args = append([]string{"-ro", "-oo", fmt.Sprint("Z=", tile.Z), "-oo", fmt.Sprint("X=", tile.X), "-oo", fmt.Sprint("Y=", tile.Y), "-oo", "CLIP=NO"}, args...)
		out, err := exec.Command(ogrinfo, append(args, path)...).CombinedOutput()
		if err != nil {
			t.Fatalf("ogrinfo %v: %v\n%s", args, err, out)
		}
		return string(out)
	}

	feats := ogrFeatures(ogr("-al"))
	byID := func(layer string) map[uint64]map[string]string {
		m := map[uint64]map[string]string{}
		for _, f := range feats[layer] {
			id, err := strconv.ParseUint(f["mvt_id"], 10, 64)
			if err != nil {
				t.Errorf("layer %s: feature without mvt_id: %v", layer, f)
			}
			m[id] = f
		}
		return m
	}

	toilets := byID("toilets")
	want := map[uint64]map[string]string{
		11: {"name": "中環碼頭公廁", "seats": "12", "rating": "4.5", "accessible": "1", "opened": "2021-07-01"},
		12: {"name": "Central Pier 7 Toilet", "seats": "-1", "rating": "3", "accessible": "0"},
	}
	if len(toilets) != len(want) {
		t.Errorf("toilets %v, want ids 11 and 12", toilets)
	}
	for id, fields := range want {
		got, ok := toilets[id]
		if !ok {
			t.Errorf("toilet %d missing", id)
			continue
		}
		for k, v := range fields {
			if got[k] != v {
				t.Errorf("toilet %d: %s = %q, want %q", id, k, got[k], v)
			}
		}
		if _, ok := got["note"]; ok {
			t.Errorf("toilet %d: null property note written", id)
		}
		var x, y float64
		if _, err := fmt.Sscanf(got["_geom"], "POINT (%g %g)", &x, &y); err != nil {
			t.Fatalf("toilet %d geometry %q: %v", id, got["_geom"], err)
		}
		f, _ := layers["toilets"].Feature(id)
		m := project.WGS84.ToMercator(f.Geometry.(orb.Point))
		if d := math.Hypot(x-m[0], y-m[1]); d > unit {
			t.Errorf("toilet %d at (%f %f), want (%f %f): %.2f m off, more than a tile unit (%.2f m)", id, x, y, m[0], m[1], d, unit)
		}
	}
	if roads := byID("roads"); len(roads) != 1 || roads[5]["name"] != "干諾道中" || !strings.HasPrefix(roads[5]["_geom"], "LINESTRING") {
		t.Errorf("roads %v, want line 5 named 干諾道中", roads)
	}
	parcels := byID("parcels")
	if len(parcels) != 3 || parcels[21]["地段"] != "內地段" {
		t.Errorf("parcels %v, want 21, 22, 23 with 地段 of 21", parcels)
	}

	// GEOS, through GDAL's SQLite dialect, judges validity and measures.
	out := ogr("-q", "-dialect", "SQLite", "-sql", "SELECT mvt_id, ST_IsValid(GEOMETRY) AS valid, ST_Area(GEOMETRY) AS area, ST_NumGeometries(GEOMETRY) AS parts FROM parcels")
	areas := map[uint64]struct {
		units float64
		parts string
	}{
		21: {1000*1000 - 400*400, "1"},
		22: {2 * (4160 - 3000) * 500, "2"}, // the prongs, cut at the buffer edge
		23: {(300 + 64) * 600, "1"},
	}
	rows := ogrFeatures(out)["SELECT"]
	if len(rows) != len(areas) {
		t.Fatalf("SQL rows %v, want %d\n%s", rows, len(areas), out)
	}
	for _, r := range rows {
		id, _ := strconv.ParseUint(r["mvt_id"], 10, 64)
		if r["valid"] != "1" {
			t.Errorf("parcel %d is not valid by GEOS: %s", id, r["_geom"])
		}
		got, _ := strconv.ParseFloat(r["area"], 64)
		w := areas[id].units * unit * unit
		if math.Abs(got-w) > w/100 {
			t.Errorf("parcel %d: area %.1f m², want %.1f within 1%%", id, got, w)
		}
		if r["parts"] != areas[id].parts {
			t.Errorf("parcel %d: %s parts, want %s", id, r["parts"], areas[id].parts)
		}
	}

	out = ogr("-q", "-dialect", "SQLite", "-sql", "SELECT mvt_id, ST_IsValidReason(GEOMETRY) AS reason FROM stars WHERE NOT ST_IsValid(GEOMETRY)")
	for _, r := range ogrFeatures(out)["SELECT"] {
		t.Errorf("star %s is not valid by GEOS: %s", r["mvt_id"], r["reason"])
	}
	if n := len(ogrFeatures(ogr("-q", "-al"))["stars"]); n == 0 {
		t.Error("no stars in the tile")
	}
}
