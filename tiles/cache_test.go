package tiles

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/maptile"

	"github.com/csdi-hk/csdi/catalog"
	"github.com/csdi-hk/csdi/geo"
)

// liveLayers is a Layers whose snapshots a test swaps while the server runs.
type liveLayers struct {
	mu sync.Mutex
	m  layerSet
}

func (s *liveLayers) Layer(id string) (*catalog.Layer, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.m.Layer(id)
}

func (s *liveLayers) set(l *catalog.Layer) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.m[l.Info.ID] = l
}

// serveLive starts a server over the sample layers that the test can change.
func serveLive(t testing.TB, opts Options) (*httptest.Server, *Handler, *liveLayers) {
	t.Helper()
	live := &liveLayers{m: sampleLayers(t)}
	e := echo.New()
	h := NewHandler(live, opts)
	h.Register(e)
	srv := httptest.NewServer(e)
	t.Cleanup(srv.Close)
	return srv, h, live
}

// version returns a copy of layer l with the given version and features.
func version(t testing.TB, l *catalog.Layer, v int64, feats []geo.Feature) *catalog.Layer {
	t.Helper()
	info := l.Info
	info.Version = v
	info.UpdatedAt = time.Date(2025, 1, 1, 0, 0, 0, int(v), time.UTC)
	return newLayer(t, info, feats)
}

// pierToilet is one toilet at the pier with the given name.
func pierToilet(name string) []geo.Feature {
	return []geo.Feature{{ID: 11, Geometry: pier, Properties: map[string]any{"name": name}}}
}

// names decodes a tile and returns layer -> the "name" of each feature.
func names(t testing.TB, body []byte) map[string][]any {
	t.Helper()
	out := map[string][]any{}
	for _, l := range decodeTile(t, body).Layers {
		for _, f := range l.Features {
			out[l.GetName()] = append(out[l.GetName()], tags(t, l, f)["name"])
		}
	}
	return out
}

func TestTileETag(t *testing.T) {
	srv, _, live := serveLive(t, Options{})
	url := tileURL(srv.URL, "toilets", maptile.At(pier, pierZ))

	resp, _ := get(t, url, "Accept-Encoding", "gzip")
	gzTag := resp.Header.Get("ETag")
	resp, _ = get(t, url)
	plainTag := resp.Header.Get("ETag")
	if len(gzTag) < 10 || gzTag[0] != '"' || gzTag == plainTag || plainTag == "" {
		t.Fatalf("ETags %q (gzip) and %q (plain): want two different strong tags", gzTag, plainTag)
	}
	if cc := resp.Header.Get("Cache-Control"); cc != "public, max-age=300" {
		t.Errorf("Cache-Control %q", cc)
	}

	tests := []struct {
		name    string
		header  []string
		status  int
		wantTag string
	}{
		{"same tag", []string{"Accept-Encoding", "gzip", "If-None-Match", gzTag}, 304, gzTag},
		{"weak form", []string{"Accept-Encoding", "gzip", "If-None-Match", "W/" + gzTag}, 304, gzTag},
		{"in a list", []string{"Accept-Encoding", "gzip", "If-None-Match", `"other", ` + gzTag}, 304, gzTag},
		{"star", []string{"If-None-Match", "*"}, 304, plainTag},
		{"plain tag", []string{"If-None-Match", plainTag}, 304, plainTag},
		{"other representation", []string{"If-None-Match", gzTag}, 200, plainTag},
		{"other tag", []string{"Accept-Encoding", "gzip", "If-None-Match", `"other"`}, 200, gzTag},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := get(t, url, tt.header...)
			if resp.StatusCode != tt.status || resp.Header.Get("ETag") != tt.wantTag {
				t.Errorf("status %d ETag %q, want %d and %q", resp.StatusCode, resp.Header.Get("ETag"), tt.status, tt.wantTag)
			}
			if tt.status == 304 && (len(body) != 0 || resp.Header.Get("Cache-Control") == "") {
				t.Errorf("304 with %d bytes and Cache-Control %q", len(body), resp.Header.Get("Cache-Control"))
			}
		})
	}

	// A new version of the layer is a new tag: the old one no longer matches.
	live.set(version(t, live.m["toilets"], 99, pierToilet("new")))
	resp, body := get(t, url, "If-None-Match", plainTag)
	if resp.StatusCode != 200 || resp.Header.Get("ETag") == plainTag {
		t.Fatalf("after a new version: status %d ETag %q (old %q)", resp.StatusCode, resp.Header.Get("ETag"), plainTag)
	}
	if got := names(t, body)["toilets"]; len(got) != 1 || got[0] != "new" {
		t.Errorf("after a new version: names %v, want [new]", got)
	}

	// Errors are neither tagged nor cacheable.
	resp, _ = get(t, srv.URL+"/tiles/toilets/23/0/0.mvt")
	if resp.StatusCode != 404 || resp.Header.Get("ETag") != "" || resp.Header.Get("Cache-Control") != "" {
		t.Errorf("404: ETag %q Cache-Control %q", resp.Header.Get("ETag"), resp.Header.Get("Cache-Control"))
	}
}

func TestMaxAge(t *testing.T) {
	tests := []struct {
		maxAge time.Duration
		want   string
	}{
		{0, "public, max-age=300"},
		{time.Minute, "public, max-age=60"},
		{-1, "no-cache"},
	}
	for _, tt := range tests {
		srv := serve(t, sampleLayers(t), Options{MaxAge: tt.maxAge})
		for _, path := range []string{tileURL("", "toilets", maptile.At(pier, pierZ)), "/tiles/toilets.json", "/styles/toilets.json"} {
			if resp, _ := get(t, srv.URL+path); resp.Header.Get("Cache-Control") != tt.want {
				t.Errorf("MaxAge %v, %s: Cache-Control %q, want %q", tt.maxAge, path, resp.Header.Get("Cache-Control"), tt.want)
			}
		}
	}
}

// TestTileCache tells a cached tile from a built one by changing a layer's
// features without changing its version, which no store does: a cached
// tile still shows the old features.
func TestTileCache(t *testing.T) {
	tile := maptile.At(pier, pierZ)
	tests := []struct {
		name       string
		cacheBytes int64
		cached     bool
	}{
		{"default", 0, true},
		{"off", -1, false},
		{"too small for the tile", 100, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, _, live := serveLive(t, Options{CacheBytes: tt.cacheBytes})
			live.set(version(t, live.m["toilets"], 5, pierToilet("first")))
			for _, accept := range []string{"gzip", ""} {
				_, body := get(t, tileURL(srv.URL, "toilets", tile), "Accept-Encoding", accept)
				if accept == "gzip" {
					body = gunzipT(t, body)
				}
				if got := names(t, body)["toilets"]; len(got) != 1 || got[0] != "first" {
					t.Fatalf("names %v, want [first]", got)
				}
			}
			live.set(version(t, live.m["toilets"], 5, pierToilet("second")))
			want := map[bool]string{true: "first", false: "second"}[tt.cached]
			_, body := get(t, tileURL(srv.URL, "toilets", tile))
			if got := names(t, body)["toilets"]; len(got) != 1 || got[0] != want {
				t.Errorf("names %v, want [%s]", got, want)
			}
		})
	}
}

// TestInvalidate checks that Invalidate drops the tiles of every list with
// the layer, composite ones included, and keeps the others.
func TestInvalidate(t *testing.T) {
	srv, h, live := serveLive(t, Options{})
	tile := maptile.At(pier, pierZ)
	roads := func(name string) []geo.Feature {
		return []geo.Feature{{ID: 5, Geometry: orb.LineString{{114.150, 22.285}, {114.170, 22.289}}, Properties: map[string]any{"name": name}}}
	}
	live.set(version(t, live.m["toilets"], 5, pierToilet("t1")))
	live.set(version(t, live.m["roads"], 6, roads("r1")))
	for _, list := range []string{"toilets", "roads", "toilets,roads", "roads,toilets"} {
		get(t, tileURL(srv.URL, list, tile))
	}
	// Same versions, new features: only what is rebuilt shows them.
	live.set(version(t, live.m["toilets"], 5, pierToilet("t2")))
	live.set(version(t, live.m["roads"], 6, roads("r2")))
	h.Invalidate("toilets")
	h.Invalidate("nope")
	tests := []struct {
		list string
		want map[string]string
	}{
		{"toilets", map[string]string{"toilets": "t2"}},
		{"roads", map[string]string{"roads": "r1"}},
		{"toilets,roads", map[string]string{"toilets": "t2", "roads": "r2"}},
		{"roads,toilets", map[string]string{"toilets": "t2", "roads": "r2"}},
	}
	for _, tt := range tests {
		_, body := get(t, tileURL(srv.URL, tt.list, tile))
		got := names(t, body)
		for l, name := range tt.want {
			if len(got[l]) != 1 || got[l][0] != name {
				t.Errorf("%s: layer %s names %v, want [%s]", tt.list, l, got[l], name)
			}
		}
	}
}

// TestFlight checks that concurrent callers share one build, that a caller
// giving up does not stop it for the others, and that it stops when all
// have given up.
func TestFlight(t *testing.T) {
	var f flight[[]byte]
	var builds atomic.Int32
	release := make(chan struct{})
	build := func(ctx context.Context) ([]byte, error) {
		builds.Add(1)
		select {
		case <-release:
			return []byte("tile"), nil
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}

	quitter, quit := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	results := make([][]byte, 8)
	for i := range results {
		ctx := context.Background()
		if i == 0 {
			ctx = quitter
		}
		wg.Go(func() {
			b, err := f.do(ctx, "k", build)
			if i == 0 {
				if !errors.Is(err, context.Canceled) {
					t.Errorf("caller that gave up: err %v", err)
				}
				return
			}
			if err != nil {
				t.Errorf("caller %d: %v", i, err)
			}
			results[i] = b
		})
	}
	waitFor(t, func() bool { f.mu.Lock(); defer f.mu.Unlock(); return f.calls["k"] != nil && f.calls["k"].waiters == 8 })
	quit()
	waitFor(t, func() bool { f.mu.Lock(); defer f.mu.Unlock(); return f.calls["k"].waiters == 7 })
	close(release)
	wg.Wait()
	if n := builds.Load(); n != 1 {
		t.Errorf("%d builds, want 1", n)
	}
	for i, r := range results[1:] {
		if string(r) != "tile" {
			t.Errorf("caller %d got %q", i+1, r)
		}
	}

	// Everyone gives up: the build sees its context end.
	stopped := make(chan error, 1)
	ctx, cancel := context.WithCancel(context.Background())
	go f.do(ctx, "k2", func(ctx context.Context) ([]byte, error) {
		<-ctx.Done()
		stopped <- ctx.Err()
		return nil, ctx.Err()
	})
	waitFor(t, func() bool { f.mu.Lock(); defer f.mu.Unlock(); return f.calls["k2"] != nil })
	cancel()
	select {
	case err := <-stopped:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("build context ended with %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("build still running 5s after its only caller gave up")
	}

	// A panic in a build is an error, not a crash.
	if _, err := f.do(context.Background(), "k3", func(context.Context) ([]byte, error) { panic("boom") }); err == nil {
		t.Error("panic in a build: no error")
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); !cond(); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 5s")
		}
	}
}

// TestConcurrentTiles has many clients ask for the same few tiles while a
// layer keeps changing and being invalidated: for the race detector, and
// every answer must be one of the versions the layer had.
func TestConcurrentTiles(t *testing.T) {
	srv, h, live := serveLive(t, Options{})
	tile := maptile.At(pier, pierZ)
	var wg sync.WaitGroup
	stop := make(chan struct{})
	wg.Go(func() {
		for v := int64(10); ; v++ {
			select {
			case <-stop:
				return
			default:
			}
			live.set(version(t, live.m["toilets"], v, pierToilet("v")))
			h.Invalidate("toilets")
			time.Sleep(time.Millisecond)
		}
	})
	var clients sync.WaitGroup
	for range 8 {
		clients.Go(func() {
			for i := range 50 {
				list := []string{"toilets", "toilets,roads"}[i%2]
				resp, body := get(t, tileURL(srv.URL, list, tile), "Accept-Encoding", []string{"gzip", ""}[i%2])
				if resp.StatusCode != 200 || len(body) == 0 {
					t.Errorf("status %d, %d bytes", resp.StatusCode, len(body))
				}
			}
		})
	}
	clients.Wait()
	close(stop)
	wg.Wait()
}

func TestCORS(t *testing.T) {
	srv := serve(t, sampleLayers(t), Options{})
	tile := maptile.At(pier, pierZ)
	paths := []string{
		tileURL("", "toilets", tile), "/tiles/toilets.json", "/styles/toilets,roads.json",
		"/tiles/nope/0/0/0.mvt", "/ogc/tileMatrixSets", "/ogc/collections/toilets/tiles/WebMercatorQuad/0/0/0",
	}
	for _, path := range paths {
		resp, _ := get(t, srv.URL+path, "Origin", "https://example.org")
		if got := resp.Header.Get("Access-Control-Allow-Origin"); got != "*" {
			t.Errorf("GET %s: Access-Control-Allow-Origin %q", path, got)
		}
		req, _ := http.NewRequest(http.MethodOptions, srv.URL+path, nil)
		req.Header.Set("Origin", "https://example.org")
		req.Header.Set("Access-Control-Request-Method", "GET")
		req.Header.Set("Access-Control-Request-Headers", "x-api-key")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		h := resp.Header
		if resp.StatusCode != 204 || h.Get("Access-Control-Allow-Origin") != "*" ||
			h.Get("Access-Control-Allow-Methods") != "GET, HEAD, OPTIONS" || h.Get("Access-Control-Allow-Headers") != "x-api-key" {
			t.Errorf("OPTIONS %s: %d %v", path, resp.StatusCode, h)
		}
	}
	// HEAD answers like GET, without a body.
	req, _ := http.NewRequest(http.MethodHead, srv.URL+tileURL("", "toilets", tile), nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != MediaType {
		t.Errorf("HEAD: %d %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
}

func gunzipT(t testing.TB, b []byte) []byte {
	t.Helper()
	out, err := new(gzipPool).gunzip(b)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// BenchmarkServeTile serves one z14 tile of 50,000 small polygons (about
// 800 in the tile) through the whole handler, from the cache and built.
func BenchmarkServeTile(b *testing.B) {
	l := catalog.NewLayer(catalog.LayerInfo{ID: "buildings", Version: 1}, randomBuildings(50_000))
	tile := maptile.At(orb.Point{114.2, 22.3}, 14)
	path := tileURL("", "buildings", tile)
	for _, bc := range []struct {
		name       string
		cacheBytes int64
		accept     string
	}{
		{"hit/gzip", 0, "gzip"},
		{"hit/identity", 0, ""},
		{"miss/gzip", -1, "gzip"},
		{"miss/identity", -1, ""},
	} {
		b.Run(bc.name, func(b *testing.B) {
			e := echo.New()
			NewHandler(layerSet{"buildings": l}, Options{CacheBytes: bc.cacheBytes}).Register(e)
			req := httptest.NewRequest(http.MethodGet, path, nil)
			req.Header.Set("Accept-Encoding", bc.accept)
			var size int
			b.ReportAllocs()
			for b.Loop() {
				rec := httptest.NewRecorder()
				e.ServeHTTP(rec, req)
				if rec.Code != 200 {
					b.Fatalf("status %d", rec.Code)
				}
				size = rec.Body.Len()
			}
			b.ReportMetric(float64(size), "B/tile")
		})
	}
}

// TestBenchmarkTileIsFull keeps the benchmark honest: its tile must hold
// hundreds of polygons, or the miss would cost nothing.
func TestBenchmarkTileIsFull(t *testing.T) {
	l := catalog.NewLayer(catalog.LayerInfo{ID: "buildings"}, randomBuildings(50_000))
	body, err := buildTile(context.Background(), []*catalog.Layer{l}, maptile.At(orb.Point{114.2, 22.3}, 14), 4096, 64)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(decodeTile(t, body).Layers[0].Features); n < 300 {
		t.Errorf("%d features in the benchmark tile, want hundreds", n)
	}
	if !bytes.Equal(gunzipT(t, must(NewHandler(nil, Options{}).gzip.compress(body))), body) {
		t.Error("gzip round trip changed the tile")
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// Builds beyond GOMAXPROCS wait for a turn; a request that gives up while
// waiting leaves without building, and a waiting build goes ahead as soon as
// a turn is free.
func TestBuildQueue(t *testing.T) {
	l := catalog.NewLayer(catalog.LayerInfo{ID: "buildings"}, randomBuildings(2_000))
	layers := []*catalog.Layer{l}
	tile := maptile.At(orb.Point{114.2, 22.3}, 14)
	h := NewHandler(layerSet{"buildings": l}, Options{CacheBytes: -1})
	// Every turn taken, as by builds running.
	for range cap(h.building) {
		h.building <- struct{}{}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if _, err := h.tileBytes(ctx, "buildings", layers, tile, "a", true); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("build with no turn free: err %v, want it to wait until its deadline", err)
	}

	done := make(chan error, 1)
	go func() {
		body, err := h.tileBytes(context.Background(), "buildings", layers, tile, "b", true)
		if err == nil && len(body) == 0 {
			err = errors.New("empty tile")
		}
		done <- err
	}()
	select {
	case err := <-done:
		t.Fatalf("build finished (err %v) with no turn free", err)
	case <-time.After(50 * time.Millisecond):
	}
	<-h.building // one build ends
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("waiting build did not start when a turn was freed")
	}
}

// Requests that share a build but not an encoding each get theirs: the
// build keeps the form its own request asked for, and a waiter wanting the
// other makes it from that one.
func TestSharedBuildEncodings(t *testing.T) {
	l := catalog.NewLayer(catalog.LayerInfo{ID: "buildings"}, randomBuildings(2_000))
	layers := []*catalog.Layer{l}
	tile := maptile.At(orb.Point{114.2, 22.3}, 14)
	want, err := buildTile(context.Background(), layers, tile, 4096, 64)
	if err != nil || len(want) == 0 {
		t.Fatalf("reference tile: %d bytes, %v", len(want), err)
	}
	for _, leaderGzip := range []bool{true, false} {
		t.Run(fmt.Sprintf("leader gzip %v", leaderGzip), func(t *testing.T) {
			h := NewHandler(layerSet{"buildings": l}, Options{CacheBytes: -1})
			for range cap(h.building) {
				h.building <- struct{}{} // no build starts until a turn is freed
			}
			results := make([][]byte, 2)
			var wg sync.WaitGroup
			for i, gz := range []bool{leaderGzip, !leaderGzip} {
				wg.Go(func() {
					b, err := h.tileBytes(context.Background(), "buildings", layers, tile, "s", gz)
					if err != nil {
						t.Error(err)
					}
					results[i] = b
				})
				// The first is the build's own request, the second waits on it.
				waitFor(t, func() bool {
					h.flight.mu.Lock()
					defer h.flight.mu.Unlock()
					c := h.flight.calls["s"]
					return c != nil && c.waiters == i+1
				})
			}
			<-h.building
			wg.Wait()
			zipped, plain := results[0], results[1]
			if !leaderGzip {
				zipped, plain = plain, zipped
			}
			if !bytes.Equal(plain, want) {
				t.Errorf("plain: %d bytes, want the %d built", len(plain), len(want))
			}
			if got := gunzipT(t, zipped); !bytes.Equal(got, want) {
				t.Errorf("gzipped: %d bytes unzipped, want the %d built", len(got), len(want))
			}
		})
	}
}
