package features

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/clip"
	"github.com/paulmach/orb/geojson"
	"github.com/santhosh-tekuri/jsonschema/v6"
	"golang.org/x/net/html"
)

// The checks of the OGC conformance suite, one by one. ets-ogcapi-features10
// (the OGC's executable test suite for Part 1, with its Part 2 classes)
// names each test after the abstract test it implements: /conf/core/...,
// /conf/geojson/..., /conf/html/..., /conf/oas30/... of 17-069r4 Annex A
// and /conf/crs/... of 18-058r1 Annex A. Part 3 (19-079r2) has no
// executable suite yet; its requirements /req/queryables/...,
// /req/queryables-query-parameters/..., /req/filter/... and
// /req/features-filter/... are checked here the same way. Each row is the
// suite's test, done as the suite does it: from the landing page, through
// the links and the OpenAPI document, with the suite's own values.
// TestSuiteWalk walks the same API end to end the way the suite's run
// does; this table names each assertion so that a failure says which check
// of the suite would fail.

// suite is what the checks share: a server with a small maximum limit, so
// that paging the toilets takes five pages, as the suite's paging check
// needs a layer it can page through in at most five.
type suite struct {
	f       *fixture
	root    string
	landing map[string]any
	api     *openapi3.T
	colls   []map[string]any // the /collections entries
}

func newSuite(t *testing.T) *suite {
	f := newFixture(t, Options{MaxLimit: 60})
	s := &suite{f: f, root: f.url + "/ogc"}
	s.landing = getOK(t, s.root, "application/json").json
	desc := linkByRel(t, s.landing, "service-desc", s.root)
	doc, err := openapi3.NewLoader().LoadFromData(getOK(t, desc["href"].(string), "application/vnd.oai.openapi+json").body)
	if err != nil {
		t.Fatalf("load the API definition: %v", err)
	}
	s.api = doc
	for _, c := range getOK(t, s.root+"/collections", "application/json").json["collections"].([]any) {
		s.colls = append(s.colls, c.(map[string]any))
	}
	return s
}

// each runs fn for every collection, as the suite does for every
// collection with an items link.
func (s *suite) each(t *testing.T, fn func(t *testing.T, id string, c map[string]any)) {
	t.Helper()
	if len(s.colls) == 0 {
		t.Fatal("no collections")
	}
	for _, c := range s.colls {
		id := c["id"].(string)
		t.Run(id, func(t *testing.T) { fn(t, id, c) })
	}
}

// itemsURL is the collection's items link of type application/geo+json,
// which is the only one the suite follows.
func itemsURL(t *testing.T, c map[string]any) string {
	t.Helper()
	for _, l := range links(t, c) {
		if l["rel"] == "items" && l["type"] == "application/geo+json" {
			return l["href"].(string)
		}
	}
	t.Fatalf("collection %v has no items link of type application/geo+json", c["id"])
	return ""
}

// param is the parameter of a GET operation, $ref resolved.
func (s *suite) param(t *testing.T, path, in, name string) *openapi3.Parameter {
	t.Helper()
	item := s.api.Paths.Value(path)
	if item == nil || item.Get == nil {
		t.Fatalf("no GET %s in the API definition", path)
	}
	p := item.Get.Parameters.GetByInAndName(in, name)
	if p == nil {
		t.Fatalf("GET %s: no %s parameter %q in the API definition", path, in, name)
	}
	return p
}

// formParam checks the part of a parameter definition every query
// parameter of the standards shares.
func formParam(t *testing.T, p *openapi3.Parameter, typ string) {
	t.Helper()
	if p.In != "query" || p.Required || p.Style != "form" || p.Explode == nil || *p.Explode || p.Schema == nil || !p.Schema.Value.Type.Is(typ) {
		t.Errorf("parameter %s: in %q required %v style %q explode %v type %v; want query, optional, form, explode false, %s",
			p.Name, p.In, p.Required, p.Style, deref(p.Explode), p.Schema.Value.Type, typ)
	}
}

// validateResponse checks a JSON body against the schema the API
// definition gives the path's 200 response in media.
func (s *suite) validateResponse(t *testing.T, path, media string, body []byte) {
	t.Helper()
	item := s.api.Paths.Value(path)
	if item == nil {
		t.Fatalf("no path %s", path)
	}
	ct := item.Get.Responses.Status(200).Value.Content.Get(media)
	if ct == nil || ct.Schema == nil {
		t.Fatalf("%s: no %s response declared", path, media)
	}
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	if err := ct.Schema.Value.VisitJSON(v); err != nil {
		t.Errorf("%s: the %s response does not match its schema in the API definition: %v", path, media, err)
	}
}

// typedLinks fails unless every link has href, rel and type.
func typedLinks(t *testing.T, doc map[string]any) {
	t.Helper()
	for _, l := range links(t, doc) {
		for _, k := range []string{"href", "rel", "type"} {
			if v, _ := l[k].(string); v == "" {
				t.Errorf("link without %s: %v", k, l)
			}
		}
	}
}

// alternates checks the links of a document served as JSON: a typed
// self link, and an alternate link to every other encoding the server
// offers (HTML), which answers in that encoding.
func alternates(t *testing.T, doc map[string]any, root, selfType string) {
	t.Helper()
	typedLinks(t, doc)
	if self := linkByRel(t, doc, "self", root); self["type"] != selfType {
		t.Errorf("self link of type %v, want %s", self["type"], selfType)
	}
	alt := linkByRel(t, doc, "alternate", root)
	if alt["type"] != "text/html" {
		t.Errorf("alternate link of type %v, want text/html", alt["type"])
	}
	getOK(t, alt["href"].(string), "text/html")
}

// features decodes a GeoJSON FeatureCollection with an independent
// GeoJSON implementation.
func features(t *testing.T, body []byte) *geojson.FeatureCollection {
	t.Helper()
	fc, err := geojson.UnmarshalFeatureCollection(body)
	if err != nil {
		t.Fatalf("not a GeoJSON FeatureCollection: %v", err)
	}
	return fc
}

// meets reports whether g has a point in b, as far as clipping it to b
// tells: a polygon whose hole holds b still meets it here, so the check
// can miss a wrong answer there (TestItemsBBox pins that case down), but
// never fails a right one.
func meets(g orb.Geometry, b orb.Bound) bool {
	if g == nil || !g.Bound().Intersects(b) {
		return false
	}
	switch c := clip.Geometry(b, orb.Clone(g)).(type) {
	case orb.Point:
		return true
	case orb.MultiPoint:
		return len(c) > 0
	case orb.LineString:
		return len(c) > 0
	case orb.MultiLineString:
		return len(c) > 0
	case orb.Polygon:
		return len(c) > 0
	case orb.MultiPolygon:
		return len(c) > 0
	case orb.Collection:
		return len(c) > 0
	}
	return false
}

// TestMeets shows the suite's bbox check can fail.
func TestMeets(t *testing.T) {
	box := orb.Bound{Min: orb.Point{-1.5, 50}, Max: orb.Point{1.5, 53}}
	for _, tc := range []struct {
		g    orb.Geometry
		want bool
	}{
		{orb.Point{0, 51.5}, true},
		{orb.Point{2, 51.5}, false},
		{orb.LineString{{-3, 49}, {-2, 56}, {3, 56}}, false}, // its bounds meet the box
		{orb.LineString{{-3, 49}, {3, 56}}, true},
		{orb.Polygon{{{-2, 49}, {2, 49}, {2, 54}, {-2, 54}, {-2, 49}}}, true},
		{orb.MultiPolygon{{{{5, 5}, {6, 5}, {6, 6}, {5, 5}}}}, false},
	} {
		if got := meets(tc.g, box); got != tc.want {
			t.Errorf("meets(%v) = %v, want %v", tc.g, got, tc.want)
		}
	}
}

var suiteChecks = []struct {
	id    string // the abstract test, as the suite names it
	check func(t *testing.T, s *suite)
}{
	// ---- Part 1, Core (17-069r4 A.2) ----
	{"/conf/core/http", func(t *testing.T, s *suite) {
		res, err := http.Get(s.root)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.Proto != "HTTP/1.1" {
			t.Errorf("status line %s %s, want HTTP/1.1", res.Proto, res.Status)
		}
	}},
	{"/conf/core/root-op", func(t *testing.T, s *suite) {
		getOK(t, s.root+"/", "application/json")
		getOK(t, s.root, "application/json")
	}},
	{"/conf/core/root-success", func(t *testing.T, s *suite) {
		typedLinks(t, s.landing)
		for _, rel := range []string{"service-desc", "service-doc", "conformance", "data"} {
			linkByRel(t, s.landing, rel, s.root)
		}
	}},
	{"/conf/core/api-definition-op", func(t *testing.T, s *suite) {
		// The suite follows the service-desc whose type is exactly this.
		var href string
		for _, l := range links(t, s.landing) {
			if l["rel"] == "service-desc" && strings.ReplaceAll(l["type"].(string), " ", "") == "application/vnd.oai.openapi+json;version=3.0" {
				href = l["href"].(string)
			}
		}
		if href == "" {
			t.Fatal("no service-desc of type application/vnd.oai.openapi+json;version=3.0")
		}
		req, _ := http.NewRequest(http.MethodGet, href, nil)
		req.Header.Set("Accept", "application/vnd.oai.openapi+json;version=3.0")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != 200 {
			t.Errorf("GET %s: %d", href, res.StatusCode)
		}
	}},
	{"/conf/core/api-definition-success", func(t *testing.T, s *suite) {
		if err := s.api.Validate(context.Background()); err != nil || !strings.HasPrefix(s.api.OpenAPI, "3.0.") {
			t.Errorf("the API definition (openapi %s) is not valid OpenAPI 3.0: %v", s.api.OpenAPI, err)
		}
	}},
	{"/conf/core/conformance-op", func(t *testing.T, s *suite) {
		// Both the conformance link and {root}/conformance.
		for _, u := range []string{linkByRel(t, s.landing, "conformance", s.root)["href"].(string), s.root + "/conformance"} {
			getOK(t, u, "application/json")
		}
	}},
	{"/conf/core/conformance-success", func(t *testing.T, s *suite) {
		r := getOK(t, s.root+"/conformance", "application/json")
		s.validateResponse(t, "/conformance", "application/json", r.body)
		var got []string
		for _, c := range r.json["conformsTo"].([]any) {
			got = append(got, c.(string))
		}
		for _, c := range []string{"core", "geojson", "html", "oas30"} {
			if !slices.Contains(got, "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/"+c) {
				t.Errorf("conformsTo lacks %s: %v", c, got)
			}
		}
		if !slices.Contains(got, "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs") {
			t.Errorf("conformsTo lacks Part 2 crs: %v", got)
		}
	}},
	{"/conf/core/fc-md-op", func(t *testing.T, s *suite) {
		getOK(t, linkByRel(t, s.landing, "data", s.root)["href"].(string), "application/json")
	}},
	{"/conf/core/fc-md-success", func(t *testing.T, s *suite) {
		r := getOK(t, s.root+"/collections", "application/json")
		s.validateResponse(t, "/collections", "application/json", r.body)
		if len(links(t, r.json)) == 0 || len(s.colls) == 0 {
			t.Error("no links or no collections")
		}
		// Test method 3: a global crs list, if any, starts with CRS84.
		if l, ok := r.json["crs"].([]any); ok && (len(l) == 0 || l[0] != CRS84) {
			t.Errorf("global crs %v does not start with CRS84", l)
		}
	}},
	{"/conf/core/fc-md-links", func(t *testing.T, s *suite) {
		alternates(t, getOK(t, s.root+"/collections", "application/json").json, s.root, "application/json")
	}},
	{"/conf/core/fc-md-items", func(t *testing.T, s *suite) {
		s.each(t, func(t *testing.T, id string, c map[string]any) {
			if id == "" {
				t.Error("a collection without an id")
			}
			if ext, ok := c["extent"].(map[string]any); ok {
				if sp, ok := ext["spatial"].(map[string]any); ok {
					for _, b := range sp["bbox"].([]any) {
						if n := len(b.([]any)); n != 4 && n != 6 {
							t.Errorf("extent bbox %v", b)
						}
					}
				}
				if tm, ok := ext["temporal"].(map[string]any); ok {
					for _, iv := range tm["interval"].([]any) {
						for _, end := range iv.([]any) {
							if str, ok := end.(string); end != nil && (!ok || !isRFC3339(str)) {
								t.Errorf("extent interval %v", iv)
							}
						}
					}
				}
			}
			// Every items link answers in its type.
			for _, l := range links(t, c) {
				if l["rel"] != "items" {
					continue
				}
				r := getOK(t, l["href"].(string), l["type"].(string))
				if l["type"] == "application/geo+json" && r.json["type"] != "FeatureCollection" {
					t.Errorf("items %s: type %v", l["href"], r.json["type"])
				}
			}
		})
	}},
	{"/conf/core/fc-md-items-links", func(t *testing.T, s *suite) {
		s.each(t, func(t *testing.T, id string, c map[string]any) {
			typedLinks(t, c)
			var types []string
			for _, l := range links(t, c) {
				if l["rel"] == "items" {
					types = append(types, l["type"].(string))
				}
			}
			slices.Sort(types)
			if !slices.Equal(types, []string{"application/geo+json", "text/html"}) {
				t.Errorf("items links of types %v, want one per encoding", types)
			}
		})
	}},
	{"/conf/core/fc-md-extent", func(t *testing.T, s *suite) {
		// The extent holds every geometry and every time of the layer.
		s.each(t, func(t *testing.T, id string, c map[string]any) {
			feats := s.f.want[id]
			ext, _ := c["extent"].(map[string]any)
			if len(feats) == 0 {
				return
			}
			var box []float64
			for _, v := range ext["spatial"].(map[string]any)["bbox"].([]any)[0].([]any) {
				x, _ := v.(json.Number).Float64()
				box = append(box, x)
			}
			b := orb.Bound{Min: orb.Point{box[0], box[1]}, Max: orb.Point{box[2], box[3]}}
			for _, ft := range feats {
				if fb := ft.Geometry.Bound(); !b.Contains(fb.Min) || !b.Contains(fb.Max) {
					t.Errorf("feature %d (%v) outside the extent %v", ft.ID, fb, box)
				}
			}
			tm, _ := ext["temporal"].(map[string]any)
			if tm == nil {
				return
			}
			iv := tm["interval"].([]any)[0].([]any)
			start, _ := time.Parse(time.RFC3339, iv[0].(string))
			end, _ := time.Parse(time.RFC3339, iv[1].(string))
			for _, ft := range feats {
				if v, ok := ft.Properties["inspected"].(time.Time); ok && (v.Before(start) || v.After(end)) {
					t.Errorf("feature %d inspected %v outside the temporal extent %v", ft.ID, v, iv)
				}
			}
		})
	}},
	{"/conf/core/sfc-md-op", func(t *testing.T, s *suite) {
		s.each(t, func(t *testing.T, id string, c map[string]any) {
			getOK(t, s.root+"/collections/"+id, "application/json")
		})
	}},
	{"/conf/core/sfc-md-success", func(t *testing.T, s *suite) {
		s.each(t, func(t *testing.T, id string, c map[string]any) {
			r := getOK(t, s.root+"/collections/"+id, "application/json")
			if !reflect.DeepEqual(r.json, c) {
				t.Errorf("/collections/%s is not its entry in /collections", id)
			}
			s.validateResponse(t, "/collections/"+id, "application/json", r.body)
		})
	}},
	{"/conf/core/fc-op", func(t *testing.T, s *suite) {
		s.each(t, func(t *testing.T, id string, c map[string]any) {
			getOK(t, itemsURL(t, c), "application/geo+json")
		})
	}},
	{"/conf/core/query-param-invalid", func(t *testing.T, s *suite) {
		s.each(t, func(t *testing.T, id string, c map[string]any) {
			if r := get(t, itemsURL(t, c)+"?limit=unlimited"); r.status != 400 {
				t.Errorf("limit=unlimited: %d, want 400", r.status)
			}
		})
	}},
	{"/conf/core/query-param-unknown", func(t *testing.T, s *suite) {
		s.each(t, func(t *testing.T, id string, c map[string]any) {
			name := fmt.Sprintf("unknownQueryParameter%d", 10000+rand.IntN(10000))
			if s.api.Paths.Value("/collections/"+id+"/items").Get.Parameters.GetByInAndName("query", name) != nil {
				t.Fatalf("%s is declared", name)
			}
			if r := get(t, itemsURL(t, c)+"?"+name+"=1"); r.status != 400 {
				t.Errorf("%s=1: %d, want 400", name, r.status)
			}
		})
	}},
	{"/conf/core/fc-limit-definition", func(t *testing.T, s *suite) {
		s.each(t, func(t *testing.T, id string, c map[string]any) {
			p := s.param(t, "/collections/"+id+"/items", "query", "limit")
			formParam(t, p, "integer")
			sc := p.Schema.Value
			def, _ := sc.Default.(float64)
			if sc.Min == nil || *sc.Min < 0 || *sc.Min != math.Trunc(*sc.Min) || sc.Default == nil || def < 0 || def != math.Trunc(def) {
				t.Errorf("limit minimum %v default %v; want integers of at least 0", deref(sc.Min), sc.Default)
			}
		})
	}},
	{"/conf/core/fc-limit-response", func(t *testing.T, s *suite) {
		s.each(t, func(t *testing.T, id string, c map[string]any) {
			sc := s.param(t, "/collections/"+id+"/items", "query", "limit").Schema.Value
			lo, hi := int(*sc.Min), int(*sc.Max)
			// The suite's values: the minimum, and half way to the maximum
			// but at most 100; and above the maximum, which is clamped.
			for _, limit := range []int{lo, min(lo+(hi-lo)/2, 100), hi + 1} {
				fc := getOK(t, fmt.Sprintf("%s?limit=%d", itemsURL(t, c), limit), "application/geo+json").json
				if n := len(fc["features"].([]any)); n > min(limit, hi) || n < min(limit, hi, len(s.f.want[id])) {
					t.Errorf("limit=%d: %d features (maximum %d, layer %d)", limit, n, hi, len(s.f.want[id]))
				}
			}
		})
	}},
	{"/conf/core/crs84", func(t *testing.T, s *suite) {
		s.each(t, func(t *testing.T, id string, c map[string]any) {
			fc := features(t, getOK(t, itemsURL(t, c)+"?limit=60", "application/geo+json").body)
			for _, ft := range fc.Features {
				b := ft.Geometry.Bound()
				if b.Min[0] < -180 || b.Max[0] > 180 || b.Min[1] < -90 || b.Max[1] > 90 {
					t.Errorf("feature %v at %v is not in CRS84", ft.ID, b)
				}
			}
		})
	}},
	{"/conf/core/fc-response", func(t *testing.T, s *suite) {
		s.each(t, func(t *testing.T, id string, c map[string]any) {
			r := getOK(t, itemsURL(t, c), "application/geo+json")
			if r.json["type"] != "FeatureCollection" {
				t.Errorf("type %v", r.json["type"])
			}
			for _, ft := range r.json["features"].([]any) {
				if ft.(map[string]any)["type"] != "Feature" {
					t.Errorf("an item of type %v", ft.(map[string]any)["type"])
				}
			}
		})
	}},
	{"/conf/core/fc-links", func(t *testing.T, s *suite) {
		s.each(t, func(t *testing.T, id string, c map[string]any) {
			alternates(t, getOK(t, itemsURL(t, c), "application/geo+json").json, s.root, "application/geo+json")
		})
	}},
	{"/conf/core/fc-timeStamp", func(t *testing.T, s *suite) {
		s.each(t, func(t *testing.T, id string, c map[string]any) {
			before := time.Now().Truncate(time.Second)
			r := getOK(t, itemsURL(t, c), "application/geo+json")
			after := time.Now()
			stamp, err := time.Parse(time.RFC3339, r.json["timeStamp"].(string))
			if err != nil || stamp.Before(before) || stamp.After(after) {
				t.Errorf("timeStamp %v, want the time of the response, between %v and %v", r.json["timeStamp"], before, after)
			}
		})
	}},
	{"/conf/core/fc-numberMatched", func(t *testing.T, s *suite) {
		// The suite pages with the maximum limit of the API definition,
		// following at most 4 next links, and compares the total.
		s.each(t, func(t *testing.T, id string, c map[string]any) {
			hi := int(*s.param(t, "/collections/"+id+"/items", "query", "limit").Schema.Value.Max)
			u := fmt.Sprintf("%s?limit=%d", itemsURL(t, c), hi)
			total, pages := 0, 0
			var matched any
			for ; u != "" && pages < 5; pages++ {
				fc := getOK(t, u, "application/geo+json").json
				if pages == 0 {
					matched = fc["numberMatched"]
				}
				total += len(fc["features"].([]any))
				u = ""
				if hasLink(fc, "next") {
					u = linkByRel(t, fc, "next", s.root)["href"].(string)
				}
			}
			if u != "" {
				t.Fatalf("more than 5 pages: the check cannot end")
			}
			if matched != json.Number(fmt.Sprint(total)) {
				t.Errorf("numberMatched %v, %d features in %d pages", matched, total, pages)
			}
		})
	}},
	{"/conf/core/fc-numberReturned", func(t *testing.T, s *suite) {
		s.each(t, func(t *testing.T, id string, c map[string]any) {
			fc := getOK(t, itemsURL(t, c)+"?limit=7", "application/geo+json").json
			if fc["numberReturned"] != json.Number(fmt.Sprint(len(fc["features"].([]any)))) {
				t.Errorf("numberReturned %v, %d features", fc["numberReturned"], len(fc["features"].([]any)))
			}
		})
	}},
	{"/conf/core/fc-bbox-definition", func(t *testing.T, s *suite) {
		s.each(t, func(t *testing.T, id string, c map[string]any) {
			p := s.param(t, "/collections/"+id+"/items", "query", "bbox")
			formParam(t, p, "array")
			sc := p.Schema.Value
			if sc.MinItems != 4 || sc.MaxItems == nil || *sc.MaxItems != 6 || sc.Items == nil || !sc.Items.Value.Type.Is("number") {
				t.Errorf("bbox: items %d..%v of %v; want 4 to 6 numbers", sc.MinItems, deref(sc.MaxItems), sc.Items)
			}
		})
	}},
	{"/conf/core/fc-bbox-response", func(t *testing.T, s *suite) {
		s.each(t, func(t *testing.T, id string, c map[string]any) {
			for _, bbox := range []string{"-1.5,50,1.5,53", "-80,-5,-70,5", "177,65,-177,70", "-180,85,180,90", "-180,-90,180,-85", "113.9,22.2,114.0,22.3"} {
				fc := features(t, getOK(t, itemsURL(t, c)+"?limit=60&bbox="+bbox, "application/geo+json").body)
				var v [4]float64
				fmt.Sscanf(bbox, "%g,%g,%g,%g", &v[0], &v[1], &v[2], &v[3])
				boxes := []orb.Bound{{Min: orb.Point{v[0], v[1]}, Max: orb.Point{v[2], v[3]}}}
				if v[0] > v[2] {
					boxes = []orb.Bound{{Min: orb.Point{v[0], v[1]}, Max: orb.Point{180, v[3]}}, {Min: orb.Point{-180, v[1]}, Max: orb.Point{v[2], v[3]}}}
				}
				for _, ft := range fc.Features {
					if !slices.ContainsFunc(boxes, func(b orb.Bound) bool { return meets(ft.Geometry, b) }) {
						t.Errorf("bbox=%s: feature %v does not intersect it", bbox, ft.ID)
					}
				}
			}
		})
	}},
	{"/conf/core/fc-time-definition", func(t *testing.T, s *suite) {
		s.each(t, func(t *testing.T, id string, c map[string]any) {
			formParam(t, s.param(t, "/collections/"+id+"/items", "query", "datetime"), "string")
		})
	}},
	{"/conf/core/fc-time-response", func(t *testing.T, s *suite) {
		s.each(t, func(t *testing.T, id string, c map[string]any) {
			for _, tc := range []struct{ datetime, from, to string }{
				{"2024-05-06T17:08:09Z", "2024-05-06T17:08:09Z", "2024-05-06T17:08:09Z"},
				{"2024-05-06T10:00:00Z/2024-05-07T10:00:00Z", "2024-05-06T10:00:00Z", "2024-05-07T10:00:00Z"},
				{"../2024-05-06T12:00:00Z", "", "2024-05-06T12:00:00Z"},
				{"2024-05-16T10:00:00Z/..", "2024-05-16T10:00:00Z", ""},
				{"2024-05-06T10:00:00Z/P2D", "2024-05-06T10:00:00Z", "2024-05-08T10:00:00Z"},
			} {
				fc := getOK(t, itemsURL(t, c)+"?limit=60&datetime="+url.QueryEscape(tc.datetime), "application/geo+json").json
				for _, raw := range fc["features"].([]any) {
					p := raw.(map[string]any)["properties"].(map[string]any)
					v, ok := p["inspected"].(string)
					if !ok {
						continue // a layer without a time property
					}
					if (tc.from != "" && v < tc.from) || (tc.to != "" && v > tc.to) {
						t.Errorf("datetime=%s: a feature inspected at %s", tc.datetime, v)
					}
				}
				if id == "toilets" && fc["numberMatched"] == json.Number("0") {
					t.Errorf("datetime=%s selects no toilet", tc.datetime)
				}
			}
		})
	}},
	{"/conf/core/f-op", func(t *testing.T, s *suite) {
		s.each(t, func(t *testing.T, id string, c map[string]any) {
			if ids := featureIDs(t, getOK(t, itemsURL(t, c), "application/geo+json").json); len(ids) > 0 {
				getOK(t, fmt.Sprintf("%s/%d", itemsURL(t, c), ids[0]), "application/geo+json")
			}
		})
	}},
	{"/conf/core/f-success", func(t *testing.T, s *suite) {
		s.each(t, func(t *testing.T, id string, c map[string]any) {
			for _, fid := range featureIDs(t, getOK(t, itemsURL(t, c)+"?limit=3", "application/geo+json").json) {
				ft := getOK(t, fmt.Sprintf("%s/%d", itemsURL(t, c), fid), "application/geo+json").json
				if ft["type"] != "Feature" || jsonID(t, ft["id"]) != fid {
					t.Errorf("feature %d: type %v id %v", fid, ft["type"], ft["id"])
				}
			}
		})
	}},
	{"/conf/core/f-links", func(t *testing.T, s *suite) {
		s.each(t, func(t *testing.T, id string, c map[string]any) {
			for _, fid := range featureIDs(t, getOK(t, itemsURL(t, c)+"?limit=1", "application/geo+json").json) {
				ft := getOK(t, fmt.Sprintf("%s/%d", itemsURL(t, c), fid), "application/geo+json").json
				alternates(t, ft, s.root, "application/geo+json")
				if l := linkByRel(t, ft, "collection", s.root); l["href"] != s.root+"/collections/"+id {
					t.Errorf("collection link %v", l)
				}
			}
		})
	}},

	// ---- Part 1, GeoJSON (A.3), HTML (A.6), OpenAPI 3.0 (A.7) ----
	{"/conf/geojson/definition", func(t *testing.T, s *suite) {
		s.each(t, func(t *testing.T, id string, c map[string]any) {
			for _, q := range []string{"", "?f=json", "?f=geojson"} {
				getOK(t, itemsURL(t, c)+q, "application/geo+json")
			}
		})
	}},
	{"/conf/geojson/content", func(t *testing.T, s *suite) {
		s.each(t, func(t *testing.T, id string, c map[string]any) {
			r := getOK(t, itemsURL(t, c)+"?limit=60", "application/geo+json")
			s.validateResponse(t, "/collections/"+id+"/items", "application/geo+json", r.body)
			fc := features(t, r.body)
			for _, ft := range fc.Features {
				fr := getOK(t, fmt.Sprintf("%s/%v", itemsURL(t, c), ft.ID), "application/geo+json")
				s.validateResponse(t, "/collections/"+id+"/items/{featureId}", "application/geo+json", fr.body)
				if _, err := geojson.UnmarshalFeature(fr.body); err != nil {
					t.Errorf("feature %v: %v", ft.ID, err)
				}
				break
			}
		})
	}},
	{"/conf/html/definition", func(t *testing.T, s *suite) {
		paths := []string{"", "/conformance", "/api", "/collections"}
		for _, c := range s.colls {
			id := c["id"].(string)
			paths = append(paths, "/collections/"+id, "/collections/"+id+"/items")
			if len(s.f.want[id]) > 0 {
				paths = append(paths, fmt.Sprintf("/collections/%s/items/%d", id, s.f.want[id][0].ID))
			}
		}
		for _, p := range paths {
			getOK(t, s.root+p+"?f=html", "text/html")
			getHTML(t, s.root+p, "text/html")
		}
	}},
	{"/conf/html/content", func(t *testing.T, s *suite) {
		// What the suite leaves to manual inspection: each page parses,
		// has a title, and shows the collection's titles.
		s.each(t, func(t *testing.T, id string, c map[string]any) {
			for _, p := range []string{"", "/items"} {
				_, doc := getHTML(t, s.root+"/collections/"+id+p, "text/html")
				var title string
				for n := range doc.Descendants() {
					if n.Type == html.ElementNode && n.Data == "title" && n.FirstChild != nil {
						title = n.FirstChild.Data
					}
				}
				if title == "" || !strings.Contains(text(doc), c["title"].(string)) {
					t.Errorf("%s%s: title %q, page without the collection's title %q", id, p, title, c["title"])
				}
				if zh, _ := c["title_zh"].(string); zh != "" && !strings.Contains(text(doc), zh) {
					t.Errorf("%s%s: page without the Chinese title %q", id, p, zh)
				}
			}
		})
	}},
	{"/conf/oas30/oas-definition-1", func(t *testing.T, s *suite) {
		if l := linkByRel(t, s.landing, "service-desc", s.root); l["type"] != "application/vnd.oai.openapi+json;version=3.0" {
			t.Errorf("service-desc %v", l)
		}
		l := linkByRel(t, s.landing, "service-doc", s.root)
		if l["type"] != "text/html" {
			t.Errorf("service-doc %v", l)
		}
		getOK(t, l["href"].(string), "text/html")
	}},
	{"/conf/oas30/oas-definition-2", func(t *testing.T, s *suite) {
		if err := s.api.Validate(context.Background()); err != nil {
			t.Error(err)
		}
	}},
	{"/conf/oas30/completeness", func(t *testing.T, s *suite) {
		// Every resource the server has is a path of the document, with a
		// 200 response in each encoding it serves.
		want := map[string][]string{
			"/": {"application/json", "text/html"}, "/conformance": {"application/json", "text/html"},
			"/api":         {"application/vnd.oai.openapi+json;version=3.0", "text/html"},
			"/collections": {"application/json", "text/html"},
		}
		for _, c := range s.colls {
			p := "/collections/" + c["id"].(string)
			want[p] = []string{"application/json", "text/html"}
			want[p+"/items"] = []string{"application/geo+json", "text/html"}
			want[p+"/items/{featureId}"] = []string{"application/geo+json", "text/html"}
			want[p+"/queryables"] = []string{"application/schema+json"}
			want[p+"/sortables"] = []string{"application/schema+json"}
		}
		for p, media := range want {
			item := s.api.Paths.Value(p)
			if item == nil || item.Get == nil {
				t.Errorf("no GET %s", p)
				continue
			}
			var got []string
			for m := range item.Get.Responses.Status(200).Value.Content {
				got = append(got, m)
			}
			slices.Sort(got)
			if !slices.Equal(got, media) {
				t.Errorf("GET %s: 200 in %v, want %v", p, got, media)
			}
		}
		if n := s.api.Paths.Len(); n != len(want) {
			t.Errorf("%d paths, want the %d resources", n, len(want))
		}
	}},
	{"/conf/oas30/exceptions-codes", func(t *testing.T, s *suite) {
		// The status codes the server answers are declared where it
		// answers them, with the exception schema.
		for p, item := range s.api.Paths.Map() {
			want := []string{"200", "400", "406", "500"}
			if strings.HasPrefix(p, "/collections/") {
				want = append(want, "404")
			}
			for _, code := range want {
				r := item.Get.Responses.Value(code)
				if r == nil {
					t.Errorf("GET %s does not declare %s", p, code)
				} else if code != "200" && r.Value.Content.Get("application/json") == nil {
					t.Errorf("GET %s: %s has no JSON body", p, code)
				}
			}
		}
		for _, u := range []string{"/collections/nope", "/collections/toilets/items?limit=0", "/collections/toilets/items?f=xml"} {
			r := get(t, s.root+u)
			if err := s.api.Components.Schemas["exception"].Value.VisitJSON(mapOf(t, r.body)); err != nil || r.status < 400 {
				t.Errorf("%s: %d %s", u, r.status, r.body)
			}
		}
	}},
	{"/conf/oas30/oas-impl", func(t *testing.T, s *suite) {
		// Each JSON response matches the schema the document gives it.
		for p, media := range map[string]string{"/": "application/json", "/conformance": "application/json", "/collections": "application/json"} {
			s.validateResponse(t, p, media, getOK(t, s.root+p, media).body)
		}
		s.each(t, func(t *testing.T, id string, c map[string]any) {
			s.validateResponse(t, "/collections/"+id, "application/json", getOK(t, s.root+"/collections/"+id, "application/json").body)
			s.validateResponse(t, "/collections/"+id+"/items", "application/geo+json", getOK(t, itemsURL(t, c)+"?limit=60", "application/geo+json").body)
		})
	}},

	// ---- Part 2, CRS by Reference (18-058r1 A.1) ----
	{"/conf/crs/crs-uri", func(t *testing.T, s *suite) {
		s.each(t, func(t *testing.T, id string, c map[string]any) {
			for _, v := range append(c["crs"].([]any), c["storageCrs"]) {
				u, err := url.Parse(v.(string))
				if err != nil || !u.IsAbs() || !strings.HasPrefix(v.(string), "http://www.opengis.net/def/crs/") {
					t.Errorf("%v is not a CRS URI", v)
				}
			}
		})
	}},
	{"/conf/crs/fc-md-crs-list", func(t *testing.T, s *suite) {
		s.each(t, func(t *testing.T, id string, c map[string]any) {
			var got []string
			for _, v := range c["crs"].([]any) {
				got = append(got, v.(string))
			}
			if !slices.Equal(got, wantCRS) {
				t.Errorf("crs %v, want %v", got, wantCRS)
			}
		})
	}},
	{"/conf/crs/fc-md-storageCrs", func(t *testing.T, s *suite) {
		s.each(t, func(t *testing.T, id string, c map[string]any) {
			if sc, _ := c["storageCrs"].(string); !slices.Contains(c["crs"].([]any), any(sc)) {
				t.Errorf("storageCrs %q is not in crs", sc)
			}
		})
	}},
	{"/conf/crs/fc-md-crs-list-global", func(t *testing.T, s *suite) {
		// Collections may refer to a global list with "#/crs"; these do
		// not, so /collections has none to resolve.
		s.each(t, func(t *testing.T, id string, c map[string]any) {
			if slices.Contains(c["crs"].([]any), any("#/crs")) {
				t.Error("crs refers to a global list")
			}
		})
	}},
	{"/conf/crs/fc-bbox-crs-definition", func(t *testing.T, s *suite) {
		s.each(t, func(t *testing.T, id string, c map[string]any) {
			p := s.param(t, "/collections/"+id+"/items", "query", "bbox-crs")
			formParam(t, p, "string")
			if p.Schema.Value.Format != "uri" || !reflect.DeepEqual(p.Schema.Value.Enum, c["crs"]) {
				t.Errorf("bbox-crs format %q enum %v, want uri and the collection's crs", p.Schema.Value.Format, p.Schema.Value.Enum)
			}
		})
	}},
	{"/conf/crs/fc-bbox-crs-action", func(t *testing.T, s *suite) {
		// A box in each CRS, its corners from PROJ, selects what the same
		// box in CRS84 selects.
		c := s.colls[slices.IndexFunc(s.colls, func(c map[string]any) bool { return c["id"] == "toilets" })]
		w, so, e, n := 113.90, 22.245, 113.98, 22.305
		want := featureIDs(t, getOK(t, fmt.Sprintf("%s?limit=60&bbox=%g,%g,%g,%g", itemsURL(t, c), w, so, e, n), "application/geo+json").json)
		for _, pc := range partCRS {
			corners := cs2cs(t, pc.proj, []orb.Point{{w, so}, {e, so}, {e, n}, {w, n}})
			lo, hi := corners[0], corners[0]
			for _, p := range corners {
				lo = [2]float64{min(lo[0], p[0]), min(lo[1], p[1])}
				hi = [2]float64{max(hi[0], p[0]), max(hi[1], p[1])}
			}
			u := fmt.Sprintf("%s?limit=60&bbox=%.10f,%.10f,%.10f,%.10f&bbox-crs=%s", itemsURL(t, c), lo[0], lo[1], hi[0], hi[1], url.QueryEscape(pc.uri))
			if got := featureIDs(t, getOK(t, u, "application/geo+json").json); !slices.Equal(got, want) || len(want) == 0 {
				t.Errorf("bbox-crs %s: %v, want %v", pc.proj, got, want)
			}
		}
	}},
	{"/conf/crs/fc-bbox-crs-valid-defaultValue", func(t *testing.T, s *suite) {
		s.each(t, func(t *testing.T, id string, c map[string]any) {
			u := itemsURL(t, c) + "?limit=60&bbox=113.9,22.2,114.2,22.4"
			a := featureIDs(t, getOK(t, u, "application/geo+json").json)
			b := featureIDs(t, getOK(t, u+"&bbox-crs="+url.QueryEscape(CRS84), "application/geo+json").json)
			if !slices.Equal(a, b) {
				t.Errorf("bbox without bbox-crs %v, with CRS84 %v", a, b)
			}
		})
	}},
	{"/conf/crs/fc-bbox-crs-valid-value", func(t *testing.T, s *suite) {
		s.each(t, func(t *testing.T, id string, c map[string]any) {
			for _, v := range c["crs"].([]any) {
				getOK(t, itemsURL(t, c)+"?bbox=1,2,3,4&bbox-crs="+url.QueryEscape(v.(string)), "application/geo+json")
			}
			if r := get(t, itemsURL(t, c)+"?bbox=1,2,3,4&bbox-crs="+url.QueryEscape("http://www.opengis.net/def/crs/EPSG/0/32650")); r.status != 400 {
				t.Errorf("bbox-crs not offered: %d, want 400", r.status)
			}
		})
	}},
	{"/conf/crs/fc-crs-definition", func(t *testing.T, s *suite) {
		s.each(t, func(t *testing.T, id string, c map[string]any) {
			for _, p := range []string{"/collections/" + id + "/items", "/collections/" + id + "/items/{featureId}"} {
				prm := s.param(t, p, "query", "crs")
				formParam(t, prm, "string")
				if !reflect.DeepEqual(prm.Schema.Value.Enum, c["crs"]) {
					t.Errorf("%s crs enum %v, want the collection's crs", p, prm.Schema.Value.Enum)
				}
			}
		})
	}},
	{"/conf/crs/fc-crs-valid-value", func(t *testing.T, s *suite) {
		s.each(t, func(t *testing.T, id string, c map[string]any) {
			for _, v := range c["crs"].([]any) {
				getOK(t, itemsURL(t, c)+"?crs="+url.QueryEscape(v.(string)), "application/geo+json")
			}
			us := []string{itemsURL(t, c)}
			if fid := firstID(s, id); fid > 0 {
				us = append(us, fmt.Sprintf("%s/%d", itemsURL(t, c), fid))
			}
			for _, u := range us {
				if r := get(t, u+"?crs="+url.QueryEscape("http://www.opengis.net/def/crs/EPSG/0/32650")); r.status != 400 {
					t.Errorf("%s with crs not offered: %d, want 400", u, r.status)
				}
			}
		})
	}},
	{"/conf/crs/fc-crs-default-value", func(t *testing.T, s *suite) {
		s.each(t, func(t *testing.T, id string, c map[string]any) {
			a := features(t, getOK(t, itemsURL(t, c)+"?limit=60", "application/geo+json").body)
			b := features(t, getOK(t, itemsURL(t, c)+"?limit=60&crs="+url.QueryEscape(CRS84), "application/geo+json").body)
			for i := range a.Features {
				if !orb.Equal(a.Features[i].Geometry, b.Features[i].Geometry) {
					t.Errorf("feature %v: without crs %v, in CRS84 %v", a.Features[i].ID, a.Features[i].Geometry, b.Features[i].Geometry)
				}
			}
		})
	}},
	{"/conf/crs/fc-crs-action", func(t *testing.T, s *suite) {
		// Coordinates in each CRS, in its axis order, are PROJ's.
		want := s.f.want["hk_areas"][4] // a point
		for _, pc := range partCRS {
			r := getOK(t, fmt.Sprintf("%s/collections/hk_areas/items/%d?crs=%s", s.root, want.ID, url.QueryEscape(pc.uri)), "application/geo+json")
			ft, err := geojson.UnmarshalFeature(r.body)
			if err != nil {
				t.Fatal(err)
			}
			p := cs2cs(t, pc.proj, []orb.Point{want.Geometry.(orb.Point)})[0]
			if got := ft.Geometry.(orb.Point); math.Abs(got[0]-p[0]) > pc.tol || math.Abs(got[1]-p[1]) > pc.tol {
				t.Errorf("%s: %v, PROJ %v", pc.proj, got, p)
			}
		}
	}},
	{"/conf/crs/ogc-crs-header", func(t *testing.T, s *suite) {
		s.each(t, func(t *testing.T, id string, c map[string]any) {
			us := []string{itemsURL(t, c)}
			if fid := firstID(s, id); fid > 0 {
				us = append(us, fmt.Sprintf("%s/%d", itemsURL(t, c), fid))
			}
			for _, u := range us {
				if h := getOK(t, u, "application/geo+json").header.Values("Content-Crs"); len(h) != 1 {
					t.Errorf("%s: Content-Crs %v, want one", u, h)
				}
				// HTML pages draw their features on a web map, in CRS84.
				if h := getOK(t, u+"?f=html&crs="+url.QueryEscape("http://www.opengis.net/def/crs/EPSG/0/2326"), "text/html").header.Values("Content-Crs"); len(h) != 1 || h[0] != "<"+CRS84+">" {
					t.Errorf("%s as HTML: Content-Crs %v, want CRS84", u, h)
				}
			}
		})
	}},
	{"/conf/crs/ogc-crs-header-value", func(t *testing.T, s *suite) {
		s.each(t, func(t *testing.T, id string, c map[string]any) {
			for _, v := range append([]any{nil}, c["crs"].([]any)...) {
				q, want := "", "<"+CRS84+">"
				if v != nil {
					q, want = "?crs="+url.QueryEscape(v.(string)), "<"+v.(string)+">"
				}
				us := []string{itemsURL(t, c) + q}
				if fid := firstID(s, id); fid > 0 {
					us = append(us, fmt.Sprintf("%s/%d%s", itemsURL(t, c), fid, q))
				}
				for _, u := range us {
					if got := getOK(t, u, "application/geo+json").header.Get("Content-Crs"); got != want {
						t.Errorf("%s: Content-Crs %q, want %q", u, got, want)
					}
				}
			}
		})
	}},

	// ---- Part 3, Filtering (19-079r2 Annex A) ----
	{"/conf/queryables/queryables-link", func(t *testing.T, s *suite) {
		s.each(t, func(t *testing.T, id string, c map[string]any) {
			l := linkByRel(t, c, "http://www.opengis.net/def/rel/ogc/1.0/queryables", s.root)
			if l["type"] != "application/schema+json" || l["href"] != s.root+"/collections/"+id+"/queryables" {
				t.Errorf("queryables link %v", l)
			}
		})
	}},
	{"/conf/queryables/get-queryables-op", func(t *testing.T, s *suite) {
		s.each(t, func(t *testing.T, id string, c map[string]any) {
			getOK(t, s.root+"/collections/"+id+"/queryables", "application/schema+json")
		})
	}},
	{"/conf/queryables/get-queryables-response", func(t *testing.T, s *suite) {
		s.each(t, func(t *testing.T, id string, c map[string]any) {
			u := s.root + "/collections/" + id + "/queryables"
			doc := getOK(t, u+"?f=json", "application/schema+json").json
			if doc["$schema"] != "https://json-schema.org/draft/2020-12/schema" || doc["$id"] != u || doc["type"] != "object" {
				t.Errorf("$schema %v $id %v type %v", doc["$schema"], doc["$id"], doc["type"])
			}
			for name, p := range doc["properties"].(map[string]any) {
				p := p.(map[string]any)
				if p["type"] == nil && p["format"] == nil {
					t.Errorf("queryable %s has neither type nor format", name)
				}
			}
		})
	}},
	{"/conf/queryables-query-parameters/parameters", func(t *testing.T, s *suite) {
		// Each simple queryable is a parameter of the items path with the
		// queryable's schema, and selects what equals it.
		s.each(t, func(t *testing.T, id string, c map[string]any) {
			q := getOK(t, s.root+"/collections/"+id+"/queryables", "application/schema+json").json
			for name, raw := range q["properties"].(map[string]any) {
				qs := raw.(map[string]any)
				if name == "geometry" {
					continue
				}
				p := s.param(t, "/collections/"+id+"/items", "query", name)
				formParam(t, p, qs["type"].(string))
				if f, _ := qs["format"].(string); p.Schema.Value.Format != f {
					t.Errorf("parameter %s format %q, queryable %q", name, p.Schema.Value.Format, f)
				}
			}
		})
		feats := s.f.want["toilets"]
		want := selectIDs(feats, func(p map[string]any) bool { return p["seats"] == int64(4) })
		if got := pageAll(t, s.f, s.root+"/collections/toilets/items?limit=60&seats=4"); !slices.Equal(got, want) || len(want) == 0 {
			t.Errorf("seats=4: %v, want %v", got, want)
		}
	}},
	{"/conf/filter/filter-param", func(t *testing.T, s *suite) {
		s.each(t, func(t *testing.T, id string, c map[string]any) {
			formParam(t, s.param(t, "/collections/"+id+"/items", "query", "filter"), "string")
		})
		want := selectIDs(s.f.want["toilets"], func(p map[string]any) bool { v, _ := p["seats"].(int64); return v >= 5 })
		if got := pageAll(t, s.f, s.root+"/collections/toilets/items?limit=60&filter="+url.QueryEscape("seats >= 5")); !slices.Equal(got, want) || len(want) == 0 {
			t.Errorf("filter seats >= 5: %v, want %v", got, want)
		}
	}},
	{"/conf/filter/filter-lang-param", func(t *testing.T, s *suite) {
		s.each(t, func(t *testing.T, id string, c map[string]any) {
			p := s.param(t, "/collections/"+id+"/items", "query", "filter-lang")
			formParam(t, p, "string")
			if p.Schema.Value.Default != "cql2-text" || !slices.Contains(p.Schema.Value.Enum, any("cql2-json")) {
				t.Errorf("filter-lang default %v enum %v", p.Schema.Value.Default, p.Schema.Value.Enum)
			}
		})
		base := s.root + "/collections/toilets/items?limit=60&filter="
		text := pageAll(t, s.f, base+url.QueryEscape("seats >= 5"))
		for _, q := range []string{url.QueryEscape("seats >= 5") + "&filter-lang=cql2-text",
			url.QueryEscape(`{"op":">=","args":[{"property":"seats"},5]}`) + "&filter-lang=cql2-json"} {
			if got := pageAll(t, s.f, base+q); !slices.Equal(got, text) {
				t.Errorf("%s: %v, want %v", q, got, text)
			}
		}
		if r := get(t, base+url.QueryEscape("seats >= 5")+"&filter-lang=cql-text"); r.status != 400 {
			t.Errorf("filter-lang=cql-text: %d, want 400", r.status)
		}
	}},
	{"/conf/filter/filter-crs-wgs84", func(t *testing.T, s *suite) {
		// Without filter-crs, geometries in a filter are CRS84.
		base := s.root + "/collections/toilets/items?limit=60&filter="
		a := pageAll(t, s.f, base+url.QueryEscape("S_INTERSECTS(geometry, BBOX(113.9, 22.25, 114.0, 22.325))"))
		b := pageAll(t, s.f, base+url.QueryEscape("S_INTERSECTS(geometry, BBOX(113.9, 22.25, 114.0, 22.325))")+"&filter-crs="+url.QueryEscape(CRS84))
		if !slices.Equal(a, b) || len(a) == 0 {
			t.Errorf("without filter-crs %v, with CRS84 %v", a, b)
		}
	}},
	{"/conf/filter/filter-crs-param", func(t *testing.T, s *suite) {
		s.each(t, func(t *testing.T, id string, c map[string]any) {
			formParam(t, s.param(t, "/collections/"+id+"/items", "query", "filter-crs"), "string")
		})
		base := s.root + "/collections/toilets/items?limit=60&filter="
		a := pageAll(t, s.f, base+url.QueryEscape("S_INTERSECTS(geometry, BBOX(113.9, 22.25, 114.0, 22.325))"))
		b := pageAll(t, s.f, base+url.QueryEscape("S_INTERSECTS(geometry, BBOX(22.25, 113.9, 22.325, 114.0))")+"&filter-crs="+url.QueryEscape("http://www.opengis.net/def/crs/EPSG/0/4326"))
		if !slices.Equal(a, b) || len(a) == 0 {
			t.Errorf("CRS84 %v, EPSG:4326 latitude first %v", a, b)
		}
	}},
	{"/conf/filter/response", func(t *testing.T, s *suite) {
		base := s.root + "/collections/toilets/items?filter="
		for _, bad := range []string{"seats >", "nope = 1", "seats = 'x'"} {
			if r := get(t, base+url.QueryEscape(bad)); r.status != 400 {
				t.Errorf("filter %q: %d, want 400", bad, r.status)
			}
		}
		want := selectIDs(s.f.want["toilets"], func(p map[string]any) bool { return p["seats"] == nil })
		if got := pageAll(t, s.f, s.root+"/collections/toilets/items?limit=60&filter="+url.QueryEscape("seats IS NULL")); !slices.Equal(got, want) || len(want) == 0 {
			t.Errorf("seats IS NULL: %v, want %v", got, want)
		}
	}},
	{"/conf/filter/mixing-expressions", func(t *testing.T, s *suite) {
		// filter, bbox, datetime and property parameters are ANDed.
		q := "limit=60&filter=" + url.QueryEscape("rating > 20") + "&bbox=113.8,22.2,114.2,22.5&open=true&datetime=" + url.QueryEscape("2024-05-10T00:00:00Z/..")
		want := selectIDs(s.f.want["toilets"], func(p map[string]any) bool {
			return p["rating"].(float64) > 20 && p["open"] == true && !p["inspected"].(time.Time).Before(time.Date(2024, 5, 10, 0, 0, 0, 0, time.UTC))
		})
		var inBox []uint64
		for _, ft := range s.f.want["toilets"] {
			if slices.Contains(want, ft.ID) && (orb.Bound{Min: orb.Point{113.8, 22.2}, Max: orb.Point{114.2, 22.5}}).Contains(ft.Geometry.(orb.Point)) {
				inBox = append(inBox, ft.ID)
			}
		}
		if got := pageAll(t, s.f, s.root+"/collections/toilets/items?"+q); !slices.Equal(got, inBox) || len(inBox) == 0 {
			t.Errorf("%s: %v, want %v", q, got, inBox)
		}
	}},
	{"/conf/features-filter/response", func(t *testing.T, s *suite) {
		// On every collection's items, filter answers, and a page of a
		// filtered result pages on with the filter kept.
		s.each(t, func(t *testing.T, id string, c map[string]any) {
			getOK(t, itemsURL(t, c)+"?filter="+url.QueryEscape("S_INTERSECTS(geometry, BBOX(-180, -90, 180, 90))"), "application/geo+json")
		})
		fc := getOK(t, s.root+"/collections/toilets/items?limit=5&filter="+url.QueryEscape("seats = 2"), "application/geo+json").json
		if next := linkByRel(t, fc, "next", s.root)["href"].(string); !strings.Contains(next, "filter=") {
			t.Errorf("next link %s drops the filter", next)
		}
	}},
}

// Part 8 (Sorting, 24-030, a draft) has no executable suite; its abstract
// tests (Annex A) are these, with the suite's default values.
var sortingChecks = []struct {
	id    string
	check func(t *testing.T, s *suite)
}{
	{"/conf/sortables/get-sortables-uris", func(t *testing.T, s *suite) {
		s.each(t, func(t *testing.T, id string, c map[string]any) {
			r := getOK(t, itemsURL(t, c), "application/geo+json")
			want := "<" + s.root + "/collections/" + id + `/sortables>; rel="http://www.opengis.net/def/rel/ogc/1.0/sortables"; type="application/schema+json"`
			if got := r.header.Values("Link"); !slices.Contains(got, want) {
				t.Errorf("Link headers %q, want %q", got, want)
			}
		})
	}},
	{"/conf/sortables/get-sortables", func(t *testing.T, s *suite) {
		s.each(t, func(t *testing.T, id string, c map[string]any) {
			u := s.root + "/collections/" + id + "/sortables"
			r := getOK(t, u, "application/schema+json")
			doc := r.json
			if doc["$schema"] != "https://json-schema.org/draft/2020-12/schema" || doc["$id"] != u || doc["type"] != "object" || doc["additionalProperties"] != false {
				t.Errorf("$schema %v $id %v type %v additionalProperties %v", doc["$schema"], doc["$id"], doc["type"], doc["additionalProperties"])
			}
			props := doc["properties"].(map[string]any)
			for _, fd := range s.f.layers[id].Info.Fields {
				if p, ok := props[fd.Name].(map[string]any); !ok || p["type"] == nil {
					t.Errorf("sortable %s: %v", fd.Name, props[fd.Name])
				}
			}
			if len(props) != len(s.f.layers[id].Info.Fields) {
				t.Errorf("%d sortables, want the %d fields", len(props), len(s.f.layers[id].Info.Fields))
			}
			// A valid JSON Schema, which the properties of every feature meet.
			sch := compileSchema(t, u, r.body)
			checkProperties(t, sch, getOK(t, itemsURL(t, c)+"?limit=60", "application/geo+json").body)
		})
	}},
	{"/conf/sorting/sortby-param", func(t *testing.T, s *suite) {
		c := s.colls[slices.IndexFunc(s.colls, func(c map[string]any) bool { return c["id"] == "toilets" })]
		p := s.param(t, "/collections/toilets/items", "query", "sortby")
		formParam(t, p, "array")
		if p.Schema.Value.MinItems != 1 || p.Schema.Value.Items.Value.Pattern != `^[+-]?[^+\-\s].*$` {
			t.Errorf("sortby minItems %d pattern %q", p.Schema.Value.MinItems, p.Schema.Value.Items.Value.Pattern)
		}
		var prev string
		for _, raw := range getOK(t, itemsURL(t, c)+"?limit=60&sortby=name_tc", "application/geo+json").json["features"].([]any) {
			v := raw.(map[string]any)["properties"].(map[string]any)["name_tc"].(string)
			if v < prev {
				t.Errorf("sortby=name_tc: %q after %q", v, prev)
			}
			prev = v
		}
		if r := get(t, itemsURL(t, c)+"?sortby="+url.QueryEscape("THIS IS NOT A SORTBY EXPRESSION")); r.status != 400 {
			t.Errorf("an invalid sortby: %d, want 400", r.status)
		}
	}},
	{"/conf/sorting/expression-construction", func(t *testing.T, s *suite) {
		s.each(t, func(t *testing.T, id string, c map[string]any) {
			if r := get(t, itemsURL(t, c)+"?sortby=this_is_not_a_sortable"); r.status != 400 {
				t.Errorf("sortby=this_is_not_a_sortable: %d, want 400", r.status)
			}
		})
	}},
	{"/conf/features-sorting/get-collection", func(t *testing.T, s *suite) {
		s.each(t, func(t *testing.T, id string, c map[string]any) {
			if l := linkByRel(t, c, "http://www.opengis.net/def/rel/ogc/1.0/sortables", s.root); l["href"] != s.root+"/collections/"+id+"/sortables" || l["type"] != "application/schema+json" {
				t.Errorf("sortables link %v", l)
			}
		})
	}},
	{"/conf/features-sorting/filter-sorting", func(t *testing.T, s *suite) {
		// Descending, and with a filter; ties and nulls are TestItemsSortBy's.
		var prev = math.Inf(1)
		fc := getOK(t, s.root+"/collections/toilets/items?limit=60&sortby=-rating&filter="+url.QueryEscape("seats = 3"), "application/geo+json").json
		for _, raw := range fc["features"].([]any) {
			p := raw.(map[string]any)["properties"].(map[string]any)
			v, _ := p["rating"].(json.Number).Float64()
			if v > prev || p["seats"] != json.Number("3") {
				t.Errorf("sortby=-rating&filter=seats = 3: rating %v after %v, seats %v", v, prev, p["seats"])
			}
			prev = v
		}
		if len(fc["features"].([]any)) == 0 {
			t.Error("no feature")
		}
	}},
}

func TestConformanceSuite(t *testing.T) {
	s := newSuite(t)
	seen := map[string]bool{}
	for _, c := range append(suiteChecks, sortingChecks...) {
		if seen[c.id] {
			t.Fatalf("check %s twice", c.id)
		}
		seen[c.id] = true
		t.Run(c.id, func(t *testing.T) { c.check(t, s) })
	}
}

// firstID is the lowest feature id of a layer, 0 when it is empty.
func firstID(s *suite, id string) uint64 {
	if len(s.f.want[id]) == 0 {
		return 0
	}
	return s.f.want[id][0].ID
}

// compileSchema compiles a JSON Schema 2020-12 document served at u with
// an independent implementation, which checks it against the meta-schema.
// checkProperties validates the non-null properties of every feature of a
// GeoJSON FeatureCollection against sch, a queryables schema: nulls are
// left out, as a queryable may be missing from a feature.
func checkProperties(t *testing.T, sch *jsonschema.Schema, collection []byte) {
	t.Helper()
	all, err := jsonschema.UnmarshalJSON(bytes.NewReader(collection))
	if err != nil {
		t.Fatal(err)
	}
	for _, ft := range all.(map[string]any)["features"].([]any) {
		p := ft.(map[string]any)["properties"].(map[string]any)
		for k, v := range p {
			if v == nil {
				delete(p, k)
			}
		}
		if err := sch.Validate(p); err != nil {
			t.Errorf("feature %v: %v", ft.(map[string]any)["id"], err)
		}
	}
}

func compileSchema(t *testing.T, u string, body []byte) *jsonschema.Schema {
	t.Helper()
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.AddResource(u, doc); err != nil {
		t.Fatal(err)
	}
	sch, err := c.Compile(u)
	if err != nil {
		t.Fatalf("%s is not a valid JSON Schema 2020-12: %v", u, err)
	}
	return sch
}

func isRFC3339(s string) bool {
	_, err := time.Parse(time.RFC3339, s)
	return err == nil
}

func mapOf(t *testing.T, body []byte) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.NewDecoder(bytes.NewReader(body)).Decode(&m); err != nil {
		t.Fatalf("%s: %v", body, err)
	}
	return m
}
