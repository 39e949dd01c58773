package features

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"

	"github.com/labstack/echo/v4"
	"github.com/paulmach/orb"

	"github.com/csdi-hk/csdi/catalog"
	"github.com/csdi-hk/csdi/geo"
)

// TestEncodedCache serves features from the cache of their GeoJSON and
// checks that a repeat equals the first answer, that another CRS is not
// served from it, and that a new snapshot of the layer is not either.
func TestEncodedCache(t *testing.T) {
	info, feats := toilets()
	l, _ := newLayer(t, info, feats)
	layers := testLayers{"toilets": l}
	e := echo.New()
	h := NewHandler(layers, Options{})
	h.Register(e)
	srv := httptest.NewServer(e)
	t.Cleanup(srv.Close)
	type fc struct {
		Features []struct {
			ID         uint64
			Geometry   json.RawMessage
			Properties map[string]any
		}
	}
	get := func(query string) fc {
		t.Helper()
		res, err := http.Get(srv.URL + "/ogc/collections/toilets/items?limit=1000&" + query)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		body, _ := io.ReadAll(res.Body)
		var c fc
		if res.StatusCode != http.StatusOK || json.Unmarshal(body, &c) != nil || len(c.Features) == 0 {
			t.Fatalf("%s: %s %s", query, res.Status, body)
		}
		return c
	}
	first, again := get(""), get("")
	if h.encoded.bytes.Load() == 0 {
		t.Fatal("nothing was kept in the cache")
	}
	for i, f := range again.Features {
		g := first.Features[i]
		a, _ := json.Marshal(f)
		b, _ := json.Marshal(g)
		if string(a) != string(b) {
			t.Errorf("feature %d from the cache:\n%s\nwritten afresh:\n%s", f.ID, a, b)
		}
	}
	grid := get("crs=" + url.QueryEscape("http://www.opengis.net/def/crs/EPSG/0/2326"))
	var p orb.Point
	var gj struct{ Coordinates orb.Point }
	if err := json.Unmarshal(grid.Features[0].Geometry, &gj); err != nil {
		t.Fatal(err)
	}
	if p = gj.Coordinates; p[0] < 800000 || p[1] < 800000 {
		t.Errorf("HK 1980 Grid coordinates %v came from the CRS84 cache", p)
	}

	// A new snapshot with other values must be written afresh.
	changed := make([]geo.Feature, 0, len(feats))
	for _, f := range feats {
		f.Properties = map[string]any{"name_tc": "新的"}
		changed = append(changed, f)
	}
	info.Version++
	layers["toilets"] = catalog.NewLayer(info, changed)
	for _, f := range get("").Features {
		if f.Properties["name_tc"] != "新的" {
			t.Fatalf("feature %d of the new snapshot has name_tc %v", f.ID, f.Properties["name_tc"])
		}
	}
}
