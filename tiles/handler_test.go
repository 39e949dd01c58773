package tiles

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/maptile"
	"github.com/paulmach/orb/project"

	"github.com/csdi-hk/csdi/catalog"
	"github.com/csdi-hk/csdi/geo"
)

// newLayer builds a layer snapshot the way the catalog does, with the
// metadata a store would derive.
func newLayer(t testing.TB, info catalog.LayerInfo, feats []geo.Feature) *catalog.Layer {
	t.Helper()
	var s catalog.Summary
	for _, f := range feats {
		if err := s.Add(f); err != nil {
			t.Fatalf("layer %s: %v", info.ID, err)
		}
	}
	s.Apply(&info)
	return catalog.NewLayer(info, feats)
}

// Central, Hong Kong.
var (
	pier   = orb.Point{114.1580, 22.2870}
	pierZ  = maptile.Zoom(15)
	opened = time.Date(2021, 7, 1, 0, 0, 0, 0, time.UTC)
)

func sampleLayers(t testing.TB) layerSet {
	toilets := newLayer(t, catalog.LayerInfo{
		ID: "toilets", Title: "Public toilets", Description: "Public toilets managed by FEHD",
		Attribution: "© FEHD",
	}, []geo.Feature{
		{ID: 11, Geometry: pier, Properties: map[string]any{
			"name": "中環碼頭公廁", "seats": int64(12), "rating": 4.5, "accessible": true, "opened": opened, "note": nil}},
		{ID: 12, Geometry: orb.Point{114.1590, 22.2865}, Properties: map[string]any{
			"name": "Central Pier 7 Toilet", "seats": int64(-1), "rating": 3.0, "accessible": false}},
		{ID: 13, Geometry: orb.Point{114.2600, 22.3500}, Properties: map[string]any{"name": "遠處"}},
	})
	roads := newLayer(t, catalog.LayerInfo{ID: "roads", Title: "Roads", Attribution: "© Lands Department"}, []geo.Feature{
		{ID: 5, Geometry: orb.LineString{{114.150, 22.285}, {114.170, 22.289}}, Properties: map[string]any{"name": "干諾道中"}},
	})
	a := newLayer(t, catalog.LayerInfo{ID: "a", Title: "A"}, []geo.Feature{
		{ID: 1, Geometry: orb.Point{100, 10}, Properties: map[string]any{"k": "v"}},
	})
	return layerSet{"toilets": toilets, "roads": roads, "a": a}
}

func tileURL(base, layer string, t maptile.Tile) string {
	return fmt.Sprintf("%s/tiles/%s/%d/%d/%d.mvt", base, layer, t.Z, t.X, t.Y)
}

func TestRoutes(t *testing.T) {
	srv := serve(t, sampleLayers(t), Options{})
	pt := maptile.At(pier, pierZ)
	far := maptile.New(0, 0, 15)
	aTile := maptile.At(orb.Point{100, 10}, 3)
	tests := []struct {
		path   string
		status int
		ctype  string
	}{
		{"/tiles/toilets.json", 200, "application/json"},
		{tileURL("", "toilets", pt), 200, MediaType},
		{tileURL("", "toilets,roads", pt), 200, MediaType},
		{tileURL("", "toilets%2Croads", pt), 200, MediaType},
		{"/tiles/toilets%2Croads.json", 200, "application/json"},
		// The two routes share a prefix; neither takes the other's requests.
		{"/tiles/a.json", 200, "application/json"},
		{"/tiles/a/1/2/3.mvt", 404, "application/json"}, // reached the tile route: y=3 is beyond the world at z1
		{tileURL("", "a", aTile), 200, MediaType},
		{"/tiles/nope.json", 404, "application/json"},
		{"/tiles/nope/0/0/0.mvt", 404, "application/json"},
		{"/tiles/toilets,nope/0/0/0.mvt", 404, "application/json"},
		{"/tiles/toilets", 404, "application/json"},
		{"/tiles/toilets.xml", 404, "application/json"},
		{"/tiles/toilets/0/0/0", 404, "application/json"},
		{"/tiles/toilets/0/0/0.png", 404, "application/json"},
		{"/tiles/toilets/x/0/0.mvt", 400, "application/json"},
		{"/tiles/toilets/0/0/y.mvt", 400, "application/json"},
		{"/tiles/toilets/-1/0/0.mvt", 400, "application/json"},
		{"/tiles/toilets/0/0/-0.mvt", 400, "application/json"},
		{"/tiles/toilets/0/+0/0.mvt", 400, "application/json"},
		{"/tiles/toilets/0/0x0/0.mvt", 400, "application/json"},
		{"/tiles/toilets/1.5/0/0.mvt", 400, "application/json"},
		{"/tiles/toilets/%20/0/0.mvt", 400, "application/json"},
		// Well-formed addresses of tiles the tile matrix set does not have.
		{"/tiles/toilets/1/2/0.mvt", 404, "application/json"},
		{"/tiles/toilets/1/0/2.mvt", 404, "application/json"},
		{"/tiles/toilets/23/0/0.mvt", 404, "application/json"},
		{"/tiles/toilets/99999999999999999999/0/0.mvt", 404, "application/json"},
		{"/tiles/toilets/3/99999999999999999999/0.mvt", 404, "application/json"},
		{"/tiles/toilets/22/4194303/4194303.mvt", 204, ""}, // the last tile at the deepest zoom
		{"/tiles/toilets,toilets/0/0/0.mvt", 400, "application/json"},
		{"/tiles/toilets,/0/0/0.mvt", 400, "application/json"},
		{tileURL("", "toilets", far), 204, ""},
		{tileURL("", "toilets", pt.Parent().Parent()), 200, MediaType},

		{"/styles/toilets.json", 200, "application/json"},
		{"/styles/toilets,roads.json", 200, "application/json"},
		{"/styles/toilets,nope.json", 404, "application/json"},
		{"/styles/toilets,toilets.json", 400, "application/json"},
		{"/styles/toilets", 404, "application/json"},

		{"/ogc/tileMatrixSets", 200, "application/json"},
		{"/ogc/tileMatrixSets/WebMercatorQuad", 200, "application/json"},
		{"/ogc/tileMatrixSets/WorldCRS84Quad", 404, "application/json"},
		{"/ogc/collections/toilets/tiles", 200, "application/json"},
		{"/ogc/collections/nope/tiles", 404, "application/json"},
		{"/ogc/collections/toilets/tiles/WebMercatorQuad", 200, "application/json"},
		{"/ogc/collections/toilets/tiles/WorldCRS84Quad", 404, "application/json"},
		{"/ogc/collections/nope/tiles/WebMercatorQuad", 404, "application/json"},
		{fmt.Sprintf("/ogc/collections/toilets/tiles/WebMercatorQuad/%d/%d/%d", pt.Z, pt.Y, pt.X), 200, MediaType},
		{fmt.Sprintf("/ogc/collections/toilets/tiles/WebMercatorQuad/%d/%d/%d", far.Z, far.Y, far.X), 204, ""},
		{"/ogc/collections/toilets/tiles/WebMercatorQuad/1/0/2", 404, "application/json"}, // column 2 of 2
		{"/ogc/collections/toilets/tiles/WebMercatorQuad/23/0/0", 404, "application/json"},
		{"/ogc/collections/toilets/tiles/WebMercatorQuad/1/0/x", 400, "application/json"},
		{"/ogc/collections/toilets/tiles/WorldCRS84Quad/0/0/0", 404, "application/json"},
		{"/ogc/collections/nope/tiles/WebMercatorQuad/0/0/0", 404, "application/json"},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			resp, body := get(t, srv.URL+tt.path)
			if resp.StatusCode != tt.status {
				t.Errorf("status %d, want %d: %s", resp.StatusCode, tt.status, body)
			}
			if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, tt.ctype) || tt.ctype == "" && ct != "" {
				t.Errorf("Content-Type %q, want %q", ct, tt.ctype)
			}
			switch {
			case tt.status == 204 && len(body) != 0:
				t.Errorf("204 with a body of %d bytes", len(body))
			case tt.status >= 400:
				var e struct{ Code, Description string }
				code := map[int]string{400: "InvalidParameterValue", 404: "NotFound"}[tt.status]
				if err := json.Unmarshal(body, &e); err != nil || e.Code != code || e.Description == "" {
					t.Errorf("error body %s: want JSON with code %q and a description (%v)", body, code, err)
				}
			}
		})
	}
}

func TestTileJSON(t *testing.T) {
	layers := sampleLayers(t)
	srv := serve(t, layers, Options{MaxZoom: 18})
	host := strings.TrimPrefix(srv.URL, "http://")

	type vectorLayer struct {
		ID          string            `json:"id"`
		Description string            `json:"description"`
		MinZoom     *int              `json:"minzoom"`
		MaxZoom     *int              `json:"maxzoom"`
		Fields      map[string]string `json:"fields"`
	}
	var tj struct {
		TileJSON     string        `json:"tilejson"`
		Name         string        `json:"name"`
		Description  string        `json:"description"`
		Attribution  string        `json:"attribution"`
		Tiles        []string      `json:"tiles"`
		VectorLayers []vectorLayer `json:"vector_layers"`
		MinZoom      *int          `json:"minzoom"`
		MaxZoom      *int          `json:"maxzoom"`
		Bounds       []float64     `json:"bounds"`
		Center       []float64     `json:"center"`
	}
	fetch := func(path string, header ...string) {
		t.Helper()
		resp, body := get(t, srv.URL+path, header...)
		if resp.StatusCode != 200 {
			t.Fatalf("GET %s: %d %s", path, resp.StatusCode, body)
		}
		tj.VectorLayers = nil
		if err := json.Unmarshal(body, &tj); err != nil {
			t.Fatalf("GET %s: %v\n%s", path, err, body)
		}
	}

	fetch("/tiles/toilets.json")
	if tj.TileJSON != "3.0.0" {
		t.Errorf("tilejson %q", tj.TileJSON)
	}
	if want := "http://" + host + "/tiles/toilets/{z}/{x}/{y}.mvt"; !slices.Equal(tj.Tiles, []string{want}) {
		t.Errorf("tiles %v, want [%s]", tj.Tiles, want)
	}
	if tj.Name != "Public toilets" || tj.Description != "Public toilets managed by FEHD" || tj.Attribution != "© FEHD" {
		t.Errorf("name %q, description %q, attribution %q", tj.Name, tj.Description, tj.Attribution)
	}
	if tj.MinZoom == nil || *tj.MinZoom != 0 || tj.MaxZoom == nil || *tj.MaxZoom != 18 {
		t.Errorf("minzoom %v maxzoom %v, want 0 and 18", tj.MinZoom, tj.MaxZoom)
	}
	// The bounds of the three toilets, worked out from the data above.
	wantBounds := []float64{114.1580, 22.2865, 114.2600, 22.3500}
	if len(tj.Bounds) != 4 {
		t.Fatalf("bounds %v", tj.Bounds)
	}
	for i := range wantBounds {
		if math.Abs(tj.Bounds[i]-wantBounds[i]) > 1e-9 {
			t.Errorf("bounds %v, want %v", tj.Bounds, wantBounds)
			break
		}
	}
	if len(tj.Center) != 3 || tj.Center[0] < wantBounds[0] || tj.Center[0] > wantBounds[2] ||
		tj.Center[1] < wantBounds[1] || tj.Center[1] > wantBounds[3] || tj.Center[2] < 0 || tj.Center[2] > 18 {
		t.Errorf("center %v not inside the bounds at a served zoom", tj.Center)
	}
	if len(tj.VectorLayers) != 1 {
		t.Fatalf("vector_layers %+v", tj.VectorLayers)
	}
	vl := tj.VectorLayers[0]
	wantFields := map[string]string{"name": "String", "seats": "Number", "rating": "Number", "accessible": "Boolean", "opened": "String", "note": "String"}
	if vl.ID != "toilets" || vl.Description == "" || vl.MinZoom == nil || *vl.MinZoom != 0 || vl.MaxZoom == nil || *vl.MaxZoom != 18 {
		t.Errorf("vector layer %+v", vl)
	}
	if fmt.Sprint(vl.Fields) != fmt.Sprint(wantFields) {
		t.Errorf("fields %v, want %v", vl.Fields, wantFields)
	}

	// Behind a TLS-terminating proxy the URLs follow X-Forwarded-Proto.
	fetch("/tiles/toilets.json", "X-Forwarded-Proto", "https")
	if want := "https://" + host + "/tiles/toilets/{z}/{x}/{y}.mvt"; !slices.Equal(tj.Tiles, []string{want}) {
		t.Errorf("behind a proxy: tiles %v, want [%s]", tj.Tiles, want)
	}

	fetch("/tiles/toilets,roads.json")
	if want := "http://" + host + "/tiles/toilets,roads/{z}/{x}/{y}.mvt"; !slices.Equal(tj.Tiles, []string{want}) {
		t.Errorf("two layers: tiles %v, want [%s]", tj.Tiles, want)
	}
	if len(tj.VectorLayers) != 2 || tj.VectorLayers[0].ID != "toilets" || tj.VectorLayers[1].ID != "roads" {
		t.Errorf("two layers: vector_layers %+v", tj.VectorLayers)
	}
	if tj.Attribution != "© FEHD | © Lands Department" || tj.Bounds[0] != 114.150 {
		t.Errorf("two layers: attribution %q bounds %v", tj.Attribution, tj.Bounds)
	}
}

func TestTileContent(t *testing.T) {
	layers := sampleLayers(t)
	srv := serve(t, layers, Options{})
	tile := maptile.At(pier, pierZ)
	resp, body := get(t, tileURL(srv.URL, "toilets,roads", tile))
	if resp.StatusCode != 200 {
		t.Fatalf("status %d: %s", resp.StatusCode, body)
	}
	vt := decodeTile(t, body)
	if len(vt.Layers) != 2 || vt.Layers[0].GetName() != "toilets" || vt.Layers[1].GetName() != "roads" {
		t.Fatalf("layers %v, want toilets then roads", vt.Layers)
	}
	toilets := vt.Layers[0]
	if toilets.GetVersion() != 2 || toilets.GetExtent() != 4096 {
		t.Errorf("version %d extent %d", toilets.GetVersion(), toilets.GetExtent())
	}
	var ids []uint64
	for _, f := range toilets.Features {
		ids = append(ids, f.GetId())
		wi, _ := layers["toilets"].Index(f.GetId())
		want := layers["toilets"].At(wi)
		parts := decodeGeometry(t, f.GetType(), f.Geometry)
		if len(parts) != 1 || len(parts[0]) != 1 {
			t.Fatalf("feature %d: geometry %v, want one point", f.GetId(), parts)
		}
		// Back to longitude and latitude with orb's own Mercator: within
		// one tile unit (about 0.3 m at z15).
		p := parts[0][0]
		world := math.Exp2(float64(tile.Z))
		merc := orb.Point{
			((float64(tile.X)+float64(p[0])/4096)/world - 0.5) * 2 * 20037508.342789244,
			(0.5 - (float64(tile.Y)+float64(p[1])/4096)/world) * 2 * 20037508.342789244,
		}
		wantMerc := project.WGS84.ToMercator(want.Geometry.(orb.Point))
		if math.Hypot(merc[0]-wantMerc[0], merc[1]-wantMerc[1]) > 40075016.68/world/4096 {
			t.Errorf("feature %d at %v (EPSG:3857), want %v", f.GetId(), merc, wantMerc)
		}
		got := tags(t, toilets, f)
		if wantName, _ := layers["toilets"].Value(wi, "name"); got["name"] != wantName || wantName == nil {
			t.Errorf("feature %d: name %q, want %q", f.GetId(), got["name"], wantName)
		}
	}
	if !slices.Equal(ids, []uint64{11, 12}) {
		t.Errorf("toilet ids %v, want [11 12] (13 is far away)", ids)
	}
	if f := vt.Layers[1].Features; len(f) != 1 || f[0].GetId() != 5 || f[0].GetType() != 2 {
		t.Errorf("roads %v, want the one line", f)
	}
}

// Plain and gzipped bytes are the same tile, whether built for the request
// (the plain ones then never go through gzip) or read from the cache (where
// they are kept gzipped).
func TestTileGzip(t *testing.T) {
	for _, cache := range []int64{0, -1} {
		t.Run(fmt.Sprintf("cache %d", cache), func(t *testing.T) { testTileGzip(t, cache) })
	}
}

func testTileGzip(t *testing.T, cache int64) {
	srv := serve(t, sampleLayers(t), Options{CacheBytes: cache})
	url := tileURL(srv.URL, "toilets", maptile.At(pier, pierZ))
	_, plain := get(t, url)
	if len(plain) == 0 {
		t.Fatal("empty tile")
	}
	tests := []struct {
		accept string
		gzip   bool
	}{
		{"", false},
		{"gzip", true},
		{"deflate, gzip;q=0.8, br", true},
		{"GZIP", true},
		{"gzip;q=0", false},
		{"identity", false},
		{"br, deflate", false},
	}
	for _, tt := range tests {
		t.Run(tt.accept, func(t *testing.T) {
			resp, body := get(t, url, "Accept-Encoding", tt.accept)
			if !slices.Contains(resp.Header.Values("Vary"), "Accept-Encoding") {
				t.Errorf("Vary %q, want Accept-Encoding", resp.Header.Values("Vary"))
			}
			enc := resp.Header.Get("Content-Encoding")
			if !tt.gzip {
				if enc != "" || !bytes.Equal(body, plain) {
					t.Errorf("Content-Encoding %q and %d bytes, want the plain %d", enc, len(body), len(plain))
				}
				return
			}
			if enc != "gzip" {
				t.Fatalf("Content-Encoding %q, want gzip", enc)
			}
			zr, err := gzip.NewReader(bytes.NewReader(body))
			if err != nil {
				t.Fatal(err)
			}
			got, err := io.ReadAll(zr)
			if err != nil || !bytes.Equal(got, plain) {
				t.Errorf("gunzipped body differs from the plain one (%v)", err)
			}
		})
	}
}

// mercatorToWGS84 turns tile units of tile t into longitude and latitude
// with orb's projection, independently of the code under test.
func mercatorToWGS84(t maptile.Tile, px, py float64) orb.Point {
	world := math.Exp2(float64(t.Z))
	return project.Mercator.ToWGS84(orb.Point{
		((float64(t.X)+px/4096)/world - 0.5) * 2 * 20037508.342789244,
		(0.5 - (float64(t.Y)+py/4096)/world) * 2 * 20037508.342789244,
	})
}

// TestTileConcavePolygon sends a U whose prongs point into the tile and
// whose base lies beyond the buffer: inside, the prongs are two separate
// polygons, with nothing along the border between them.
func TestTileConcavePolygon(t *testing.T) {
	tile := maptile.At(pier, 16)
	// In tile units: prongs from x=3000 to the base at x=4300-4500, beyond
	// the buffer edge at 4096+64.
	u := orb.Ring{{3000, 1000}, {4500, 1000}, {4500, 3000}, {3000, 3000}, {3000, 2500}, {4300, 2500}, {4300, 1500}, {3000, 1500}, {3000, 1000}}
	var ll orb.Ring
	for _, p := range u {
		ll = append(ll, mercatorToWGS84(tile, p[0], p[1]))
	}
	layers := layerSet{"u": newLayer(t, catalog.LayerInfo{ID: "u"}, []geo.Feature{{ID: 1, Geometry: orb.Polygon{ll}}})}
	srv := serve(t, layers, Options{})
	resp, body := get(t, tileURL(srv.URL, "u", tile))
	if resp.StatusCode != 200 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	vt := decodeTile(t, body)
	if len(vt.Layers) != 1 || len(vt.Layers[0].Features) != 1 {
		t.Fatalf("tile %v, want one feature", vt)
	}
	f := vt.Layers[0].Features[0]
	rings := decodeGeometry(t, f.GetType(), f.Geometry)
	const edge = 4096 + 64
	var total float64
	for _, r := range rings {
		a := area(r)
		if a <= 0 {
			t.Errorf("ring with area %g: %v", a, r)
		}
		total += a
		for i := range r {
			p, q := r[i], r[(i+1)%len(r)]
			if p[0] == edge && q[0] == edge && min(p[1], q[1]) < 2400 && max(p[1], q[1]) > 1600 {
				t.Errorf("edge %v-%v runs along the border between the prongs", p, q)
			}
		}
	}
	if len(rings) != 2 {
		t.Errorf("%d rings, want the two prongs", len(rings))
	}
	want := 2.0 * (edge - 3000) * 500
	if math.Abs(total-want) > want/100 {
		t.Errorf("area %g, want %g within 1%%", total, want)
	}
}
