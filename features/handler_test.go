package features

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geojson"
)

// The tests below follow the checks of the OGC conformance suite
// (ets-ogcapi-features10) for Part 1 core, over real HTTP.

func TestLanding(t *testing.T) {
	f := newFixture(t, Options{})
	base := f.url + "/ogc"
	for _, path := range []string{"/ogc", "/ogc/"} {
		t.Run(path, func(t *testing.T) {
			doc := getOK(t, f.url+path, "application/json").json
			if doc["title"] == "" {
				t.Error("landing page has no title")
			}
			self := linkByRel(t, doc, "self", base)
			if self["type"] != "application/json" {
				t.Errorf("self type %v", self["type"])
			}
			desc := linkByRel(t, doc, "service-desc", base)
			if desc["type"] != "application/vnd.oai.openapi+json;version=3.0" {
				t.Errorf("service-desc type %q, want exactly application/vnd.oai.openapi+json;version=3.0", desc["type"])
			}
			getOK(t, desc["href"].(string), "application/vnd.oai.openapi+json;version=3.0")

			doc2 := linkByRel(t, doc, "service-doc", base)
			if doc2["type"] != "text/html" {
				t.Errorf("service-doc type %v, want text/html", doc2["type"])
			}
			html := getOK(t, doc2["href"].(string), "text/html")
			if !strings.Contains(string(html.body), `href="`+base+`/collections/toilets/items?f=html"`) {
				t.Errorf("service-doc does not link the toilets items:\n%s", html.body)
			}

			conf := linkByRel(t, doc, "conformance", base)
			if conf["href"] != base+"/conformance" {
				t.Errorf("conformance href %v", conf["href"])
			}
			getOK(t, conf["href"].(string), "application/json")

			alt := linkByRel(t, doc, "alternate", base)
			if alt["type"] != "text/html" {
				t.Errorf("alternate type %v, want text/html", alt["type"])
			}
			getOK(t, alt["href"].(string), "text/html")

			data := linkByRel(t, doc, "data", base)
			if data["href"] != base+"/collections" || data["type"] != "application/json" {
				t.Errorf("data link %v, want %s/collections of type application/json", data, base)
			}
		})
	}
}

func TestLinksFollowHost(t *testing.T) {
	f := newFixture(t, Options{})
	req, err := http.NewRequest(http.MethodGet, f.url+"/ogc", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Host = "csdi.example.hk"
	req.Header.Set("X-Forwarded-Proto", "https") // as set by the proxy in front
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var doc map[string]any
	if err := json.NewDecoder(res.Body).Decode(&doc); err != nil {
		t.Fatal(err)
	}
	if href := linkByRel(t, doc, "data", "https://csdi.example.hk/ogc")["href"]; href != "https://csdi.example.hk/ogc/collections" {
		t.Errorf("data href %v, want it built from the request's host and scheme", href)
	}
}

func TestConformance(t *testing.T) {
	// Only what is implemented, spelled as in the standards.
	want := []string{
		"http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
		"http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
		"http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/html",
		"http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
		"http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs",
		"http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables",
		"http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables-query-parameters",
		"http://www.opengis.net/spec/ogcapi-features-8/1.0/conf/sortables",
		"http://www.opengis.net/spec/ogcapi-features-8/1.0/conf/sorting",
		"http://www.opengis.net/spec/ogcapi-features-8/1.0/conf/features-sorting",
	}
	want = append(want, wantFilterClasses...)
	tiles := []string{
		"http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/core",
		"http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/geodata-tilesets",
		"http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/mvt",
		"http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/oas30",
		"http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/tileset",
		"http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/tilesets-list",
	}
	for _, tc := range []struct {
		opts Options
		want []string
	}{
		{Options{}, want},
		{Options{Tiles: true}, append(slices.Clone(want), tiles...)},
	} {
		f := newFixture(t, tc.opts)
		doc := getOK(t, f.url+"/ogc/conformance", "application/json").json
		var got []string
		for _, c := range doc["conformsTo"].([]any) {
			got = append(got, c.(string))
		}
		slices.Sort(got)
		slices.Sort(tc.want)
		if !slices.Equal(got, tc.want) {
			t.Errorf("tiles %v: conformsTo =\n%v, want\n%v", tc.opts.Tiles, strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
		}
	}
}

// TestTilesLinks checks the links to the tiles resources when tiles are on,
// and that there are none when they are off.
func TestTilesLinks(t *testing.T) {
	for _, on := range []bool{false, true} {
		f := newFixture(t, Options{Tiles: on})
		base := f.url + "/ogc"
		landing := getOK(t, base, "application/json").json
		coll := getOK(t, base+"/collections/toilets", "application/json").json
		if !on {
			if hasLink(landing, "http://www.opengis.net/def/rel/ogc/1.0/tiling-schemes") ||
				hasLink(coll, "http://www.opengis.net/def/rel/ogc/1.0/tilesets-vector") {
				t.Error("tiles links with tiles off")
			}
			continue
		}
		if l := linkByRel(t, landing, "http://www.opengis.net/def/rel/ogc/1.0/tiling-schemes", base); l["href"] != base+"/tileMatrixSets" || l["type"] != "application/json" {
			t.Errorf("tiling-schemes link %v", l)
		}
		if l := linkByRel(t, coll, "http://www.opengis.net/def/rel/ogc/1.0/tilesets-vector", base); l["href"] != base+"/collections/toilets/tiles" || l["type"] != "application/json" {
			t.Errorf("tilesets-vector link %v", l)
		}
	}
}

// wantCRS are the CRSs every collection offers, as the issue lists them.
var wantCRS = []string{
	"http://www.opengis.net/def/crs/OGC/1.3/CRS84",
	"http://www.opengis.net/def/crs/EPSG/0/4326",
	"http://www.opengis.net/def/crs/EPSG/0/2326",
	"http://www.opengis.net/def/crs/EPSG/0/4611",
	"http://www.opengis.net/def/crs/EPSG/0/3857",
}

func TestCollections(t *testing.T) {
	f := newFixture(t, Options{})
	base := f.url + "/ogc"
	doc := getOK(t, base+"/collections", "application/json").json
	if self := linkByRel(t, doc, "self", base); self["type"] != "application/json" {
		t.Errorf("self link %v", self)
	}
	// Every other encoding needs an alternate link.
	if alt := linkByRel(t, doc, "alternate", base); alt["type"] != "text/html" {
		t.Errorf("alternate link %v, want text/html", alt)
	} else {
		getOK(t, alt["href"].(string), "text/html")
	}
	list := doc["collections"].([]any)
	var got []string
	for _, raw := range list {
		c := raw.(map[string]any)
		id := c["id"].(string)
		got = append(got, id)
		t.Run(id, func(t *testing.T) {
			if c["itemType"] != "feature" {
				t.Errorf("itemType %v", c["itemType"])
			}
			var crsList []string
			for _, c := range c["crs"].([]any) {
				crsList = append(crsList, c.(string))
			}
			if !slices.Equal(crsList, wantCRS) {
				t.Errorf("crs %v, want %v", crsList, wantCRS)
			}
			if c["storageCrs"] != "http://www.opengis.net/def/crs/OGC/1.3/CRS84" {
				t.Errorf("storageCrs %v, want CRS84: the stores hold WGS84", c["storageCrs"])
			}
			q := linkByRel(t, c, "http://www.opengis.net/def/rel/ogc/1.0/queryables", base)
			if q["href"] != base+"/collections/"+id+"/queryables" || q["type"] != "application/schema+json" {
				t.Errorf("queryables link %v", q)
			}
			if alt := linkByRel(t, c, "alternate", base); alt["type"] != "text/html" {
				t.Errorf("alternate link %v", alt)
			} else {
				getOK(t, alt["href"].(string), "text/html")
			}
			// An items link per encoding.
			var items []string
			for _, l := range links(t, c) {
				if l["rel"] == "items" {
					items = append(items, l["type"].(string)+" "+l["href"].(string))
				}
			}
			if want := []string{"application/geo+json " + base + "/collections/" + id + "/items",
				"text/html " + base + "/collections/" + id + "/items?f=html"}; !slices.Equal(items, want) {
				t.Errorf("items links %v, want %v", items, want)
			}
			linkByRel(t, c, "self", base)

			// Extent: the bounds of the features, worked out here from the data.
			feats := f.want[id]
			if len(feats) == 0 {
				if c["extent"] != nil {
					t.Errorf("empty layer has extent %v", c["extent"])
				}
			} else {
				b := feats[0].Geometry.Bound()
				for _, ft := range feats {
					b = b.Union(ft.Geometry.Bound())
				}
				sp := c["extent"].(map[string]any)["spatial"].(map[string]any)
				if sp["crs"] != "http://www.opengis.net/def/crs/OGC/1.3/CRS84" {
					t.Errorf("extent crs %v", sp["crs"])
				}
				var gotBox []float64
				for _, v := range sp["bbox"].([]any)[0].([]any) {
					x, _ := v.(json.Number).Float64()
					gotBox = append(gotBox, x)
				}
				if want := []float64{b.Min[0], b.Min[1], b.Max[0], b.Max[1]}; !slices.Equal(gotBox, want) {
					t.Errorf("extent bbox %v, want %v", gotBox, want)
				}
			}

			// Temporal extent: the toilets' first time field is inspected
			// (fields are ordered by name), 07:08:09 on 6 May 2024 plus j
			// hours for j up to 249.
			ext, _ := c["extent"].(map[string]any)
			temporal, _ := ext["temporal"].(map[string]any)
			if id != "toilets" {
				if temporal != nil {
					t.Errorf("a layer without a time property has a temporal extent %v", temporal)
				}
			} else {
				want := []any{[]any{"2024-05-06T07:08:09Z", "2024-05-16T16:08:09Z"}}
				if temporal == nil || !reflect.DeepEqual(temporal["interval"], want) ||
					temporal["trs"] != "http://www.opengis.net/def/uom/ISO-8601/0/Gregorian" {
					t.Errorf("temporal extent %v, want interval %v", temporal, want)
				}
			}

			// /collections/{id} is the same document as the list entry.
			one := getOK(t, base+"/collections/"+id, "application/json").json
			if !reflect.DeepEqual(one, c) {
				t.Errorf("/collections/%s differs from its entry in /collections:\n%v\n%v", id, one, c)
			}
		})
	}
	if want := []string{"empty", "hk_areas", "places", "toilets"}; !slices.Equal(got, want) {
		t.Errorf("collections %v, want %v", got, want)
	}
	toilets := list[3].(map[string]any)
	if toilets["title"] != "Public toilets" || toilets["title_zh"] != "公廁" || toilets["description_zh"] != "食環署管理的公廁" {
		t.Errorf("toilets metadata %v", toilets)
	}
}

func TestItems(t *testing.T) {
	f := newFixture(t, Options{})
	base := f.url + "/ogc"
	r := getOK(t, base+"/collections/toilets/items", "application/geo+json")
	if got := r.header.Get("Content-Crs"); got != "<http://www.opengis.net/def/crs/OGC/1.3/CRS84>" {
		t.Errorf("Content-Crs %q", got)
	}
	fc := r.json
	if fc["type"] != "FeatureCollection" {
		t.Fatalf("type %v", fc["type"])
	}
	got := featureIDs(t, fc)
	if want := ids(f.want["toilets"])[:10]; !slices.Equal(got, want) {
		t.Errorf("first page ids %v, want the 10 lowest %v", got, want)
	}
	if fc["numberReturned"] != json.Number("10") || fc["numberMatched"] != json.Number("250") {
		t.Errorf("numberReturned %v numberMatched %v, want 10 and 250", fc["numberReturned"], fc["numberMatched"])
	}
	if _, err := time.Parse(time.RFC3339, fc["timeStamp"].(string)); err != nil {
		t.Errorf("timeStamp: %v", err)
	}
	if self := linkByRel(t, fc, "self", base); self["type"] != "application/geo+json" || self["href"] != base+"/collections/toilets/items" {
		t.Errorf("self link %v", self)
	}
	if hasLink(fc, "prev") {
		t.Error("first page has a prev link")
	}
	next := linkByRel(t, fc, "next", base)["href"].(string)
	if u, err := url.Parse(next); err != nil || u.RawQuery == "" {
		t.Errorf("next link %q has no query string", next)
	}

	// Properties: every type as the standard and GDAL expect it.
	first := fc["features"].([]any)[0].(map[string]any)
	want := f.want["toilets"][0] // id 3, built from j=0
	if first["geometry"].(map[string]any)["type"] != "Point" {
		t.Errorf("geometry %v", first["geometry"])
	}
	props := first["properties"].(map[string]any)
	wantProps := map[string]any{
		"name_tc": "公廁 0 號", "name_en": `Toilet 0, "Central" <&>`, "seats": nil, "rating": json.Number("0"),
		"open": true, "opened": "2020-01-01", "inspected": "2024-05-06T07:08:09Z",
	}
	if !reflect.DeepEqual(props, wantProps) {
		t.Errorf("feature %d properties\n%v, want\n%v", want.ID, props, wantProps)
	}
	if first["links"] != nil {
		t.Errorf("features in a collection carry links: %v", first["links"])
	}
}

// TestItemsPaging follows next links to the end, as the suite and GDAL do,
// and prev links back.
func TestItemsPaging(t *testing.T) {
	f := newFixture(t, Options{MaxLimit: 100})
	base := f.url + "/ogc"
	all := ids(f.want["toilets"])
	for _, limit := range []string{"1", "7", "30", "100", "250", "10000"} {
		t.Run("limit="+limit, func(t *testing.T) {
			var got []uint64
			var pages []string
			href := base + "/collections/toilets/items?limit=" + limit
			for href != "" {
				if len(pages) > 300 {
					t.Fatal("next links do not end")
				}
				pages = append(pages, href)
				fc := getOK(t, href, "application/geo+json").json
				page := featureIDs(t, fc)
				if n := fmt.Sprint(len(page)); fc["numberReturned"] != json.Number(n) {
					t.Fatalf("%s: numberReturned %v, features %s", href, fc["numberReturned"], n)
				}
				if len(page) > 100 {
					t.Fatalf("%s: %d features, above the maximum limit 100", href, len(page))
				}
				if fc["numberMatched"] != json.Number("250") {
					t.Fatalf("%s: numberMatched %v", href, fc["numberMatched"])
				}
				got = append(got, page...)
				href = ""
				if hasLink(fc, "next") {
					href = linkByRel(t, fc, "next", base)["href"].(string)
					if !strings.Contains(href, "limit="+limit) {
						t.Fatalf("next link %q drops the limit", href)
					}
				}
			}
			if !slices.Equal(got, all) {
				t.Fatalf("paging gave %d features %v..., want all %d in id order", len(got), got[:min(len(got), 5)], len(all))
			}
			// Back with prev links: each page is the one before it.
			for i := len(pages) - 1; i > 0; i-- {
				fc := getOK(t, pages[i], "application/geo+json").json
				prev := getOK(t, linkByRel(t, fc, "prev", base)["href"].(string), "application/geo+json").json
				want := getOK(t, pages[i-1], "application/geo+json").json
				if !slices.Equal(featureIDs(t, prev), featureIDs(t, want)) {
					t.Fatalf("prev of page %d is not page %d", i, i-1)
				}
			}
		})
	}
}

func TestItemsBBox(t *testing.T) {
	f := newFixture(t, Options{})
	base := f.url + "/ogc/collections/places/items?limit=100&bbox="
	for _, tc := range []struct {
		bbox string
		want []uint64
	}{
		{"-1.5,50,1.5,53", []uint64{3}},        // 4's bounds meet the box, its line does not
		{"-80,-5,-70,5", []uint64{5, 6}},       // 6 holds the box, 7 has it in a hole
		{"177,65,-177,70", []uint64{1, 2, 10}}, // across the antimeridian; 10 meets both halves, once
		{"-180,85,180,90", []uint64{8}},
		{"-180,-90,180,-85", []uint64{9}},
		{"-1.5,50,-100,1.5,53,100", []uint64{3}}, // with heights
		{"176,66,176,66", []uint64{11}},          // a point as a box
		{"-180,-90,180,90", []uint64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}},
		{"100,-10,110,-5", nil},
	} {
		t.Run(tc.bbox, func(t *testing.T) {
			fc := getOK(t, base+tc.bbox, "application/geo+json").json
			got := featureIDs(t, fc)
			if !slices.Equal(got, tc.want) {
				t.Errorf("ids %v, want %v", got, tc.want)
			}
			if fc["numberMatched"] != json.Number(fmt.Sprint(len(tc.want))) {
				t.Errorf("numberMatched %v, want %d", fc["numberMatched"], len(tc.want))
			}
		})
	}

	// Paging a bbox result keeps the bbox in the next link.
	u := f.url + "/ogc/collections/toilets/items?limit=4&bbox=113.8,22.2,113.95,22.3"
	var got []uint64
	for u != "" {
		fc := getOK(t, u, "application/geo+json").json
		got = append(got, featureIDs(t, fc)...)
		u = ""
		if hasLink(fc, "next") {
			u = linkByRel(t, fc, "next", f.url+"/ogc")["href"].(string)
			if !strings.Contains(u, "bbox=113.8,22.2,113.95,22.3") {
				t.Fatalf("next link %q lost the bbox", u)
			}
		}
	}
	var want []uint64
	box := orb.Bound{Min: orb.Point{113.8, 22.2}, Max: orb.Point{113.95, 22.3}}
	for _, ft := range f.want["toilets"] {
		if box.Contains(ft.Geometry.(orb.Point)) {
			want = append(want, ft.ID)
		}
	}
	if len(want) < 10 || !slices.Equal(got, want) {
		t.Errorf("bbox paging gave %v, want %v", got, want)
	}
}

func TestItem(t *testing.T) {
	f := newFixture(t, Options{})
	base := f.url + "/ogc"
	for _, want := range []int{0, 1, 249} {
		ft := f.want["toilets"][want]
		href := fmt.Sprintf("%s/collections/toilets/items/%d", base, ft.ID)
		r := getOK(t, href, "application/geo+json")
		if got := r.header.Get("Content-Crs"); got != "<http://www.opengis.net/def/crs/OGC/1.3/CRS84>" {
			t.Errorf("Content-Crs %q", got)
		}
		if id := jsonID(t, r.json["id"]); id != ft.ID {
			t.Errorf("%s: id %d", href, id)
		}
		if self := linkByRel(t, r.json, "self", base); self["href"] != href || self["type"] != "application/geo+json" {
			t.Errorf("self link %v", self)
		}
		if c := linkByRel(t, r.json, "collection", base); c["href"] != base+"/collections/toilets" || c["type"] != "application/json" {
			t.Errorf("collection link %v", c)
		}
		var gj geojson.Feature
		if err := json.Unmarshal(r.body, &gj); err != nil {
			t.Fatal(err)
		}
		if !orb.Equal(gj.Geometry, ft.Geometry) {
			t.Errorf("geometry %v, want %v exactly", gj.Geometry, ft.Geometry)
		}
	}
}

func TestErrors(t *testing.T) {
	f := newFixture(t, Options{})
	items := "/ogc/collections/toilets/items"
	for _, tc := range []struct {
		path   string
		status int
		names  string // what the error must mention
	}{
		{items + "?limit=unlimited", 400, "limit"},
		{items + "?limit=0", 400, "limit"},
		{items + "?limit=-5", 400, "limit"},
		{items + "?limit=2.5", 400, "limit"},
		{items + "?limit=", 400, "limit"},
		{items + "?limit=5&limit=6", 400, "limit"},
		{items + "?unknownQueryParameter12345=1", 400, "unknownQueryParameter12345"},
		{items + "?datetime=2020-13-01", 400, "datetime"},
		{items + "?datetime=yesterday", 400, "datetime"},
		{items + "?datetime=2020-01-02/2020-01-01", 400, "datetime"},
		{items + "?datetime=P1D/P2D", 400, "datetime"},
		{items + "?datetime=../P2D", 400, "datetime"},
		{items + "?datetime=2020-01-01/P", 400, "datetime"},
		{items + "?datetime=2020-01-01/2020-01-02/2020-01-03", 400, "datetime"},
		{items + "?datetime=2020-01-01&datetime=2020-01-02", 400, "datetime"},
		{items + "?crs=http://www.opengis.net/def/crs/EPSG/0/3826", 400, "crs"},
		{items + "?crs=EPSG:4326x", 400, "crs"},
		{items + "?crs=", 400, "crs"},
		{items + "?bbox=1,2,3,4&bbox-crs=http://www.opengis.net/def/crs/EPSG/0/32650", 400, "bbox-crs"},
		{items + "?bbox-crs=http://www.opengis.net/def/crs/EPSG/0/4326", 400, "bbox-crs"},
		{items + "?bbox=836000,820000,835000,830000&bbox-crs=http://www.opengis.net/def/crs/EPSG/0/3857", 400, "bbox"},
		{items + "?sortby=nope", 400, "nope"},
		{items + "?sortby=-seats,", 400, "sortby"},
		{items + "?seats=many", 400, "seats"},
		{items + "?seats=1.5", 400, "seats"},
		{items + "?rating=x", 400, "rating"},
		{items + "?open=perhaps", 400, "open"},
		{items + "?opened=2020-01-01T00:00:00Z", 400, "opened"},
		{items + "?inspected=2024-05-06", 400, "inspected"},
		{items + "?name=x", 400, "name"},                  // a property of another layer
		{items + "?sortby=name_tc&after=4", 400, "after"}, // no feature 4 to continue from
		{"/ogc/collections/toilets/items/3?crs=EPSG:3826", 400, "crs"},
		{"/ogc/collections/toilets/queryables?f=html", 406, "f"},
		{"/ogc/collections/toilets/queryables?limit=1", 400, "limit"},
		{"/ogc/collections/nope/queryables", 404, "nope"},
		{items + "?bbox=1,2,3", 400, "bbox"},
		{items + "?bbox=1,2,3,4,5", 400, "bbox"},
		{items + "?bbox=a,b,c,d", 400, "bbox"},
		{items + "?bbox=0,10,1,5", 400, "bbox"},
		{items + "?bbox=0,1,NaN,2", 400, "bbox"},
		{items + "?bbox=0,1,5,2,3,4", 400, "bbox"},
		{items + "?bbox=", 400, "bbox"},
		{items + "?after=x", 400, "after"},
		{items + "?after=-1", 400, "after"},
		{items + "?f=xml", 406, "f"},
		{items + "?f=HTML", 406, "f"},
		{"/ogc?foo=1", 400, "foo"},
		{"/ogc/conformance?foo=1", 400, "foo"},
		{"/ogc/collections?limit=1", 400, "limit"},
		{"/ogc/collections/toilets?bbox=1,2,3,4", 400, "bbox"},
		{"/ogc/collections/toilets/items/3?limit=1", 400, "limit"},
		{"/ogc/api?foo=1", 400, "foo"},
		{"/ogc/api?f=xml", 406, "f"},
		{"/ogc/collections?f=csv", 406, "f"},
		{"/ogc/collections/nope", 404, "nope"},
		{"/ogc/collections/nope/items", 404, "nope"},
		{"/ogc/collections/nope/items/3", 404, "nope"},
		{"/ogc/collections/toilets/items/4", 404, "4"}, // ids are odd
		{"/ogc/collections/toilets/items/0", 404, "0"},
		{"/ogc/collections/toilets/items/abc", 404, "abc"},
		{"/ogc/collections/toilets/items/003", 404, "003"},
		{"/ogc/collections/toilets/items/-3", 404, "-3"},
	} {
		t.Run(tc.path, func(t *testing.T) {
			r := get(t, f.url+tc.path)
			if r.status != tc.status {
				t.Fatalf("status %d, want %d\n%s", r.status, tc.status, r.body)
			}
			if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
				t.Fatalf("Content-Type %q, want application/json", ct)
			}
			desc, _ := r.json["description"].(string)
			if r.json["code"] == nil || !strings.Contains(desc, tc.names) {
				t.Errorf("error body %s does not name %q", r.body, tc.names)
			}
		})
	}
}

func TestLimitClamp(t *testing.T) {
	f := newFixture(t, Options{MaxLimit: 50, DefaultLimit: 20})
	base := f.url + "/ogc/collections/toilets/items"
	for _, tc := range []struct {
		query string
		want  int
	}{
		{"", 20},
		{"?limit=1", 1},
		{"?limit=50", 50},
		{"?limit=51", 50},
		{"?limit=100000", 50},
		{"?limit=99999999999999999999999", 50},
	} {
		fc := getOK(t, base+tc.query, "application/geo+json").json
		if n := len(featureIDs(t, fc)); n != tc.want {
			t.Errorf("%s: %d features, want %d", tc.query, n, tc.want)
		}
		if !hasLink(fc, "next") {
			t.Errorf("%s: no next link on a full page", tc.query)
		}
	}
}

func TestFormats(t *testing.T) {
	f := newFixture(t, Options{})
	for _, tc := range []struct{ path, media string }{
		{"/ogc?f=json", "application/json"},
		{"/ogc/collections?f=json", "application/json"},
		{"/ogc/collections/toilets/items?f=json", "application/geo+json"},
		{"/ogc/collections/toilets/items?f=geojson", "application/geo+json"},
		{"/ogc/collections/toilets/items/3?f=geojson", "application/geo+json"},
		{"/ogc/api?f=json", "application/vnd.oai.openapi+json;version=3.0"},
		{"/ogc/api?f=html", "text/html"},
	} {
		r := getOK(t, f.url+tc.path, tc.media)
		if tc.media == "application/json" || tc.media == "application/geo+json" {
			// The self link keeps the encoding asked for.
			if self := linkByRel(t, r.json, "self", f.url+"/ogc"); !strings.HasSuffix(self["href"].(string), "?f="+strings.Split(tc.path, "?f=")[1]) {
				t.Errorf("%s: self link %v", tc.path, self)
			}
		}
	}
}
