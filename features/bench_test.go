package features

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"

	"github.com/labstack/echo/v4"
	"github.com/paulmach/orb"

	"github.com/csdi-hk/csdi/catalog"
	"github.com/csdi-hk/csdi/geo"
)

// BenchmarkPageThrough pages through a whole layer of a million points over
// HTTP by next links, 10000 a page, as GDAL does, with and without a
// filter; each op is one whole pass, and features/s is reported.
func BenchmarkPageThrough(b *testing.B) {
	const n = 1_000_000
	feats := make([]geo.Feature, n)
	for i := range feats {
		feats[i] = geo.Feature{ID: uint64(i + 1), Geometry: orb.Point{113.8 + float64(i%1000)/2000, 22.2 + float64(i/1000)/2500},
			Properties: map[string]any{"k": int64(i % 2), "name": "路燈"}}
	}
	l := catalog.NewLayer(catalog.LayerInfo{ID: "lamps", Fields: []geo.Field{{Name: "k", Type: geo.Integer}, {Name: "name", Type: geo.String}}}, feats)
	e := echo.New()
	NewHandler(testLayers{"lamps": l}, Options{Log: slog.New(slog.DiscardHandler)}).Register(e)
	srv := httptest.NewServer(e)
	b.Cleanup(srv.Close)

	for _, tc := range []struct {
		name, query string
		want        int
	}{
		{"all", "", n},
		{"filtered", "&k=1", n / 2},
	} {
		b.Run(tc.name, func(b *testing.B) {
			for b.Loop() {
				got := 0
				u := srv.URL + "/ogc/collections/lamps/items?limit=10000" + tc.query
				for u != "" {
					res, err := http.Get(u)
					if err != nil {
						b.Fatal(err)
					}
					var fc struct {
						Features []json.RawMessage
						Links    []Link
					}
					err = json.NewDecoder(res.Body).Decode(&fc)
					io.Copy(io.Discard, res.Body)
					res.Body.Close()
					if err != nil {
						b.Fatal(err)
					}
					got += len(fc.Features)
					u = ""
					for _, ln := range fc.Links {
						if ln.Rel == "next" {
							u = ln.Href
						}
					}
				}
				if got != tc.want {
					b.Fatalf("paged %d features, want %d", got, tc.want)
				}
			}
			b.ReportMetric(float64(tc.want)*float64(b.N)/b.Elapsed().Seconds(), "features/s")
		})
	}
}

// BenchmarkSpatialFilter answers the first page of a CQL2 spatial filter
// on a million points, no cache: through the R-tree the cost follows the
// size of the box, where a scan would cost the whole layer ("scan" is the
// same box as a non-spatial filter on the coordinates, for comparison).
func BenchmarkSpatialFilter(b *testing.B) {
	const n = 1_000_000
	feats := make([]geo.Feature, n)
	for i := range feats {
		x, y := 113.8+float64(i%1000)/2000, 22.2+float64(i/1000)/2500
		feats[i] = geo.Feature{ID: uint64(i + 1), Geometry: orb.Point{x, y}, Properties: map[string]any{"x": x, "y": y}}
	}
	l := catalog.NewLayer(catalog.LayerInfo{ID: "lamps", Fields: []geo.Field{{Name: "x", Type: geo.Number}, {Name: "y", Type: geo.Number}}}, feats)
	h := NewHandler(testLayers{"lamps": l}, Options{})
	for _, tc := range []struct{ name, filter string }{
		{"rtree", "S_INTERSECTS(geometry, BBOX(114.0, 22.3, 114.01, 22.31))"},
		{"scan", "x BETWEEN 114.0 AND 114.01 AND y BETWEEN 22.3 AND 22.31"},
	} {
		b.Run(tc.name, func(b *testing.B) {
			req := httptest.NewRequest("GET", "/ogc/collections/lamps/items?limit=100&filter="+url.QueryEscape(tc.filter), nil)
			q, err := h.parseItems(req, l)
			if err != nil {
				b.Fatal(err)
			}
			for b.Loop() {
				h.matches = matchCache{}
				pg, err := selectPage(l, h.selection(l, &q), &q)
				if err != nil || pg.matched != 21*26 {
					b.Fatalf("%d matched, %v", pg.matched, err)
				}
			}
		})
	}
}
