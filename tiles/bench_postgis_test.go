package tiles_test

import (
	"cmp"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/labstack/echo/v4"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/maptile"
	"github.com/paulmach/orb/maptile/tilecover"

	"github.com/csdi-hk/csdi/catalog"
	"github.com/csdi-hk/csdi/catalog/postgis"
	"github.com/csdi-hk/csdi/geo"
	"github.com/csdi-hk/csdi/internal/loadtest"
	"github.com/csdi-hk/csdi/internal/synth"
	"github.com/csdi-hk/csdi/internal/testenv"
	"github.com/csdi-hk/csdi/tiles"
)

// concurrency is the number of connections of each side: wrk's to our
// server, and the pgx pool's to PostGIS, one goroutine each.
const concurrency = 16

// benchSeed makes every run build the same data.
const benchSeed = 2026

// BenchmarkVsPostGIS measures the tile engine against PostGIS building the
// same tiles with ST_AsMVT, the way pg_tileserv, Martin and tegola do. It
// needs PostGIS (run it through .ci/with-postgis, as `make bench` does) and
// wrk. See BENCHMARKS.md for the figures and how to read them.
//
// Setup, reported by the load sub-benchmark: synthetic buildings, points and
// roads (internal/synth) are imported into PostGIS, and then loaded into
// memory by catalog.Catalog.Load as the server does at start; load time and
// heap per vertex (HeapInuse after GC, before and after, over the vertex
// count, the R-tree and attributes included) are measured there.
//
// Then, for every tile of zooms 12, 14 and 16 over the dense core, three
// measurements of the composite tile of the three layers, each with 16
// connections for CSDI_BENCH_DURATION, cycling through the tiles:
//
//   - ours-cold: our server (in this process, on a real listener) with its
//     tile cache off, driven by wrk over HTTP. Requests ask for gzip, as
//     browsers do, so each tile is built and compressed; they name the
//     layers in every order, so that no two requests in flight share a
//     build (see measureZoom);
//   - ours-plain: the same without asking for gzip, as wrk does by
//     default: the same bytes as PostGIS's, built and not compressed;
//   - ours-warm: the same with the cache on and every tile already in it;
//   - postgis: 16 goroutines, each with a connection of a pgx pool, run one
//     query per tile that concatenates a ST_AsMVT per layer over
//     ST_AsMVTGeom(ST_Transform(geom, 3857), ST_TileEnvelope(z, x, y),
//     4096, 64, true). Tiles are not compressed.
//
// Neither side can be told to keep features too small to draw: both drop
// them (see TestCompareWithPostGIS for the rules), the same ones but for a
// few at the edges.
//
// Last, the same for a single 500,000-vertex coastline, on the tiles its
// outline crosses at z12 and z14: the large-geometry case.
func BenchmarkVsPostGIS(b *testing.B) {
	wrk := testenv.Command(b, "wrk")
	scale, dur := loadtest.Knobs(b)
	url := testenv.PostGIS(b)
	ctx := b.Context()
	store, err := postgis.Open(ctx, url)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { store.Close() })

	layers := []synthLayer{
		{"buildings", synth.Buildings(benchSeed, int(500_000*scale))},
		{"points", synth.Points(benchSeed, int(200_000*scale))},
		{"roads", synth.Roads(benchSeed, int(50_000*scale))},
	}
	r := report{loadAvg: [2]string{loadtest.LoadAvg()}}
	start := time.Now()
	for _, l := range layers {
		if _, err := store.ReplaceLayer(ctx, catalog.LayerInfo{ID: l.id, Title: l.id}, l.seq); err != nil {
			b.Fatal(err)
		}
	}
	r.importTime = time.Since(start)

	// Loading is a benchmark of its own; when a -bench pattern leaves it
	// out, the catalog is loaded anyway for the rest.
	var cat *catalog.Catalog
	b.Run("load", func(b *testing.B) {
		for b.Loop() {
			cat = r.load(b, store)
		}
		b.ReportMetric(float64(r.loadTime.Nanoseconds()), "ns/op")
		b.ReportMetric(r.loadTime.Seconds(), "load_s")
		b.ReportMetric(float64(r.heap)/float64(r.vertices), "B/vertex")
		b.ReportMetric(float64(r.live)/float64(r.vertices), "live_B/vertex")
		b.ReportMetric(float64(r.vertices), "vertices")
	})
	if cat == nil {
		cat = r.load(b, store)
	}
	r.geometry, r.index = geometryCost(b, layers)

	pool := loadtest.Pool(b, url, concurrency)
	cold := benchServer(b, cat, -1)
	warm := benchServer(b, cat, 1<<30)
	for _, z := range []maptile.Zoom{12, 14, 16} {
		ts := coreTiles(z)
		row := measureZoom(b, fmt.Sprintf("z%d", z), wrk, dur, ts, layers, cold, warm, pool)
		r.rows = append(r.rows, row)
	}

	// The large-geometry case, added to the catalog after the load above
	// was measured.
	coast := synthLayer{"coastline", single(synth.Coastline(benchSeed, int(500_000*scale)))}
	if _, err := cat.Replace(ctx, catalog.LayerInfo{ID: coast.id, Title: coast.id}, coast.seq); err != nil {
		b.Fatal(err)
	}
	outline, _ := cat.Layer(coast.id)
	for _, z := range []maptile.Zoom{12, 14} {
		ring := outline.At(0).Geometry.(orb.Polygon)[0]
		var ts []maptile.Tile
		for t := range tilecover.LineString(orb.LineString(ring), z) {
			ts = append(ts, t)
		}
		sortTiles(ts)
		row := measureZoom(b, fmt.Sprintf("coast-z%d", z), wrk, dur, ts, []synthLayer{coast}, cold, warm, pool)
		r.rows = append(r.rows, row)
	}
	r.loadAvg[1] = loadtest.LoadAvg()
	// Printed rather than logged: a parent benchmark's log is not shown.
	fmt.Println(r.String(scale, dur))
}

// load reads every layer into a new catalog as the server does at start,
// and measures the time and the heap it takes.
func (r *report) load(b *testing.B, store catalog.Store) *catalog.Catalog {
	cat := catalog.New(store, slog.New(slog.NewTextHandler(io.Discard, nil)))
	inuse, alloc := heap()
	start := time.Now()
	if err := cat.Load(b.Context()); err != nil {
		b.Fatal(err)
	}
	r.loadTime = time.Since(start)
	inuse2, alloc2 := heap()
	r.heap, r.live = inuse2-inuse, alloc2-alloc
	r.features, r.vertices = 0, 0
	for _, l := range cat.Layers() {
		r.features += l.Len()
		for i := range l.Len() {
			r.vertices += vertices(l.At(i).Geometry)
		}
	}
	return cat
}

// report gathers the figures of one run for the table.
type report struct {
	importTime, loadTime time.Duration
	features, vertices   int
	heap, live           uint64 // HeapInuse and HeapAlloc of the loaded catalog
	geometry, index      uint64 // of the same features without attributes
	rows                 []row
	// loadAvg is /proc/loadavg at the start and at the end: on a shared
	// machine, whatever else ran shows there.
	loadAvg [2]string
}

type row struct {
	name                   string
	tiles                  int
	cold, plain, warm, pg  loadtest.Result
	rawBytes, gzBytes, pgB float64 // average tile sizes
}

func (r report) String(scale float64, dur time.Duration) string {
	var b strings.Builder
	perV := func(n uint64) float64 { return float64(n) / float64(r.vertices) }
	fmt.Fprintf(&b, "scale %g, %d features, %d vertices, %d connections, %s per measurement, GOMAXPROCS %d\n",
		scale, r.features, r.vertices, concurrency, dur, runtime.GOMAXPROCS(0))
	fmt.Fprintf(&b, "load average at the start %s, at the end %s\n", r.loadAvg[0], r.loadAvg[1])
	fmt.Fprintf(&b, "import into PostGIS %.1f s; start-up load %.2f s (target < 10 s: %s)\n",
		r.importTime.Seconds(), r.loadTime.Seconds(), verdict(r.loadTime < 10*time.Second))
	fmt.Fprintf(&b, "heap in use %.1f B/vertex (target < 48: %s); live objects %.1f B/vertex: geometry %.1f, R-tree %.1f, attributes and the rest %.1f\n",
		perV(r.heap), verdict(perV(r.heap) < 48), perV(r.live), perV(r.geometry), perV(r.index), perV(r.live)-perV(r.geometry)-perV(r.index))
	b.WriteString("\n(tiles/s, p50 and p99 in ms; srv p99: the p99 of our handler's own time, without the time requests\n")
	b.WriteString(" wait in sockets and for the scheduler; the share of CPU wrk and pgx took is in the benchmark lines)\n")
	b.WriteString("tiles           ours cold, gzip              ours cold, plain       ours warm, gzip        PostGIS ST_AsMVT         gzip/PG plain/PG warm/PG  avg tile bytes\n")
	b.WriteString("                tiles/s   p50    p99 srv p99  tiles/s   p50    p99  tiles/s   p50    p99  tiles/s   p50    p99                           ours raw/gz, PG\n")
	ms := func(d time.Duration) string { return fmt.Sprintf("%.1f", float64(d.Microseconds())/1000) }
	for _, w := range r.rows {
		fmt.Fprintf(&b, "%-10s %4d %7.0f %5s %6s %7s  %7.0f %5s %6s  %7.0f %5s %6s  %7.0f %5s %6s  %6.1fx %6.1fx %6.1fx  %.0f/%.0f, %.0f\n",
			w.name, w.tiles,
			w.cold.PerSec, ms(w.cold.P50), ms(w.cold.P99), ms(w.cold.ServerP99),
			w.plain.PerSec, ms(w.plain.P50), ms(w.plain.P99),
			w.warm.PerSec, ms(w.warm.P50), ms(w.warm.P99),
			w.pg.PerSec, ms(w.pg.P50), ms(w.pg.P99),
			w.cold.PerSec/w.pg.PerSec, w.plain.PerSec/w.pg.PerSec, w.warm.PerSec/w.pg.PerSec,
			w.rawBytes, w.gzBytes, w.pgB)
		if n := w.cold.Errors + w.plain.Errors + w.warm.Errors + w.pg.Errors; n > 0 {
			fmt.Fprintf(&b, "           %d errors\n", n)
		}
	}
	b.WriteString("\ntargets (ours with the cache off): ")
	for _, w := range r.rows {
		want := map[string]float64{"z12": 5, "z14": 10, "z16": 10}[w.name]
		if want == 0 {
			continue
		}
		fmt.Fprintf(&b, "%s >= %gx: gzip %s, plain %s; ", w.name, want,
			verdict(w.cold.PerSec >= want*w.pg.PerSec), verdict(w.plain.PerSec >= want*w.pg.PerSec))
		if w.name == "z16" {
			fmt.Fprintf(&b, "z16 p99 < 50 ms: gzip %s, plain %s", verdict(w.cold.P99 < 50*time.Millisecond), verdict(w.plain.P99 < 50*time.Millisecond))
		}
	}
	b.WriteString("\n")
	return b.String()
}

func verdict(ok bool) string {
	if ok {
		return "met"
	}
	return "MISSED"
}

// measureZoom runs the three measurements of one list of tiles.
//
// Our server builds a tile once however many requests for it arrive at the
// same time, which PostGIS does not; at z12, 16 connections over 4 tiles
// would mostly wait for each other's builds. So our servers are asked for
// the layers in every order (buildings,points,roads; roads,buildings,points;
// ...): the same tile, built anew for each order, and 16 requests in flight
// are for different builds. The paths go through every tile in one order,
// then in the next: 16 requests in flight are then for 16 neighbouring
// tiles, as PostGIS's 16 connections are, and as a map's viewport asks for
// them. (With the orders of one tile next to each other, the 16 were three
// tiles six times over, and a heavy tile came six at a time.)
func measureZoom(b *testing.B, name, wrk string, dur time.Duration, ts []maptile.Tile, layers []synthLayer,
	cold, warm server, pool *pgxpool.Pool) row {
	w := row{name: name, tiles: len(ts)}
	ids := make([]string, len(layers))
	for i, l := range layers {
		ids[i] = l.id
	}
	orders := permutations(ids)
	var paths []string
	for _, o := range orders {
		for _, t := range ts {
			paths = append(paths, fmt.Sprintf("/tiles/%s/%d/%d/%d.mvt", strings.Join(o, ","), t.Z, t.X, t.Y))
		}
	}
	// Sizes, and the warm server's cache filled.
	for _, p := range paths[:len(ts)] {
		body, err := fetch(cold.URL+p, "")
		if err != nil {
			b.Fatal(err)
		}
		w.rawBytes += float64(len(body))
	}
	w.rawBytes /= float64(len(ts))
	var (
		mu    sync.Mutex
		wg    sync.WaitGroup
		next  atomic.Int64
		first error
	)
	for range runtime.NumCPU() {
		wg.Go(func() {
			for i := int(next.Add(1)) - 1; i < len(paths); i = int(next.Add(1)) - 1 {
				body, err := fetch(warm.URL+paths[i], "gzip")
				mu.Lock()
				w.gzBytes += float64(len(body))
				first = cmp.Or(first, err)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if first != nil {
		b.Fatal(first)
	}
	w.gzBytes /= float64(len(paths))
	query := compositeQuery(layers)
	b.Run(name+"/ours-cold", func(b *testing.B) { w.cold = runWrk(b, wrk, cold, paths, dur, "gzip") })
	b.Run(name+"/ours-plain", func(b *testing.B) { w.plain = runWrk(b, wrk, cold, paths, dur, "") })
	b.Run(name+"/ours-warm", func(b *testing.B) { w.warm = runWrk(b, wrk, warm, paths, dur, "gzip") })
	b.Run(name+"/postgis", func(b *testing.B) {
		w.pg, w.pgB = runPostGIS(b, pool, query, ts, dur)
		if w.cold.PerSec > 0 {
			b.ReportMetric(w.cold.PerSec/w.pg.PerSec, "cold/postgis")
		}
	})
	return w
}

// permutations lists every order of ids.
func permutations(ids []string) [][]string {
	if len(ids) <= 1 {
		return [][]string{slices.Clone(ids)}
	}
	var out [][]string
	for i, id := range ids {
		rest := slices.Concat(ids[:i], ids[i+1:])
		for _, p := range permutations(rest) {
			out = append(out, append([]string{id}, p...))
		}
	}
	return out
}

// coreTiles lists the tiles of zoom z over the dense core in row order.
func coreTiles(z maptile.Zoom) []maptile.Tile {
	var ts []maptile.Tile
	for t := range tilecover.Bound(synth.Core, z) {
		ts = append(ts, t)
	}
	sortTiles(ts)
	return ts
}

func sortTiles(ts []maptile.Tile) {
	slices.SortFunc(ts, func(a, b maptile.Tile) int { return cmp.Or(cmp.Compare(a.Y, b.Y), cmp.Compare(a.X, b.X)) })
}

// server is a tile server of the benchmark and the time its handler takes.
type server struct {
	*httptest.Server
	lat *loadtest.Latencies
}

func benchServer(b *testing.B, cat *catalog.Catalog, cacheBytes int64) server {
	e := echo.New()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	tiles.NewHandler(cat, tiles.Options{CacheBytes: cacheBytes, Log: quiet}).Register(e)
	lat := new(loadtest.Latencies)
	srv := httptest.NewServer(lat.Wrap(e))
	b.Cleanup(srv.Close)
	return server{srv, lat}
}

// fetch gets a tile, uncompressed unless encoding asks otherwise.
func fetch(url, encoding string) ([]byte, error) {
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	if encoding != "" {
		req.Header.Set("Accept-Encoding", encoding)
	}
	resp, err := (&http.Transport{DisableCompression: true}).RoundTrip(req)
	if err != nil {
		return nil, fmt.Errorf("GET %s: %w", url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("GET %s: %w", url, err)
	}
	if resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusNoContent {
		return nil, fmt.Errorf("GET %s: %s %s", url, resp.Status, body)
	}
	return body, nil
}

// runWrk drives a server with wrk, 16 connections, asking for the encoding
// if not "", and reports the figures.
func runWrk(b *testing.B, wrk string, srv server, paths []string, dur time.Duration, encoding string) loadtest.Result {
	w := loadtest.Wrk{Path: wrk, Connections: concurrency, Duration: dur, Timeout: 60 * time.Second, Server: srv.lat}
	if encoding != "" {
		w.Header = map[string]string{"Accept-Encoding": encoding}
	}
	res := w.Run(b, srv.URL, paths)
	res.Report(b, "tiles/s")
	return res
}

// compositeQuery builds one tile of several layers the way Martin builds a
// composite source: a ST_AsMVT per layer, concatenated. Attributes come from
// the jsonb column, which ST_AsMVT expands into keys and values.
func compositeQuery(layers []synthLayer) string {
	parts := make([]string, len(layers))
	for i, l := range layers {
		parts[i] = fmt.Sprintf(`coalesce((SELECT ST_AsMVT(t, %s, 4096, 'geom', 'id') FROM (
	SELECT id, props, ST_AsMVTGeom(ST_Transform(geom, 3857), ST_TileEnvelope($1, $2, $3), 4096, 64, true) AS geom
	FROM %s
	WHERE geom && ST_Transform(ST_TileEnvelope($1, $2, $3, margin => 64.0 / 4096), 4326)
) AS t WHERE geom IS NOT NULL), '')`, pgQuote(l.id), pgx.Identifier{"csdi_data", l.id}.Sanitize())
	}
	return "SELECT " + strings.Join(parts, " || ")
}

func pgQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// runPostGIS runs query for each tile in turn from 16 goroutines for dur,
// after one pass over every tile to warm PostgreSQL's buffers. It returns the
// figures and the average tile size.
func runPostGIS(b *testing.B, pool *pgxpool.Pool, query string, ts []maptile.Tile, dur time.Duration) (loadtest.Result, float64) {
	ctx := b.Context()
	var size int
	for _, t := range ts {
		var tile []byte
		if err := pool.QueryRow(ctx, query, int32(t.Z), int32(t.X), int32(t.Y)).Scan(&tile); err != nil {
			b.Fatalf("tile %d/%d/%d: %v", t.Z, t.X, t.Y, err)
		}
		size += len(tile)
	}
	var (
		next     atomic.Int64
		failures atomic.Int64
		mu       sync.Mutex
		lat      []time.Duration
		wg       sync.WaitGroup
	)
	var m0, m1 runtime.MemStats
	runtime.ReadMemStats(&m0)
	cpu0 := processCPU(b)
	start := time.Now()
	deadline := start.Add(dur)
	for range concurrency {
		wg.Go(func() {
			var mine []time.Duration
			var tile []byte
			for time.Now().Before(deadline) {
				t := ts[int(next.Add(1))%len(ts)]
				s := time.Now()
				if err := pool.QueryRow(ctx, query, int32(t.Z), int32(t.X), int32(t.Y)).Scan(&tile); err != nil {
					failures.Add(1)
					if failures.Load() == 1 {
						b.Errorf("tile %d/%d/%d: %v", t.Z, t.X, t.Y, err)
					}
					continue
				}
				mine = append(mine, time.Since(s))
			}
			mu.Lock()
			lat = append(lat, mine...)
			mu.Unlock()
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	cpu := processCPU(b) - cpu0
	runtime.ReadMemStats(&m1)
	slices.Sort(lat)
	if len(lat) == 0 {
		b.Fatal("no tile from PostGIS")
	}
	r := loadtest.Result{
		PerSec:    float64(len(lat)) / elapsed.Seconds(),
		P50:       lat[len(lat)*50/100],
		P99:       lat[len(lat)*99/100],
		Errors:    int(failures.Load()),
		ClientCPU: cpu.Seconds() / (elapsed.Seconds() * float64(runtime.NumCPU())),
	}
	r.Report(b, "tiles/s")
	b.ReportMetric(float64(m1.TotalAlloc-m0.TotalAlloc)/float64(len(lat)), "B/op")
	b.ReportMetric(float64(m1.Mallocs-m0.Mallocs)/float64(len(lat)), "allocs/op")
	return r, float64(size) / float64(len(ts))
}

// geometryCost measures the live heap that the features of layers take
// without their attributes, first as plain features and then indexed by
// catalog.NewLayer, so that the report can say where the bytes go.
func geometryCost(b *testing.B, layers []synthLayer) (geometry, index uint64) {
	var all [][]geo.Feature
	_, before := heap()
	for _, l := range layers {
		var fs []geo.Feature
		for f, err := range l.seq {
			if err != nil {
				b.Fatal(err)
			}
			f.Properties = nil
			fs = append(fs, f)
		}
		all = append(all, slices.Clip(fs))
	}
	_, mid := heap()
	built := make([]*catalog.Layer, len(all))
	for i, fs := range all {
		built[i] = catalog.NewLayer(catalog.LayerInfo{ID: layers[i].id}, fs)
	}
	_, after := heap()
	runtime.KeepAlive(built)
	return mid - before, after - mid
}

// processCPU is the CPU time this process has used.
func processCPU(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// heap is the heap after a collection: the spans in use (HeapInuse) and the
// live objects in them (HeapAlloc).
func heap() (inuse, alloc uint64) {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapInuse, m.HeapAlloc
}

func vertices(g orb.Geometry) int {
	switch g := g.(type) {
	case orb.Point:
		return 1
	case orb.MultiPoint:
		return len(g)
	case orb.LineString:
		return len(g)
	case orb.Ring:
		return len(g)
	case orb.Polygon:
		n := 0
		for _, r := range g {
			n += len(r)
		}
		return n
	case orb.MultiLineString:
		n := 0
		for _, l := range g {
			n += len(l)
		}
		return n
	case orb.MultiPolygon:
		n := 0
		for _, p := range g {
			n += vertices(p)
		}
		return n
	case orb.Collection:
		n := 0
		for _, m := range g {
			n += vertices(m)
		}
		return n
	}
	return 0
}
