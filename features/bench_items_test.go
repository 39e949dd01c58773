package features

import (
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/csdi-hk/csdi/catalog"
	"github.com/csdi-hk/csdi/geo"
	"github.com/csdi-hk/csdi/internal/synth"
)

// BenchmarkItemsBBox answers bbox pages of 1000 over the 0.01-degree cells
// of the synthetic core, as BenchmarkItemsVsPostGIS does, without HTTP or
// PostGIS, so matching and encoding can be profiled on their own. Each
// op is one request; "cold" empties the caches of matches and GeoJSON
// before each, "warm" lets them fill as the cells cycle.
func BenchmarkItemsBBox(b *testing.B) {
	feats, err := synth.Collect(synth.Buildings(2026, 100_000))
	if err != nil {
		b.Fatal(err)
	}
	var s geo.Schema
	for _, f := range feats {
		if err := s.Observe(f.Properties); err != nil {
			b.Fatal(err)
		}
	}
	l := catalog.NewLayer(catalog.LayerInfo{ID: "buildings", Fields: s.Fields()}, feats)
	e := echo.New()
	h := NewHandler(testLayers{"buildings": l}, Options{Log: slog.New(slog.DiscardHandler)})
	h.Register(e)
	var paths []string
	for y := 2226; y < 2234; y++ {
		for x := 11413; x < 11421; x++ {
			paths = append(paths, fmt.Sprintf("/ogc/collections/buildings/items?bbox=%d.%02d,%d.%02d,%d.%02d,%d.%02d&limit=1000",
				x/100, x%100, y/100, y%100, (x+1)/100, (x+1)%100, (y+1)/100, (y+1)%100))
		}
	}
	for _, cold := range []bool{true, false} {
		b.Run(map[bool]string{true: "cold", false: "warm"}[cold], func(b *testing.B) {
			i := 0
			for b.Loop() {
				if cold {
					h.matches = matchCache{}
					h.encoded = encodedCache{}
				}
				w := httptest.NewRecorder()
				e.ServeHTTP(w, httptest.NewRequest(http.MethodGet, paths[i%len(paths)], nil))
				if w.Code != http.StatusOK {
					b.Fatalf("%s: %d %s", paths[i%len(paths)], w.Code, w.Body)
				}
				i++
			}
		})
	}
}
