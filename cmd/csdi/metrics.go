package main

import (
	"cmp"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v4"
)

// metrics counts requests and their latencies per route in the Prometheus
// text format. It is a few dozen lines, so we write it rather than pull in
// client_golang and its protobuf dependencies for three metric families.
type metrics struct {
	mu       sync.Mutex
	requests map[reqKey]uint64
	latency  map[string]*histogram
	tiles    uint64
}

type reqKey struct {
	method, route string
	code          int
}

// Upper bounds, in seconds, of the latency histogram buckets.
var latencyBuckets = [...]float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}

type histogram struct {
	counts [len(latencyBuckets) + 1]uint64
	sum    float64
	n      uint64
}

func newMetrics() *metrics {
	return &metrics{requests: map[reqKey]uint64{}, latency: map[string]*histogram{}}
}

// middleware records every request under its route pattern, not its path,
// so that a million tile URLs stay one time series.
func (m *metrics) middleware(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		start := time.Now()
		err := next(c)
		if err != nil {
			c.Error(err)
		}
		route := c.Path()
		if route == "" {
			route = "unmatched"
		}
		code := c.Response().Status
		d := time.Since(start).Seconds()
		m.mu.Lock()
		m.requests[reqKey{c.Request().Method, route, code}]++
		h := m.latency[route]
		if h == nil {
			h = &histogram{}
			m.latency[route] = h
		}
		i, _ := slices.BinarySearch(latencyBuckets[:], d)
		h.counts[i]++
		h.sum += d
		h.n++
		if code == 200 && strings.HasPrefix(c.Response().Header().Get(echo.HeaderContentType), mvtType) {
			m.tiles++
		}
		m.mu.Unlock()
		return nil
	}
}

const mvtType = "application/vnd.mapbox-vector-tile"

// write emits every metric; gauges are read from the catalog at scrape time.
func (m *metrics) write(w io.Writer, layers, features int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	fmt.Fprintln(w, "# HELP csdi_http_requests_total HTTP requests by method, route and status code.")
	fmt.Fprintln(w, "# TYPE csdi_http_requests_total counter")
	keys := slices.SortedFunc(maps.Keys(m.requests), func(a, b reqKey) int {
		return cmp.Or(cmp.Compare(a.route, b.route), cmp.Compare(a.method, b.method), cmp.Compare(a.code, b.code))
	})
	for _, k := range keys {
		fmt.Fprintf(w, "csdi_http_requests_total{method=%q,route=%q,code=\"%d\"} %d\n", k.method, k.route, k.code, m.requests[k])
	}
	fmt.Fprintln(w, "# HELP csdi_http_request_duration_seconds HTTP request latency by route.")
	fmt.Fprintln(w, "# TYPE csdi_http_request_duration_seconds histogram")
	for _, route := range slices.Sorted(maps.Keys(m.latency)) {
		h := m.latency[route]
		var cum uint64
		for i, le := range latencyBuckets {
			cum += h.counts[i]
			fmt.Fprintf(w, "csdi_http_request_duration_seconds_bucket{route=%q,le=%q} %d\n", route, strconv.FormatFloat(le, 'g', -1, 64), cum)
		}
		fmt.Fprintf(w, "csdi_http_request_duration_seconds_bucket{route=%q,le=\"+Inf\"} %d\n", route, h.n)
		fmt.Fprintf(w, "csdi_http_request_duration_seconds_sum{route=%q} %g\n", route, h.sum)
		fmt.Fprintf(w, "csdi_http_request_duration_seconds_count{route=%q} %d\n", route, h.n)
	}
	fmt.Fprintln(w, "# HELP csdi_tiles_served_total Vector tiles served with status 200.")
	fmt.Fprintln(w, "# TYPE csdi_tiles_served_total counter")
	fmt.Fprintf(w, "csdi_tiles_served_total %d\n", m.tiles)
	fmt.Fprintln(w, "# HELP csdi_layers_loaded Layers held in memory.")
	fmt.Fprintln(w, "# TYPE csdi_layers_loaded gauge")
	fmt.Fprintf(w, "csdi_layers_loaded %d\n", layers)
	fmt.Fprintln(w, "# HELP csdi_features_loaded Features held in memory, over all layers.")
	fmt.Fprintln(w, "# TYPE csdi_features_loaded gauge")
	fmt.Fprintf(w, "csdi_features_loaded %d\n", features)
}
