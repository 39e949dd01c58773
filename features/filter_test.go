package features

import (
	"fmt"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/paulmach/orb"

	"github.com/csdi-hk/csdi/catalog"
	"github.com/csdi-hk/csdi/geo"
	"github.com/csdi-hk/csdi/geo/crs"
)

// wantFilterClasses are the conformance classes of CQL2 filtering.
var wantFilterClasses = []string{
	"http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/filter",
	"http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/features-filter",
	"http://www.opengis.net/spec/cql2/1.0/conf/cql2-text",
	"http://www.opengis.net/spec/cql2/1.0/conf/cql2-json",
	"http://www.opengis.net/spec/cql2/1.0/conf/basic-cql2",
	"http://www.opengis.net/spec/cql2/1.0/conf/advanced-comparison-operators",
	"http://www.opengis.net/spec/cql2/1.0/conf/case-insensitive-comparison",
	"http://www.opengis.net/spec/cql2/1.0/conf/basic-spatial-functions",
	"http://www.opengis.net/spec/cql2/1.0/conf/spatial-functions",
	"http://www.opengis.net/spec/cql2/1.0/conf/temporal-functions",
	"http://www.opengis.net/spec/cql2/1.0/conf/basic-spatial-operators",
	// Tested below: ACCENTI, two properties compared, and spatial
	// functions with every kind of geometry literal.
	"http://www.opengis.net/spec/cql2/1.0/conf/accent-insensitive-comparison",
	"http://www.opengis.net/spec/cql2/1.0/conf/property-property",
	"http://www.opengis.net/spec/cql2/1.0/conf/basic-spatial-functions-plus",
}

func TestFilter(t *testing.T) {
	f := newFixture(t, Options{})
	// Each toilet is j = (id-3)/2: rating is j/4, so j is rating*4.
	j := func(p map[string]any) int { return int(p["rating"].(float64) * 4) }
	at := func(p map[string]any) orb.Point {
		jj := j(p)
		return orb.Point{113.85 + float64(jj%25)*0.02 + 1.23456789e-7*float64(jj), 22.2 + float64(jj/25)*0.03 + 9.87654321e-8*float64(jj)}
	}
	in := func(w, s, e, n float64) func(p map[string]any) bool {
		return func(p map[string]any) bool { q := at(p); return q[0] >= w && q[0] <= e && q[1] >= s && q[1] <= n }
	}
	seats := func(p map[string]any) int64 { v, _ := p["seats"].(int64); return v }
	hk := func(lon, lat float64) string {
		q := crs.HK1980Grid.FromWGS84(orb.Point{lon, lat})
		return fmt.Sprintf("%.4f %.4f", q[1], q[0]) // northing, easting
	}
	names := func(ns ...string) func(p map[string]any) bool {
		return func(p map[string]any) bool { return slices.Contains(ns, p["name"].(string)) }
	}
	const uri = "http://www.opengis.net/def/crs/EPSG/0/"
	for _, tc := range []struct {
		layer, filter, lang, crs string
		keep                     func(p map[string]any) bool
	}{
		{"toilets", `seats > 3`, "", "", func(p map[string]any) bool { return seats(p) > 3 }},
		{"toilets", `{"op":">","args":[{"property":"seats"},3]}`, "cql2-json", "", func(p map[string]any) bool { return seats(p) > 3 }},
		{"toilets", `seats IS NULL`, "", "", func(p map[string]any) bool { return p["seats"] == nil }},
		{"toilets", `NOT (open = TRUE) AND rating BETWEEN 10 AND 20`, "", "", func(p map[string]any) bool {
			return p["open"] == false && p["rating"].(float64) >= 10 && p["rating"].(float64) <= 20
		}},
		{"toilets", `name_tc LIKE '公廁 1%'`, "", "", func(p map[string]any) bool { return strings.HasPrefix(p["name_tc"].(string), "公廁 1") }},
		{"toilets", `seats IN (1, 2)`, "", "", func(p map[string]any) bool { return seats(p) == 1 || seats(p) == 2 }},
		{"toilets", `CASEI(name_en) LIKE CASEI('TOILET 1_,%')`, "", "", func(p map[string]any) bool { return j(p) >= 10 && j(p) <= 19 }},
		{"toilets", `ACCENTI(CASEI(name_en)) LIKE ACCENTI(CASEI('TÓILËT 1_,%'))`, "", "", func(p map[string]any) bool { return j(p) >= 10 && j(p) <= 19 }},
		{"toilets", `rating > seats AND T_AFTER(inspected, opened)`, "", "", func(p map[string]any) bool {
			return p["seats"] != nil && p["rating"].(float64) > float64(seats(p))
		}},
		{"toilets", `{"op":"<","args":[{"property":"rating"},{"property":"seats"}]}`, "cql2-json", "", func(p map[string]any) bool {
			return p["seats"] != nil && p["rating"].(float64) < float64(seats(p))
		}},
		{"hk_areas", `S_INTERSECTS(geometry, LINESTRING(114.155 22.27, 114.155 22.29))`, "", "", func(p map[string]any) bool { return p["名稱"] == "區域 1" }},
		{"hk_areas", `S_INTERSECTS(geometry, MULTIPOLYGON(((114.19 22.24,114.21 22.24,114.21 22.26,114.19 22.24)),((113.94 22.49,113.96 22.49,113.96 22.51,113.94 22.49))))`, "", "", func(p map[string]any) bool { return p["名稱"] == "區域 6" }},
		{"hk_areas", `S_CROSSES(geometry, MULTILINESTRING((114.14 22.31, 114.14 22.33),(114.0 22.0, 114.0 22.1)))`, "", "", func(p map[string]any) bool { return p["名稱"] == "區域 4" }},
		{"toilets", `opened < DATE('2020-01-10')`, "", "", func(p map[string]any) bool { return j(p) < 9 }},
		{"toilets", `T_AFTER(inspected, TIMESTAMP('2024-05-16T00:00:00Z'))`, "", "", func(p map[string]any) bool {
			return p["inspected"].(time.Time).After(time.Date(2024, 5, 16, 0, 0, 0, 0, time.UTC))
		}},
		{"toilets", `S_INTERSECTS(geometry, BBOX(113.9, 22.25, 114.0, 22.325))`, "", "", in(113.9, 22.25, 114.0, 22.325)},
		{"toilets", `{"op":"s_intersects","args":[{"property":"geometry"},{"bbox":[113.9,22.25,114.0,22.325]}]}`, "cql2-json", "", in(113.9, 22.25, 114.0, 22.325)},
		{"toilets", `S_WITHIN(geometry, POLYGON((113.84 22.19, 113.96 22.19, 113.96 22.27, 113.84 22.27, 113.84 22.19)))`, "", "", in(113.84, 22.19, 113.96, 22.27)},
		{"toilets", `S_INTERSECTS(geometry, BBOX(22.25, 113.9, 22.325, 114.0))`, "", uri + "4326", in(113.9, 22.25, 114.0, 22.325)},
		{"toilets", `S_INTERSECTS(geometry, BBOX(113.9, 22.25, 114.0, 22.325)) AND seats = 2 OR S_WITHIN(geometry, BBOX(114.2, 22.4, 114.4, 22.5))`, "", "", func(p map[string]any) bool {
			return in(113.9, 22.25, 114.0, 22.325)(p) && seats(p) == 2 || in(114.2, 22.4, 114.4, 22.5)(p)
		}},
		{"hk_areas", `S_INTERSECTS(geometry, POINT(114.153 22.282))`, "", "", func(p map[string]any) bool { return p["名稱"] == "區域 1" }},
		{"hk_areas", `S_INTERSECTS(geometry, POINT(114.157 22.2845))`, "", "", func(p map[string]any) bool { return false }}, // in polygon 1's hole
		{"hk_areas", `S_INTERSECTS(geometry, POINT(22.282 114.153))`, "", uri + "4326", func(p map[string]any) bool { return p["名稱"] == "區域 1" }},
		{"hk_areas", `S_INTERSECTS(geometry, POINT(` + hk(114.153, 22.282) + `))`, "", uri + "2326", func(p map[string]any) bool { return p["名稱"] == "區域 1" }},
		{"hk_areas", `S_CONTAINS(geometry, POLYGON((` + hk(114.152, 22.281) + `,` + hk(114.153, 22.281) + `,` + hk(114.153, 22.282) + `,` + hk(114.152, 22.281) + `)))`, "", uri + "2326",
			func(p map[string]any) bool { return p["名稱"] == "區域 1" }},
		{"places", `S_INTERSECTS(geometry, BBOX(177, 65, -177, 70))`, "", "", names("place 1", "place 2", "place 10")},
		{"places", `S_INTERSECTS(geometry, BBOX(-80, -5, -70, 5))`, "", "", names("place 5", "place 6")}, // 7 has the box in its hole
		{"places", `S_DISJOINT(geometry, BBOX(-180, -90, 0, 90))`, "", "", names("place 1", "place 8", "place 11")},
		{"places", `S_INTERSECTS(geometry, BBOX(-1, -1, 1, 52)) OR name = 'place 8'`, "", "", names("place 3", "place 8")},
	} {
		t.Run(tc.layer+" "+tc.filter, func(t *testing.T) {
			q := url.Values{"filter": {tc.filter}, "limit": {"7"}}
			if tc.lang != "" {
				q.Set("filter-lang", tc.lang)
			}
			if tc.crs != "" {
				q.Set("filter-crs", tc.crs)
			}
			want := selectIDs(f.want[tc.layer], tc.keep)
			got := pageAll(t, f, f.url+"/ogc/collections/"+tc.layer+"/items?"+q.Encode())
			if !slices.Equal(got, want) {
				t.Errorf("ids %v, want %v", got, want)
			}
		})
	}

	// A filter is ANDed with bbox, datetime, property filters, and sorted.
	q := url.Values{"filter": {"rating > 30"}, "bbox": {"113.8,22.2,114.2,22.5"}, "open": {"true"},
		"datetime": {"2024-05-07T00:00:00Z/.."}, "sortby": {"-rating"}, "limit": {"4"}}
	var want []uint64
	for _, ft := range slices.Backward(f.want["toilets"]) { // ids ascend with rating
		p := ft.Properties
		if p["rating"].(float64) > 30 && in(113.8, 22.2, 114.2, 22.5)(p) && p["open"] == true &&
			!p["inspected"].(time.Time).Before(time.Date(2024, 5, 7, 0, 0, 0, 0, time.UTC)) {
			want = append(want, ft.ID)
		}
	}
	if got := pageAll(t, f, f.url+"/ogc/collections/toilets/items?"+q.Encode()); !slices.Equal(got, want) || len(want) < 5 {
		t.Errorf("filter with everything else: %v, want %v", got, want)
	}
}

func TestFilterErrors(t *testing.T) {
	f := newFixture(t, Options{})
	for _, tc := range []struct {
		query string
		names []string // what the error must mention
	}{
		{"filter=" + url.QueryEscape("seats >"), []string{`"filter"`, "syntax error at character 8"}},
		{"filter=" + url.QueryEscape("seats = 1 AND"), []string{`"filter"`, "character"}},
		{"filter=" + url.QueryEscape("nope = 1"), []string{`"filter"`, "nope"}},
		{"filter=" + url.QueryEscape("seats = 'x'"), []string{`"filter"`, "seats"}},
		{"filter=" + url.QueryEscape("seats > 1") + "&filter-lang=cql-text", []string{`"filter-lang"`, "cql-text"}},
		{"filter=" + url.QueryEscape("seats > 1") + "&filter-lang=cql2-json", []string{`"filter"`}},
		{"filter=" + url.QueryEscape(`{"op":">","args":[{"property":"seats"}]}`) + "&filter-lang=cql2-json", []string{`"filter"`}},
		{"filter=" + url.QueryEscape("seats > 1") + "&filter-crs=" + url.QueryEscape("http://www.opengis.net/def/crs/EPSG/0/32650"), []string{`"filter-crs"`}},
		{"filter-lang=cql2-text", []string{`"filter-lang"`, "without filter"}},
		{"filter-crs=" + url.QueryEscape("http://www.opengis.net/def/crs/EPSG/0/4326"), []string{`"filter-crs"`, "without filter"}},
		{"filter=" + url.QueryEscape("S_INTERSECTS(geometry, BBOX(113, 22, 112, 23))") + "&filter-crs=" + url.QueryEscape("http://www.opengis.net/def/crs/EPSG/0/3857"), []string{`"filter"`}},
		{"filter=" + url.QueryEscape("名稱 = 'x' AND seats >"), []string{`"filter"`, "character 21"}}, // characters, not bytes (the end of 20)
		{"filter=a&filter=b", []string{`"filter"`, "2 times"}},
	} {
		r := get(t, f.url+"/ogc/collections/toilets/items?"+tc.query)
		desc, _ := r.json["description"].(string)
		if r.status != 400 {
			t.Errorf("%s: status %d, want 400", tc.query, r.status)
		}
		for _, n := range tc.names {
			if !strings.Contains(desc, n) {
				t.Errorf("%s: error %q does not mention %s", tc.query, desc, n)
			}
		}
	}
}

// TestSpatialFilterNarrows checks that a spatial filter is answered
// through the layer's R-tree: the filter yields the box that match hands
// to Layer.Search, and on 200,000 points it selects the same features as a
// comparison of coordinates, which has no box and visits every feature.
// (How much faster that is, is the benchmarks' business.)
func TestSpatialFilterNarrows(t *testing.T) {
	const n = 200_000
	feats := make([]geo.Feature, n)
	for i := range feats {
		x, y := 113.8+float64(i%500)/1000, 22.2+float64(i/500)/2000
		feats[i] = geo.Feature{ID: uint64(i + 1), Geometry: orb.Point{x, y}, Properties: map[string]any{"x": x, "y": y}}
	}
	l := catalog.NewLayer(catalog.LayerInfo{ID: "lamps", Fields: []geo.Field{{Name: "x", Type: geo.Number}, {Name: "y", Type: geo.Number}}}, feats)
	h := NewHandler(testLayers{"lamps": l}, Options{})
	run := func(filter string) ([]int32, orb.Bound, bool) {
		req := httptest.NewRequest("GET", "/ogc/collections/lamps/items?filter="+url.QueryEscape(filter), nil)
		q, err := h.parseItems(req, l)
		if err != nil {
			t.Fatal(err)
		}
		b, ok := q.cql.bound()
		return match(l, &q), b, ok
	}
	box := orb.Bound{Min: orb.Point{114.0, 22.3}, Max: orb.Point{114.01, 22.31}}
	got, b, narrowed := run("S_INTERSECTS(geometry, BBOX(114.0, 22.3, 114.01, 22.31))")
	want, _, scanned := run("x >= 114.0 AND x <= 114.01 AND y >= 22.3 AND y <= 22.31")
	if !slices.Equal(got, want) || len(want) != 11*21 {
		t.Fatalf("the box selects %d features as a spatial filter, %d by coordinates, want %d", len(got), len(want), 11*21)
	}
	if !narrowed || b != box {
		t.Errorf("the spatial filter gives the search box %v (%v), want %v", b, narrowed, box)
	}
	if scanned {
		t.Errorf("a filter on attributes gives a search box: it would miss features")
	}
}
