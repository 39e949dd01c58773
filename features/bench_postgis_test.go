package features_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/labstack/echo/v4"

	"github.com/csdi-hk/csdi/catalog"
	"github.com/csdi-hk/csdi/catalog/postgis"
	"github.com/csdi-hk/csdi/features"
	"github.com/csdi-hk/csdi/internal/loadtest"
	"github.com/csdi-hk/csdi/internal/synth"
	"github.com/csdi-hk/csdi/internal/testenv"
)

const (
	// concurrency is the number of connections of each side: wrk's to our
	// server, and the pgx pool's to PostGIS, one goroutine each.
	concurrency = 16
	benchSeed   = 2026
	layerID     = "buildings"
	bboxLimit   = 1000
	pageLimit   = 10000
)

// pgQuery answers one bbox page the way pg_featureserv does: ST_AsGeoJSON
// per row with the attributes beside it, ST_Intersects with the envelope
// (the same test as ours, so both sides return the same features), ordered
// by id as our pages are. pg_featureserv then assembles the features in Go;
// the workers here do the same, by plain concatenation.
const pgQuery = `SELECT id, ST_AsGeoJSON(geom), props::text FROM csdi_data.` + layerID + `
WHERE ST_Intersects(geom, ST_MakeEnvelope($1, $2, $3, $4, 4326)) ORDER BY id LIMIT $5`

// BenchmarkItemsVsPostGIS measures /ogc/collections/{id}/items against
// PostGIS building the GeoJSON itself, the method of pg_featureserv. It
// needs PostGIS (run it through .ci/with-postgis) and wrk.
//
// Synthetic buildings (internal/synth) are imported into PostGIS through
// the store and loaded into memory by catalog.Catalog.Load, as the server
// does at start. Then, over the 0.01-degree cells of the dense core, bbox
// queries with limit=1000, 16 connections each side for CSDI_BENCH_DURATION:
//
//   - ours: our server in this process on a real listener, driven by wrk
//     cycling through the cells;
//   - postgis: 16 goroutines, each with a connection of a pgx pool, running
//     pgQuery for each cell in turn and assembling a FeatureCollection.
//
// Before measuring, every cell is asked of both and the answers compared:
// the same ids in the same order, and numberMatched equal to PostGIS's
// count. Last, the whole layer is paged through by next links, 10000 a
// page, and the time per feature of the early and the late pages compared:
// equal when paging costs linear time overall.
func BenchmarkItemsVsPostGIS(b *testing.B) {
	wrk := testenv.Command(b, "wrk")
	scale, dur := loadtest.Knobs(b)
	url := testenv.PostGIS(b)
	ctx := b.Context()
	store, err := postgis.Open(ctx, url)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { store.Close() })

	n := int(500_000 * scale)
	start := time.Now()
	if _, err := store.ReplaceLayer(ctx, catalog.LayerInfo{ID: layerID, Title: "Buildings"}, synth.Buildings(benchSeed, n)); err != nil {
		b.Fatal(err)
	}
	importTime := time.Since(start)
	// ANALYZE so the planner knows the table as it would in service.
	pool := loadtest.Pool(b, url, concurrency)
	if _, err := pool.Exec(ctx, "ANALYZE csdi_data."+layerID); err != nil {
		b.Fatalf("analyze %s: %v", layerID, err)
	}
	quiet := slog.New(slog.DiscardHandler)
	cat := catalog.New(store, quiet)
	start = time.Now()
	if err := cat.Load(ctx); err != nil {
		b.Fatal(err)
	}
	loadTime := time.Since(start)

	e := echo.New()
	features.NewHandler(cat, features.Options{Log: quiet}).Register(e)
	srv := httptest.NewServer(e)
	b.Cleanup(srv.Close)

	cells := coreCells()
	r := report{scale: scale, features: n, cells: len(cells), dur: dur, importTime: importTime, loadTime: loadTime, loadAvg: [2]string{loadtest.LoadAvg()}}
	r.oursBytes, r.pgBytes, r.avgReturned = checkCells(b, srv.URL, pool, cells)
	paths := make([]string, len(cells))
	for i, c := range cells {
		paths[i] = itemsPath(c)
	}
	b.Run("bbox/ours", func(b *testing.B) {
		r.ours = runWrk(b, wrk, srv.URL, paths, dur)
	})
	b.Run("bbox/postgis", func(b *testing.B) {
		r.pg = runPostGIS(b, pool, cells, dur)
		if r.ours.PerSec > 0 {
			b.ReportMetric(r.ours.PerSec/r.pg.PerSec, "ours/postgis")
		}
	})
	b.Run("page", func(b *testing.B) {
		// A handler of its own: the bbox runs above warmed the first ids of
		// every cell in the shared one's encoded-feature cache, which would
		// make early pages look cheaper than late ones.
		pe := echo.New()
		features.NewHandler(cat, features.Options{Log: quiet}).Register(pe)
		psrv := httptest.NewServer(pe)
		defer psrv.Close()
		for b.Loop() {
			r.paging = pageThrough(b, psrv.URL, n)
		}
		p := r.paging
		b.ReportMetric(float64(n)/p.total.Seconds(), "features/s")
		b.ReportMetric(p.early*1e6, "early_us/feature")
		b.ReportMetric(p.late*1e6, "late_us/feature")
		b.ReportMetric(p.late/p.early, "late/early")
	})
	r.loadAvg[1] = loadtest.LoadAvg()
	// Printed rather than logged: a parent benchmark's log is not shown.
	fmt.Println(r)
}

// cell is a bbox query: west, south, east, north as written in the URL.
type cell [4]string

// coreCells lists the 0.01-degree cells of synth.Core, row by row. The
// edges are written with two decimals and parsed back for PostGIS, so both
// sides test the very same box.
func coreCells() []cell {
	lo := func(v float64) int { return int(v*100 + 0.5) }
	var cs []cell
	for y := lo(synth.Core.Min[1]); y < lo(synth.Core.Max[1]); y++ {
		for x := lo(synth.Core.Min[0]); x < lo(synth.Core.Max[0]); x++ {
			deg := func(v int) string { return fmt.Sprintf("%d.%02d", v/100, v%100) }
			cs = append(cs, cell{deg(x), deg(y), deg(x + 1), deg(y + 1)})
		}
	}
	return cs
}

func (c cell) floats() []any {
	out := make([]any, 4)
	for i, s := range c {
		v, err := strconv.ParseFloat(s, 64)
		if err != nil {
			panic(err) // written by coreCells
		}
		out[i] = v
	}
	return out
}

func itemsPath(c cell) string {
	return fmt.Sprintf("/ogc/collections/%s/items?bbox=%s&limit=%d", layerID, strings.Join(c[:], ","), bboxLimit)
}

// checkCells asks every cell of both sides and compares the answers. It
// returns the average response sizes and features per response.
func checkCells(b *testing.B, base string, pool *pgxpool.Pool, cells []cell) (ours, pg, returned float64) {
	ctx := b.Context()
	for _, c := range cells {
		body, err := fetch(base + itemsPath(c))
		if err != nil {
			b.Fatal(err)
		}
		var fc struct {
			NumberMatched  int `json:"numberMatched"`
			NumberReturned int `json:"numberReturned"`
			Features       []struct {
				ID uint64 `json:"id"`
			} `json:"features"`
		}
		if err := json.Unmarshal(body, &fc); err != nil {
			b.Fatalf("cell %v: decode: %v", c, err)
		}
		got := make([]uint64, len(fc.Features))
		for i, f := range fc.Features {
			got[i] = f.ID
		}
		var want []uint64
		buf, err := pgPage(ctx, pool, c, nil, func(id int64) { want = append(want, uint64(id)) })
		if err != nil {
			b.Fatal(err)
		}
		var count int
		if err := pool.QueryRow(ctx, `SELECT count(*) FROM csdi_data.`+layerID+`
WHERE ST_Intersects(geom, ST_MakeEnvelope($1, $2, $3, $4, 4326))`, c.floats()...).Scan(&count); err != nil {
			b.Fatalf("cell %v: count: %v", c, err)
		}
		if !slices.Equal(got, want) || fc.NumberReturned != len(got) || fc.NumberMatched != count {
			b.Fatalf("cell %v: ours %d of %d features (first %v), PostGIS %d of %d (first %v)",
				c, len(got), fc.NumberMatched, got[:min(5, len(got))], len(want), count, want[:min(5, len(want))])
		}
		ours += float64(len(body))
		pg += float64(len(buf))
		returned += float64(len(got))
	}
	k := float64(len(cells))
	return ours / k, pg / k, returned / k
}

// pgPage runs pgQuery for a cell and appends the FeatureCollection to buf,
// calling each with every id.
func pgPage(ctx context.Context, pool *pgxpool.Pool, c cell, buf []byte, each func(int64)) ([]byte, error) {
	rows, err := pool.Query(ctx, pgQuery, append(c.floats(), bboxLimit)...)
	if err != nil {
		return buf, fmt.Errorf("cell %v: query PostGIS: %w", c, err)
	}
	defer rows.Close()
	buf = append(buf, `{"type":"FeatureCollection","features":[`...)
	var (
		id          int64
		geom, props []byte
		first       = true
	)
	for rows.Next() {
		if err := rows.Scan(&id, &geom, &props); err != nil {
			return buf, fmt.Errorf("cell %v: scan: %w", c, err)
		}
		if !first {
			buf = append(buf, ',')
		}
		first = false
		buf = append(buf, `{"type":"Feature","id":`...)
		buf = strconv.AppendInt(buf, id, 10)
		buf = append(buf, `,"geometry":`...)
		buf = append(buf, geom...)
		buf = append(buf, `,"properties":`...)
		buf = append(buf, props...)
		buf = append(buf, '}')
		if each != nil {
			each(id)
		}
	}
	if err := rows.Err(); err != nil {
		return buf, fmt.Errorf("cell %v: read PostGIS rows: %w", c, err)
	}
	return append(buf, "]}"...), nil
}

type report struct {
	scale                float64
	features, cells      int
	dur                  time.Duration
	importTime, loadTime time.Duration
	ours, pg             loadtest.Result
	oursBytes, pgBytes   float64
	avgReturned          float64
	paging               paging
	loadAvg              [2]string
}

type paging struct {
	total, maxPage time.Duration
	pages          int
	// early and late are seconds per feature over the first and the last
	// quarter of the full pages.
	early, late float64
}

func (r report) String() string {
	var b strings.Builder
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	fmt.Fprintf(&b, "scale %g, %d buildings, %d cells of 0.01 degree, limit %d, %d connections, %s per measurement, GOMAXPROCS %d\n",
		r.scale, r.features, r.cells, bboxLimit, concurrency, r.dur, runtime.GOMAXPROCS(0))
	fmt.Fprintf(&b, "load average at the start %s, at the end %s\n", r.loadAvg[0], r.loadAvg[1])
	fmt.Fprintf(&b, "import into PostGIS %.1f s; load into memory %.2f s; %.0f features per response on average\n\n",
		r.importTime.Seconds(), r.loadTime.Seconds(), r.avgReturned)
	b.WriteString("bbox limit=1000          queries/s   p50 ms   p99 ms   avg bytes\n")
	fmt.Fprintf(&b, "ours (wrk, HTTP)         %9.0f %8.1f %8.1f %11.0f\n", r.ours.PerSec, ms(r.ours.P50), ms(r.ours.P99), r.oursBytes)
	fmt.Fprintf(&b, "PostGIS ST_AsGeoJSON     %9.0f %8.1f %8.1f %11.0f\n", r.pg.PerSec, ms(r.pg.P50), ms(r.pg.P99), r.pgBytes)
	ratio := r.ours.PerSec / r.pg.PerSec
	fmt.Fprintf(&b, "ours/PostGIS %.1fx (target >= 5x: %s)\n", ratio, verdict(ratio >= 5))
	if n := r.ours.Errors + r.pg.Errors; n > 0 {
		fmt.Fprintf(&b, "%d errors\n", n)
	}
	p := r.paging
	fmt.Fprintf(&b, "\npaging by next links, limit %d: %d pages in %.2f s, %.0f features/s, slowest page %.1f ms\n",
		pageLimit, p.pages, p.total.Seconds(), float64(r.features)/p.total.Seconds(), ms(p.maxPage))
	fmt.Fprintf(&b, "time per feature, first quarter of pages %.2f us, last quarter %.2f us: late/early %.2f (linear overall: %s)\n",
		p.early*1e6, p.late*1e6, p.late/p.early, verdict(p.late/p.early < 1.5))
	return b.String()
}

func verdict(ok bool) string {
	if ok {
		return "met"
	}
	return "MISSED"
}

// pageThrough pages through the whole layer from the first page by the
// absolute next links, as GDAL does, and times each page.
func pageThrough(b *testing.B, base string, n int) paging {
	var (
		p       paging
		times   []time.Duration
		counts  []int
		got     int
		lastIDs uint64
	)
	u := base + "/ogc/collections/" + layerID + "/items?limit=" + strconv.Itoa(pageLimit)
	start := time.Now()
	for u != "" {
		s := time.Now()
		res, err := http.Get(u)
		if err != nil {
			b.Fatal(err)
		}
		var fc struct {
			NumberMatched  int                   `json:"numberMatched"`
			NumberReturned int                   `json:"numberReturned"`
			Links          []features.Link       `json:"links"`
			Features       []struct{ ID uint64 } `json:"features"`
		}
		err = json.NewDecoder(res.Body).Decode(&fc)
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
		if err != nil || res.StatusCode != http.StatusOK {
			b.Fatalf("GET %s: %s: %v", u, res.Status, err)
		}
		times = append(times, time.Since(s))
		counts = append(counts, len(fc.Features))
		if fc.NumberMatched != n || fc.NumberReturned != len(fc.Features) {
			b.Fatalf("GET %s: numberMatched %d, numberReturned %d, %d features; want %d matched", u, fc.NumberMatched, fc.NumberReturned, len(fc.Features), n)
		}
		// Ids must rise across pages, or a page was repeated or skipped.
		for _, f := range fc.Features {
			if f.ID <= lastIDs {
				b.Fatalf("GET %s: id %d after %d", u, f.ID, lastIDs)
			}
			lastIDs = f.ID
		}
		got += len(fc.Features)
		u = ""
		for _, l := range fc.Links {
			if l.Rel == "next" {
				u = l.Href
			}
		}
	}
	p.total = time.Since(start)
	if got != n {
		b.Fatalf("paged %d features, want %d", got, n)
	}
	p.pages = len(times)
	p.maxPage = slices.Max(times)
	full := p.pages
	if counts[full-1] < pageLimit {
		full-- // the short last page would flatter the late pages
	}
	q := max(1, full/4)
	perFeature := func(ts []time.Duration) float64 {
		var sum time.Duration
		for _, t := range ts {
			sum += t
		}
		return sum.Seconds() / float64(len(ts)*pageLimit)
	}
	if full == 0 {
		b.Fatalf("no full page of %d in %d features: raise %s", pageLimit, n, loadtest.ScaleVar)
	}
	p.early, p.late = perFeature(times[:q]), perFeature(times[full-q:full])
	return p
}

// runPostGIS runs pgPage for each cell in turn from 16 goroutines for dur,
// after the pass of checkCells has warmed PostgreSQL's buffers.
func runPostGIS(b *testing.B, pool *pgxpool.Pool, cells []cell, dur time.Duration) loadtest.Result {
	ctx := b.Context()
	var (
		next     atomic.Int64
		failures atomic.Int64
		mu       sync.Mutex
		lat      []time.Duration
		wg       sync.WaitGroup
	)
	start := time.Now()
	deadline := start.Add(dur)
	for range concurrency {
		wg.Go(func() {
			var mine []time.Duration
			var buf []byte
			for time.Now().Before(deadline) {
				c := cells[int(next.Add(1))%len(cells)]
				s := time.Now()
				var err error
				if buf, err = pgPage(ctx, pool, c, buf[:0], nil); err != nil {
					if failures.Add(1) == 1 {
						b.Error(err)
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
	if len(lat) == 0 {
		b.Fatal("no answer from PostGIS")
	}
	slices.Sort(lat)
	r := loadtest.Result{
		PerSec: float64(len(lat)) / elapsed.Seconds(),
		P50:    lat[len(lat)*50/100],
		P99:    lat[len(lat)*99/100],
		Errors: int(failures.Load()),
	}
	r.Report(b, "queries/s")
	return r
}

// runWrk drives a server with wrk, 16 connections, and reports the figures.
func runWrk(b *testing.B, wrk, base string, paths []string, dur time.Duration) loadtest.Result {
	w := loadtest.Wrk{Path: wrk, Connections: concurrency, Duration: dur, Timeout: 10 * time.Second, Header: nil}
	res := w.Run(b, base, paths)
	res.Report(b, "queries/s")
	return res
}

func fetch(url string) ([]byte, error) {
	resp, err := http.Get(url)
	if err != nil {
		return nil, fmt.Errorf("GET %s: %w", url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("GET %s: %w", url, err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s %s", url, resp.Status, body)
	}
	return body, nil
}
