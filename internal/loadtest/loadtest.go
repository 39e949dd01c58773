// Package loadtest is what the benchmarks against PostGIS (tiles and
// features) share: driving our server with wrk over a list of paths, a pgx
// pool for the PostGIS side, and the knobs they read from the environment.
// Each benchmark keeps its own data, queries and report.
package loadtest

import (
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// Result is one side's figures over a timed run.
type Result struct {
	PerSec   float64 // requests (tiles, queries) per second
	P50, P99 time.Duration
	Errors   int
	// ClientCPU is the share of the machine's CPU time the load generator
	// took: wrk for our server, the benchmark process (pgx) for PostGIS.
	ClientCPU float64
	// ServerP50 and ServerP99 are the time our handler took, from its
	// start to its return, when Wrk.Server records it: what the client saw
	// less the time requests waited in sockets and for the scheduler.
	ServerP50, ServerP99 time.Duration
}

// Latencies records how long a handler takes over each request.
type Latencies struct {
	mu sync.Mutex
	d  []time.Duration
}

// Wrap times h into l.
func (l *Latencies) Wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		h.ServeHTTP(w, r)
		d := time.Since(start)
		l.mu.Lock()
		l.d = append(l.d, d)
		l.mu.Unlock()
	})
}

// take returns what l has recorded, sorted, and empties it.
func (l *Latencies) take() []time.Duration {
	l.mu.Lock()
	d := l.d
	l.d = nil
	l.mu.Unlock()
	slices.Sort(d)
	return d
}

// Wrk is how a run of wrk is set up.
type Wrk struct {
	Path        string // the wrk binary
	Connections int
	Duration    time.Duration
	Timeout     time.Duration // per request
	Header      map[string]string
	Server      *Latencies // if set, the server's timings, read for ServerP50 and ServerP99
}

// script cycles each of wrk's two threads through the paths, from opposite
// ends of the list, and prints the figures wrk has at the end on one line.
const script = `
local paths = {%s}
local headers = {%s}
local n = 0
function setup(thread)
  thread:set("start", n * math.floor(#paths / 2))
  n = n + 1
end
local i = nil
function request()
  if i == nil then i = start end
  i = i %% #paths + 1
  return wrk.format("GET", paths[i], headers)
end
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("CSDI %%d %%d %%d %%d %%d\n", summary.requests, summary.duration,
    latency:percentile(50), latency:percentile(99), e.connect + e.read + e.write + e.timeout + e.status))
end
`

// Run drives the server at base with wrk, two threads (one per core of the
// benchmark machine), through paths in turn. It reports B/op and allocs/op
// of this process (the server under test runs in it) per request, and
// fails the benchmark if any request failed.
func (w Wrk) Run(b *testing.B, base string, paths []string) Result {
	quoted := make([]string, len(paths))
	for i, p := range paths {
		quoted[i] = strconv.Quote(p)
	}
	var headers []string
	for k, v := range w.Header {
		headers = append(headers, fmt.Sprintf("[%q] = %q", k, v))
	}
	file := filepath.Join(b.TempDir(), "paths.lua")
	if err := os.WriteFile(file, fmt.Appendf(nil, script, strings.Join(quoted, ","), strings.Join(headers, ", ")), 0o644); err != nil {
		b.Fatal(err)
	}
	var m0, m1 runtime.MemStats
	runtime.ReadMemStats(&m0)
	if w.Server != nil {
		w.Server.take()
	}
	// wrk reads "10s" but not Go's "1m0s": whole seconds.
	secs := func(d time.Duration) string { return strconv.Itoa(max(1, int(d.Seconds()))) + "s" }
	cmd := exec.CommandContext(b.Context(), w.Path, "-t2", "-c"+strconv.Itoa(w.Connections), "-d"+secs(w.Duration),
		"--timeout", secs(w.Timeout), "-s", file, base)
	out, err := cmd.CombinedOutput()
	runtime.ReadMemStats(&m1)
	if err != nil {
		b.Fatalf("%s: %v\n%s", cmd, err, out)
	}
	var res Result
	var requests, micros, p50, p99 int64
	found := false
	for line := range strings.Lines(string(out)) {
		if f, ok := strings.CutPrefix(line, "CSDI "); ok {
			_, err := fmt.Sscan(f, &requests, &micros, &p50, &p99, &res.Errors)
			found = err == nil
		}
	}
	if !found || requests == 0 {
		b.Fatalf("%s: no figures in its output:\n%s", cmd, out)
	}
	took := float64(micros) / 1e6
	res.PerSec = float64(requests) / took
	ps := cmd.ProcessState
	res.ClientCPU = (ps.UserTime() + ps.SystemTime()).Seconds() / (took * float64(runtime.NumCPU()))
	res.P50, res.P99 = time.Duration(p50)*time.Microsecond, time.Duration(p99)*time.Microsecond
	if w.Server != nil {
		if d := w.Server.take(); len(d) > 0 {
			res.ServerP50, res.ServerP99 = d[len(d)*50/100], d[len(d)*99/100]
			b.ReportMetric(float64(res.ServerP99.Microseconds())/1000, "server_p99_ms")
		}
	}
	b.ReportMetric(float64(m1.TotalAlloc-m0.TotalAlloc)/float64(requests), "B/op")
	b.ReportMetric(float64(m1.Mallocs-m0.Mallocs)/float64(requests), "allocs/op")
	if res.Errors > 0 {
		b.Errorf("%d requests failed:\n%s", res.Errors, out)
	}
	return res
}

// Pool is a pgx pool of exactly conns connections to url, closed when the
// benchmark ends.
func Pool(b *testing.B, url string, conns int32) *pgxpool.Pool {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		b.Fatal(err)
	}
	cfg.MaxConns, cfg.MinConns = conns, conns
	pool, err := pgxpool.NewWithConfig(b.Context(), cfg)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(pool.Close)
	return pool
}

// LoadAvg is the first three fields of /proc/loadavg, or "unknown": the
// machines are shared, and a figure means little without it.
func LoadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if f := strings.Fields(string(b)); err == nil && len(f) >= 3 {
		return strings.Join(f[:3], " ")
	}
	return "unknown"
}

// The knobs of the PostGIS benchmarks, from the environment.
const (
	// ScaleVar multiplies the generated data (500,000 buildings at 1);
	// 0.05 makes a quick run.
	ScaleVar = "CSDI_BENCH_SCALE"
	// DurationVar is how long each timed measurement runs; default 10s.
	DurationVar = "CSDI_BENCH_DURATION"
)

// Knobs returns the scale and the duration of each measurement that the
// environment asks for.
func Knobs(b *testing.B) (scale float64, dur time.Duration) {
	return envFloat(b, ScaleVar, 1), envDuration(b, DurationVar, 10*time.Second)
}

// Report reports r as the benchmark's metrics; unit names the rate
// ("tiles/s", "queries/s").
func (r Result) Report(b *testing.B, unit string) {
	b.ReportMetric(1e9/r.PerSec, "ns/op")
	b.ReportMetric(r.PerSec, unit)
	b.ReportMetric(float64(r.P50.Microseconds())/1000, "p50_ms")
	b.ReportMetric(float64(r.P99.Microseconds())/1000, "p99_ms")
	if r.ClientCPU > 0 { // not every PostGIS side measures its client
		b.ReportMetric(100*r.ClientCPU, "client_cpu_%")
	}
}

// envFloat is the positive number in the environment variable name, or def.
func envFloat(b *testing.B, name string, def float64) float64 {
	s := os.Getenv(name)
	if s == "" {
		return def
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || v <= 0 {
		b.Fatalf("%s=%q: want a positive number", name, s)
	}
	return v
}

// envDuration is the duration of at least a second in the environment
// variable name, or def.
func envDuration(b *testing.B, name string, def time.Duration) time.Duration {
	s := os.Getenv(name)
	if s == "" {
		return def
	}
	v, err := time.ParseDuration(s)
	if err != nil || v < time.Second {
		b.Fatalf("%s=%q: want a duration of at least 1s", name, s)
	}
	return v
}
