package features

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geojson"
)

// TestSuiteWalk walks the API the way the OGC conformance suite
// (ets-ogcapi-features10, with its Part 2 checks) does: from the landing
// page only, through the links and the OpenAPI document, collection by
// collection, with the suite's own parameter values. TestConformanceSuite
// (conformance_test.go) makes the same checks one by one, each named by
// the abstract test it implements.
func TestSuiteWalk(t *testing.T) {
	f := newFixture(t, Options{MaxLimit: 60}) // small, so that the toilets take five pages
	root := f.url + "/ogc"

	landing := getOK(t, root, "application/json").json
	var apiURL string
	for _, l := range links(t, landing) {
		if l["rel"] == "service-desc" && l["type"] == "application/vnd.oai.openapi+json;version=3.0" {
			apiURL = l["href"].(string)
		}
	}
	for _, rel := range []string{"conformance", "data"} {
		linkByRel(t, landing, rel, root)
	}
	if apiURL == "" {
		t.Fatal("no service-desc of type application/vnd.oai.openapi+json;version=3.0")
	}
	doc, err := openapi3.NewLoader().LoadFromData(getOK(t, apiURL, "application/vnd.oai.openapi+json").body)
	if err != nil || doc.Validate(context.Background()) != nil {
		t.Fatalf("the API definition does not load as valid OpenAPI 3.0: %v", err)
	}

	conf := getOK(t, linkByRel(t, landing, "conformance", root)["href"].(string), "application/json").json
	if !slices.Contains(conf["conformsTo"].([]any), any("http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core")) {
		t.Error("conformance does not list core")
	}

	colls := getOK(t, linkByRel(t, landing, "data", root)["href"].(string), "application/json").json
	if self := linkByRel(t, colls, "self", root); self["type"] != "application/json" {
		t.Errorf("collections self link %v", self)
	}
	list := colls["collections"].([]any)
	if len(list) == 0 {
		t.Fatal("no collections")
	}
	for _, raw := range list {
		c := raw.(map[string]any)
		id := c["id"].(string)
		t.Run(id, func(t *testing.T) {
			one := getOK(t, root+"/collections/"+id, "application/json").json
			if !reflect.DeepEqual(one, c) {
				t.Errorf("/collections/%s is not its entry in /collections", id)
			}
			var items string
			for _, l := range links(t, c) {
				if l["rel"] == "items" && l["type"] == "application/geo+json" {
					items = l["href"].(string)
				}
			}
			if items == "" {
				t.Fatal("no items link of type application/geo+json")
			}
			// The suite reads the limit to page with from the API definition.
			lim := doc.Paths.Value("/collections/"+id+"/items").Get.Parameters.GetByInAndName("query", "limit")
			if lim == nil || lim.Schema.Value.Max == nil {
				t.Fatal("no limit with a maximum on the items path")
			}
			maxLimit := int(*lim.Schema.Value.Max)

			// Paging: the first page and at most 4 more, by next links.
			u := fmt.Sprintf("%s?limit=%d", items, maxLimit)
			var total int
			var matched json.Number
			var first uint64
			pages := 0
			for ; u != "" && pages < 5; pages++ {
				r := getOK(t, u, "application/geo+json")
				fc := r.json
				if fc["type"] != "FeatureCollection" {
					t.Fatalf("%s: type %v", u, fc["type"])
				}
				got := featureIDs(t, fc)
				if fc["numberReturned"] != json.Number(fmt.Sprint(len(got))) || len(got) > maxLimit {
					t.Errorf("%s: numberReturned %v with %d features (limit %d)", u, fc["numberReturned"], len(got), maxLimit)
				}
				if _, err := time.Parse(time.RFC3339, fc["timeStamp"].(string)); err != nil {
					t.Errorf("%s: timeStamp %v", u, fc["timeStamp"])
				}
				for _, rel := range []string{"self", "alternate"} {
					linkByRel(t, fc, rel, root)
				}
				if pages == 0 {
					matched = fc["numberMatched"].(json.Number)
					if len(got) > 0 {
						first = got[0]
					}
				}
				total += len(got)
				u = ""
				if hasLink(fc, "next") {
					u = linkByRel(t, fc, "next", root)["href"].(string)
				}
			}
			if u == "" && json.Number(fmt.Sprint(total)) != matched {
				t.Errorf("paged %d features in %d pages, numberMatched %v", total, pages, matched)
			}
			if id == "toilets" && pages != 5 {
				t.Errorf("toilets paged in %d pages, want 5", pages)
			}

			for _, q := range []string{"limit=unlimited", "unknownQueryParameter98765=1"} {
				if r := get(t, items+"?"+q); r.status != 400 {
					t.Errorf("?%s: %d, want 400", q, r.status)
				}
			}

			// The suite's boxes: each answers, and what comes back meets the box.
			for _, bbox := range []string{"-1.5,50,1.5,53", "-80,-5,-70,5", "177,65,-177,70", "-180,85,180,90", "-180,-90,180,-85"} {
				r := getOK(t, items+"?bbox="+bbox, "application/geo+json")
				var v [4]float64
				fmt.Sscanf(bbox, "%g,%g,%g,%g", &v[0], &v[1], &v[2], &v[3])
				boxes := []orb.Bound{{Min: orb.Point{v[0], v[1]}, Max: orb.Point{v[2], v[3]}}}
				if v[0] > v[2] { // across the antimeridian
					boxes = []orb.Bound{{Min: orb.Point{v[0], v[1]}, Max: orb.Point{180, v[3]}}, {Min: orb.Point{-180, v[1]}, Max: orb.Point{v[2], v[3]}}}
				}
				fc, _ := geojson.UnmarshalFeatureCollection(r.body)
				for _, ft := range fc.Features {
					if !slices.ContainsFunc(boxes, func(b orb.Bound) bool { return b.Intersects(ft.Geometry.Bound()) }) {
						t.Errorf("bbox %s: feature %v does not meet it", bbox, ft.ID)
					}
				}
			}
			for _, dt := range []string{"2024-05-06T07:08:09Z", "2024-05-06T00:00:00Z/2024-05-08T00:00:00Z", "2024-05-06T00:00:00Z/P2D", "../2024-05-08T00:00:00Z"} {
				getOK(t, items+"?datetime="+url.QueryEscape(dt), "application/geo+json")
			}

			// Part 2: crs and storageCrs are URIs of the list; each CRS
			// works for crs and bbox-crs; another is a 400.
			var crsList []string
			for _, v := range c["crs"].([]any) {
				crsList = append(crsList, v.(string))
			}
			if sc := c["storageCrs"].(string); !slices.Contains(crsList, sc) {
				t.Errorf("storageCrs %s is not in crs %v", sc, crsList)
			}
			for _, crsURI := range crsList {
				if u, err := url.Parse(crsURI); err != nil || !u.IsAbs() {
					t.Errorf("crs %q is not a URI", crsURI)
				}
				r := getOK(t, items+"?crs="+url.QueryEscape(crsURI), "application/geo+json")
				if got := r.header.Get("Content-Crs"); got != "<"+crsURI+">" {
					t.Errorf("crs %s: Content-Crs %q", crsURI, got)
				}
			}
			ext, _ := c["extent"].(map[string]any)
			if ext != nil && ext["spatial"] != nil && id != "places" { // a world-wide box has no HK1980 Grid
				var e []float64
				for _, v := range ext["spatial"].(map[string]any)["bbox"].([]any)[0].([]any) {
					x, _ := v.(json.Number).Float64()
					e = append(e, x)
				}
				for _, pc := range partCRS {
					corners := cs2cs(t, pc.proj, []orb.Point{{e[0], e[1]}, {e[2], e[1]}, {e[2], e[3]}, {e[0], e[3]}})
					lo, hi := corners[0], corners[0]
					for _, p := range corners {
						lo = [2]float64{min(lo[0], p[0]), min(lo[1], p[1])}
						hi = [2]float64{max(hi[0], p[0]), max(hi[1], p[1])}
					}
					bbox := fmt.Sprintf("%f,%f,%f,%f", lo[0]-1e-6, lo[1]-1e-6, hi[0]+1e-6, hi[1]+1e-6)
					r := getOK(t, items+"?bbox="+bbox+"&bbox-crs="+url.QueryEscape(pc.uri)+"&crs="+url.QueryEscape(pc.uri), "application/geo+json")
					if got := r.header.Get("Content-Crs"); got != "<"+pc.uri+">" {
						t.Errorf("bbox-crs %s: Content-Crs %q", pc.uri, got)
					}
					if n := r.json["numberMatched"]; n == json.Number("0") {
						t.Errorf("the extent in %s (%s) holds no feature", pc.proj, bbox)
					}
				}
			}
			for _, p := range []string{"crs", "bbox-crs"} {
				q := p + "=" + url.QueryEscape("http://www.opengis.net/def/crs/EPSG/0/32650")
				if p == "bbox-crs" {
					q += "&bbox=1,2,3,4"
				}
				if r := get(t, items+"?"+q); r.status != 400 {
					t.Errorf("%s not offered: %d, want 400", p, r.status)
				}
			}

			// The first feature on its own.
			if first == 0 {
				return
			}
			ft := getOK(t, fmt.Sprintf("%s/%d", items, first), "application/geo+json").json
			for _, rel := range []string{"self", "alternate", "collection"} {
				linkByRel(t, ft, rel, root)
			}
			if jsonID(t, ft["id"]) != first {
				t.Errorf("feature %d has id %v", first, ft["id"])
			}
		})
	}
}
