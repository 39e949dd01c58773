package features

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/paulmach/orb"

	"github.com/csdi-hk/csdi/catalog"
	"github.com/csdi-hk/csdi/geo"
)

// testLayers is the Layers of the tests: a plain map.
type testLayers map[string]*catalog.Layer

func (m testLayers) Layers() []*catalog.Layer {
	return slices.SortedFunc(maps.Values(m), func(a, b *catalog.Layer) int { return cmp.Compare(a.Info.ID, b.Info.ID) })
}

func (m testLayers) Layer(id string) (*catalog.Layer, bool) { l, ok := m[id]; return l, ok }

// newLayer builds a layer the way the stores do: metadata derived by
// catalog.Summary. It returns the features in id order, untouched by the layer.
func newLayer(t testing.TB, info catalog.LayerInfo, feats []geo.Feature) (*catalog.Layer, []geo.Feature) {
	t.Helper()
	var s catalog.Summary
	for _, f := range feats {
		if err := s.Add(f); err != nil {
			t.Fatalf("layer %s: %v", info.ID, err)
		}
	}
	s.Apply(&info)
	want := slices.Clone(feats)
	slices.SortFunc(want, func(a, b geo.Feature) int { return cmp.Compare(a.ID, b.ID) })
	return catalog.NewLayer(info, slices.Clone(feats)), want
}

// toilets is a layer of 250 points in Hong Kong with every field type, ids
// with gaps and in shuffled order, and nulls: enough for paging.
func toilets() (catalog.LayerInfo, []geo.Feature) {
	info := catalog.LayerInfo{ID: "toilets", Title: "Public toilets", TitleZH: "公廁",
		Description: "Public toilets managed by FEHD", DescriptionZH: "食環署管理的公廁", Attribution: "FEHD"}
	var feats []geo.Feature
	for i := range 250 {
		j := (i * 97) % 250 // shuffled: the layer must sort by id
		props := map[string]any{
			"name_tc":   fmt.Sprintf("公廁 %d 號", j),
			"name_en":   fmt.Sprintf("Toilet %d, \"Central\" <&>", j),
			"seats":     int64(j % 7),
			"rating":    float64(j) * 0.25,
			"open":      j%3 == 0,
			"opened":    time.Date(2020, 1, 1+j, 0, 0, 0, 0, time.UTC),
			"inspected": time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC).Add(time.Duration(j) * time.Hour),
		}
		if j%50 == 0 {
			props["seats"] = nil
		}
		feats = append(feats, geo.Feature{
			ID:         uint64(2*j + 3),
			Geometry:   orb.Point{113.85 + float64(j%25)*0.02 + 1.23456789e-7*float64(j), 22.2 + float64(j/25)*0.03 + 9.87654321e-8*float64(j)},
			Properties: props,
		})
	}
	return info, feats
}

// places is a small world-wide layer for bbox tests; each feature is placed
// for one of the conformance suite's boxes (see TestItemsBBox).
func places() (catalog.LayerInfo, []geo.Feature) {
	sq := func(w, s, e, n float64) orb.Ring {
		return orb.Ring{{w, s}, {e, s}, {e, n}, {w, n}, {w, s}}
	}
	g := []orb.Geometry{
		1:  orb.Point{178, 66},
		2:  orb.Point{-178, 68},
		3:  orb.Point{0, 51.5},
		4:  orb.LineString{{-3, 49}, {-2, 56}, {3, 56}}, // its bounds meet -1.5,50,1.5,53, the line does not
		5:  orb.Polygon{sq(-75, -2, -72, 2)},
		6:  orb.Polygon{sq(-100, -20, -60, 20)},                      // holds -80,-5,-70,5 inside
		7:  orb.Polygon{sq(-100, -30, -50, 30), sq(-85, -8, -65, 8)}, // -80,-5,-70,5 lies in its hole
		8:  orb.Point{10, 87},
		9:  orb.Point{-20, -88},
		10: orb.MultiLineString{{{170, 67}, {180, 67}}, {{-180, 67}, {-170, 67}}}, // crosses the antimeridian
		11: orb.Point{176, 66},
	}
	var feats []geo.Feature
	for id := 1; id < len(g); id++ {
		feats = append(feats, geo.Feature{ID: uint64(id), Geometry: g[id], Properties: map[string]any{"name": fmt.Sprintf("place %d", id)}})
	}
	return catalog.LayerInfo{ID: "places", Title: "Places"}, feats
}

// hkAreas is a small layer of lines and polygons in Hong Kong, holes and
// multi-parts included, for the CRS tests: coordinates carry all their
// digits, so a transform that loses a millimetre shows.
func hkAreas() (catalog.LayerInfo, []geo.Feature) {
	sq := func(w, s, e, n float64) orb.Ring {
		return orb.Ring{{w, s}, {e, s}, {e, n}, {w, n}, {w, s}}
	}
	g := []orb.Geometry{
		1: orb.Polygon{sq(114.1512345678, 22.2801234567, 114.1698765432, 22.2898765432),
			sq(114.1551234567, 22.2831234567, 114.1601234567, 22.2861234567)}, // with a hole
		2: orb.MultiPolygon{{sq(113.9312345678, 22.2412345678, 113.9498765432, 22.2587654321)},
			{sq(114.3012345678, 22.3512345678, 114.3198765432, 22.3687654321)}},
		3: orb.LineString{{113.8423456789, 22.2134567891}, {114.0012345678, 22.4123456789}, {114.4876543219, 22.5567891234}},
		4: orb.MultiLineString{{{114.1, 22.3}, {114.2, 22.35}}, {{114.25, 22.4}, {114.26, 22.45}, {114.27, 22.41}}},
		5: orb.Point{114.1694444444, 22.3193055556},
		6: orb.MultiPoint{{114.2, 22.25}, {113.95, 22.5}},
	}
	var feats []geo.Feature
	for id := 1; id < len(g); id++ {
		feats = append(feats, geo.Feature{ID: uint64(id), Geometry: g[id], Properties: map[string]any{"名稱": fmt.Sprintf("區域 %d", id)}})
	}
	return catalog.LayerInfo{ID: "hk_areas", Title: "Areas", TitleZH: "區域"}, feats
}

// fixture is a running server over the test layers.
type fixture struct {
	url    string
	layers testLayers
	want   map[string][]geo.Feature // each layer's features in id order

	mu       sync.Mutex
	requests []string // request URIs, for tests of how clients page
}

func (f *fixture) seen() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.requests)
}

func newFixture(t testing.TB, opts Options) *fixture {
	t.Helper()
	f := &fixture{layers: testLayers{}, want: map[string][]geo.Feature{}}
	for _, mk := range []func() (catalog.LayerInfo, []geo.Feature){toilets, places, hkAreas} {
		info, feats := mk()
		f.layers[info.ID], f.want[info.ID] = newLayer(t, info, feats)
	}
	f.layers["empty"], f.want["empty"] = newLayer(t, catalog.LayerInfo{ID: "empty", Title: "Nothing yet"}, nil)

	if opts.Log == nil {
		opts.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	e := echo.New()
	e.Use(func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			f.mu.Lock()
			f.requests = append(f.requests, c.Request().RequestURI)
			f.mu.Unlock()
			return next(c)
		}
	})
	NewHandler(f.layers, opts).Register(e)
	srv := httptest.NewServer(e)
	t.Cleanup(srv.Close)
	f.url = srv.URL
	return f
}

// response is a decoded HTTP response.
type response struct {
	status int
	header http.Header
	body   []byte
	json   map[string]any // numbers as json.Number
}

func get(t testing.TB, url string) response {
	t.Helper()
	res, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatalf("GET %s: read body: %v", url, err)
	}
	r := response{status: res.StatusCode, header: res.Header, body: body}
	if ct := res.Header.Get("Content-Type"); strings.Contains(ct, "json") {
		d := json.NewDecoder(bytes.NewReader(body))
		d.UseNumber()
		if err := d.Decode(&r.json); err != nil {
			t.Fatalf("GET %s: %s body is not a JSON object: %v\n%s", url, ct, err, body)
		}
	}
	return r
}

// getOK gets url and fails unless the answer is 200 with the media type.
func getOK(t testing.TB, url, media string) response {
	t.Helper()
	r := get(t, url)
	if r.status != http.StatusOK {
		t.Fatalf("GET %s: status %d, want 200\n%s", url, r.status, r.body)
	}
	if ct := r.header.Get("Content-Type"); ct != media && !strings.HasPrefix(ct, media+";") {
		t.Fatalf("GET %s: Content-Type %q, want %q", url, ct, media)
	}
	return r
}

// links returns the links member of a JSON object.
func links(t testing.TB, doc map[string]any) []map[string]any {
	t.Helper()
	raw, ok := doc["links"].([]any)
	if !ok {
		t.Fatalf("no links array in %v", doc)
	}
	out := make([]map[string]any, len(raw))
	for i, l := range raw {
		out[i] = l.(map[string]any)
	}
	return out
}

// linkByRel returns the only link with rel, failing when there is none or
// several, or when it lacks a type or an absolute href under base.
func linkByRel(t testing.TB, doc map[string]any, rel, base string) map[string]any {
	t.Helper()
	var found []map[string]any
	for _, l := range links(t, doc) {
		if l["rel"] == rel {
			found = append(found, l)
		}
	}
	if len(found) != 1 {
		t.Fatalf("%d links with rel %q, want 1: %v", len(found), rel, doc["links"])
	}
	l := found[0]
	if typ, _ := l["type"].(string); typ == "" {
		t.Errorf("link %q has no type: %v", rel, l)
	}
	if href, _ := l["href"].(string); href != base && !strings.HasPrefix(href, base+"/") && !strings.HasPrefix(href, base+"?") {
		t.Errorf("link %q href %q is not an absolute URL under %s", rel, href, base)
	}
	return l
}

func hasLink(doc map[string]any, rel string) bool {
	ls, _ := doc["links"].([]any)
	return slices.ContainsFunc(ls, func(l any) bool { return l.(map[string]any)["rel"] == rel })
}

// featureIDs returns the ids of a FeatureCollection, checking each is an integer.
func featureIDs(t testing.TB, fc map[string]any) []uint64 {
	t.Helper()
	var ids []uint64
	for _, f := range fc["features"].([]any) {
		ids = append(ids, jsonID(t, f.(map[string]any)["id"]))
	}
	return ids
}

func jsonID(t testing.TB, v any) uint64 {
	t.Helper()
	n, ok := v.(json.Number)
	var id uint64
	if _, err := fmt.Sscan(string(n), &id); !ok || err != nil || fmt.Sprint(id) != string(n) {
		t.Fatalf("feature id %#v is not a positive integer", v)
	}
	return id
}

func ids(feats []geo.Feature) []uint64 {
	out := make([]uint64, len(feats))
	for i, f := range feats {
		out[i] = f.ID
	}
	return out
}
