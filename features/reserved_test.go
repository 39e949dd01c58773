package features

import (
	"cmp"
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/paulmach/orb"

	"github.com/csdi-hk/csdi/catalog"
	"github.com/csdi-hk/csdi/geo"
)

// clash is a layer whose fields are named like the query parameters of
// /items, as departments' data can be (a "limit" of a speed zone, a "crs"
// column), and one named geometry.
func clash() (catalog.LayerInfo, []geo.Feature) {
	var feats []geo.Feature
	for id := uint64(1); id <= 30; id++ {
		feats = append(feats, geo.Feature{ID: id, Geometry: orb.Point{114 + float64(id)*0.001, 22.3},
			Properties: map[string]any{
				"limit": int64(id % 5), "bbox": fmt.Sprintf("b%d", id%3), "f": "x", "crs": "EPSG:2326",
				"sortby": int64(id % 4), "after": int64(id), "filter": "on", "geometry": fmt.Sprintf("g%d", id%2),
				"name": fmt.Sprintf("n%d", id%6),
			}})
	}
	return catalog.LayerInfo{ID: "clash", Title: "Clashing names"}, feats
}

// TestReservedNames decides what a field named like a query parameter
// means: the parameter wins, in the query and in the API definition,
// which declares each name once; the field is still a queryable, and is
// filtered with CQL2 and sorted on with sortby. Part 3's
// queryables-query-parameters asks for a parameter per queryable, which
// such a field cannot have without breaking Part 1's paging, CRS and
// format parameters, which every client sends.
func TestReservedNames(t *testing.T) {
	f := newFixture(t, Options{})
	info, feats := clash()
	f.layers["clash"], f.want["clash"] = newLayer(t, info, feats)
	items := f.url + "/ogc/collections/clash/items"
	all := ids(f.want["clash"])
	where := func(keep func(p map[string]any) bool) []uint64 { return selectIDs(f.want["clash"], keep) }

	// The parameters keep their meaning.
	fc := getOK(t, items+"?limit=2", "application/geo+json")
	if got := featureIDs(t, fc.json); !slices.Equal(got, all[:2]) || fc.json["numberMatched"] != json.Number("30") {
		t.Errorf("limit=2: %v of %v, want a page of 2 of all 30", got, fc.json["numberMatched"])
	}
	if got := pageAll(t, f, items+"?limit=7"); !slices.Equal(got, all) {
		t.Errorf("paging with after: %v, want all", got)
	}
	getOK(t, items+"?f=json", "application/geo+json")
	getOK(t, items+"?f=html&limit=2", "text/html")
	r := getOK(t, items+"?limit=100&crs="+url.QueryEscape("http://www.opengis.net/def/crs/EPSG/0/2326"), "application/geo+json")
	if got := featureIDs(t, r.json); r.header.Get("Content-Crs") != "<http://www.opengis.net/def/crs/EPSG/0/2326>" || !slices.Equal(got, all) {
		t.Errorf("crs: Content-Crs %q, %d features; want the output CRS, not a filter", r.header.Get("Content-Crs"), len(got))
	}
	for _, q := range []string{"bbox=b1", "f=x", "limit=x", "sortby=nope", "after=x", "filter=on"} {
		name, _, _ := strings.Cut(q, "=")
		r := get(t, items+"?"+q)
		if desc, _ := r.json["description"].(string); r.status/100 != 4 || !strings.Contains(desc, `"`+name+`"`) {
			t.Errorf("?%s: %d %s; want the parameter's error", q, r.status, r.body)
		}
	}

	// The fields are filtered with CQL2, in both encodings, and sorted on.
	for _, tc := range []struct {
		filter, lang string
		keep         func(p map[string]any) bool
	}{
		{`limit = 3`, "", func(p map[string]any) bool { return p["limit"] == int64(3) }},
		{`"bbox" = 'b1'`, "", func(p map[string]any) bool { return p["bbox"] == "b1" }}, // BBOX is a keyword
		{`f = 'x' AND crs = 'EPSG:2326' AND sortby > 1`, "", func(p map[string]any) bool { return p["sortby"].(int64) > 1 }},
		{`after BETWEEN 5 AND 9 AND "filter" = 'on'`, "", func(p map[string]any) bool { a := p["after"].(int64); return a >= 5 && a <= 9 }},
		{`geometry = 'g1' AND S_INTERSECTS(geometry, BBOX(114, 22, 114.0105, 23))`, "", func(p map[string]any) bool {
			return p["geometry"] == "g1" && p["after"].(int64) <= 10
		}},
		{`{"op":"=","args":[{"property":"bbox"},"b2"]}`, "cql2-json", func(p map[string]any) bool { return p["bbox"] == "b2" }},
		{`{"op":"<","args":[{"property":"limit"},2]}`, "cql2-json", func(p map[string]any) bool { return p["limit"].(int64) < 2 }},
	} {
		q := url.Values{"filter": {tc.filter}, "limit": {"4"}}
		if tc.lang != "" {
			q.Set("filter-lang", tc.lang)
		}
		want := where(tc.keep)
		if got := pageAll(t, f, items+"?"+q.Encode()); !slices.Equal(got, want) || len(want) == 0 || len(want) == len(all) {
			t.Errorf("filter %s: %v, want %v", tc.filter, got, want)
		}
	}
	sorted := slices.Clone(f.want["clash"])
	slices.SortStableFunc(sorted, func(a, b geo.Feature) int {
		return cmp.Or(-cmp.Compare(a.Properties["limit"].(int64), b.Properties["limit"].(int64)), cmp.Compare(a.ID, b.ID))
	})
	if got := pageAll(t, f, items+"?limit=4&sortby=-limit"); !slices.Equal(got, ids(sorted)) {
		t.Errorf("sortby=-limit: %v, want %v", got, ids(sorted))
	}
	// Fields with free names are property parameters, geometry included.
	if got, want := pageAll(t, f, items+"?limit=4&name=n3&geometry=g1"), where(func(p map[string]any) bool { return p["name"] == "n3" && p["geometry"] == "g1" }); !slices.Equal(got, want) || len(want) == 0 {
		t.Errorf("name=n3&geometry=g1: %v, want %v", got, want)
	}

	// The queryables list every field; geometry stays the feature's
	// geometry, which clients look for there.
	q := getOK(t, f.url+"/ogc/collections/clash/queryables", "application/schema+json").json
	props := q["properties"].(map[string]any)
	for _, fd := range f.layers["clash"].Info.Fields {
		if _, ok := props[fd.Name]; !ok {
			t.Errorf("queryables lack %s", fd.Name)
		}
	}
	if g := props["geometry"].(map[string]any); g["format"] != "geometry-point-or-multipoint" {
		t.Errorf("queryable geometry %v, want the feature's geometry", g)
	}

	// The API definition declares each parameter once: the shared ones by
	// reference, the free-named fields inline, the clashing ones not at all.
	doc := loadAPI(t, f)
	params := doc.Paths.Value("/collections/clash/items").Get.Parameters
	seen := map[string]bool{}
	var inline []string
	for _, p := range params {
		key := p.Value.In + " " + p.Value.Name
		if seen[key] {
			t.Errorf("parameter %s declared twice", key)
		}
		seen[key] = true
		if p.Ref == "" {
			inline = append(inline, p.Value.Name)
		}
	}
	slices.Sort(inline)
	if !slices.Equal(inline, []string{"geometry", "name"}) {
		t.Errorf("property parameters %v, want [geometry name]", inline)
	}
	if lim := params.GetByInAndName("query", "limit"); !lim.Schema.Value.Type.Is("integer") || lim.Schema.Value.Min == nil || *lim.Schema.Value.Min != 1 {
		t.Errorf("limit is declared as %v, not the paging parameter", lim.Schema.Value)
	}
}
