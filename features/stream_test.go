package features

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/labstack/echo/v4"
	"github.com/paulmach/orb"

	"github.com/csdi-hk/csdi/catalog"
	"github.com/csdi-hk/csdi/geo"
)

// writeLog is a ResponseWriter that keeps the size of every write.
type writeLog struct {
	header http.Header
	status int
	writes []int
	body   []byte
}

func (w *writeLog) Header() http.Header { return w.header }
func (w *writeLog) WriteHeader(s int)   { w.status = s }
func (w *writeLog) Write(b []byte) (int, error) {
	w.writes = append(w.writes, len(b))
	w.body = append(w.body, b...)
	return len(b), nil
}

// TestItemsStreamed checks that a large page of GeoJSON goes out in
// writes of bounded size as it is encoded, rather than built whole and
// written at once: the server holds one chunk of it at a time, in every
// output CRS (CRS84 comes partly from the encoded-feature cache).
func TestItemsStreamed(t *testing.T) {
	var feats []geo.Feature
	for i := range 5000 {
		feats = append(feats, geo.Feature{ID: uint64(i + 1), Geometry: orb.Point{114 + float64(i)*1e-5, 22.3},
			Properties: map[string]any{"name": fmt.Sprintf("feature %d with a longish name to make the page large", i)}})
	}
	l, _ := newLayer(t, catalog.LayerInfo{ID: "big"}, feats)
	e := echo.New()
	NewHandler(testLayers{"big": l}, Options{Log: slog.New(slog.NewTextHandler(io.Discard, nil))}).Register(e)
	for _, q := range []string{"", "&crs=http://www.opengis.net/def/crs/EPSG/0/2326", ""} { // the second CRS84 page comes from the cache
		w := &writeLog{header: http.Header{}}
		e.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/ogc/collections/big/items?limit=5000"+q, nil))
		var fc struct {
			Features []json.RawMessage `json:"features"`
		}
		if err := json.Unmarshal(w.body, &fc); err != nil || w.status != 200 || len(fc.Features) != 5000 {
			t.Fatalf("%s: status %d, %d features, %v", q, w.status, len(fc.Features), err)
		}
		largest := 0
		for _, n := range w.writes {
			largest = max(largest, n)
		}
		// A chunk is flushed once it passes chunkSize, so no write is much
		// larger; the page is about 500 kB.
		if len(w.body) < 10*chunkSize || largest > chunkSize+1024 || len(w.writes) < len(w.body)/(chunkSize+1024) {
			t.Errorf("%s: %d bytes in %d writes, the largest %d; want writes of about %d bytes", q, len(w.body), len(w.writes), largest, chunkSize)
		}
	}
}
