package features

import (
	"context"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
)

// loadAPI fetches /ogc/api and parses it with kin-openapi, an independent
// OpenAPI implementation, failing unless the document validates as 3.0.
func loadAPI(t *testing.T, f *fixture) *openapi3.T {
	t.Helper()
	r := getOK(t, f.url+"/ogc/api", "application/vnd.oai.openapi+json;version=3.0")
	doc, err := openapi3.NewLoader().LoadFromData(r.body)
	if err != nil {
		t.Fatalf("load the OpenAPI document: %v", err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		t.Fatalf("the OpenAPI document does not validate: %v", err)
	}
	if !strings.HasPrefix(doc.OpenAPI, "3.0.") {
		t.Fatalf("openapi %q, want 3.0.x", doc.OpenAPI)
	}
	return doc
}

func TestOpenAPIValid(t *testing.T) {
	f := newFixture(t, Options{})
	doc := loadAPI(t, f)
	if len(doc.Servers) != 1 || doc.Servers[0].URL != f.url+"/ogc" {
		t.Errorf("servers %v, want the absolute /ogc URL", doc.Servers)
	}
	for _, p := range []string{"/", "/conformance", "/api", "/collections"} {
		if doc.Paths.Find(p) == nil {
			t.Errorf("no path %s", p)
		}
	}
	// Every collection has concrete paths, referencing the shared parameters.
	for _, id := range []string{"empty", "hk_areas", "places", "toilets"} {
		items := doc.Paths.Value("/collections/" + id + "/items")
		if items == nil || items.Get == nil {
			t.Fatalf("no GET /collections/%s/items", id)
		}
		var refs []string
		for _, p := range items.Get.Parameters {
			refs = append(refs, p.Ref)
		}
		for _, name := range []string{"limit", "bbox", "bbox-crs", "datetime", "crs", "sortby", "after", "f", "filter", "filter-lang", "filter-crs"} {
			if !slices.Contains(refs, "#/components/parameters/"+name) {
				t.Errorf("/collections/%s/items does not reference parameter %s: %v", id, name, refs)
			}
		}
		// A form parameter per queryable property, of its type.
		for _, fd := range f.layers[id].Info.Fields {
			p := items.Get.Parameters.GetByInAndName("query", fd.Name)
			if p == nil {
				t.Errorf("/collections/%s/items: no parameter for property %s", id, fd.Name)
				continue
			}
			want := map[string]string{"integer": "integer", "number": "number", "boolean": "boolean"}[string(fd.Type)]
			if want == "" {
				want = "string"
			}
			if p.Style != "form" || !p.Schema.Value.Type.Is(want) {
				t.Errorf("/collections/%s/items parameter %s: style %s type %v, want form %s", id, fd.Name, p.Style, p.Schema.Value.Type, want)
			}
		}
		if q := doc.Paths.Value("/collections/" + id + "/queryables"); q == nil || q.Get.Responses.Status(200).Value.Content.Get("application/schema+json") == nil {
			t.Errorf("no /collections/%s/queryables answering application/schema+json", id)
		}
		if doc.Paths.Value("/collections/"+id+"/items/{featureId}") == nil {
			t.Errorf("no path /collections/%s/items/{featureId}", id)
		}
		if doc.Paths.Value("/collections/"+id) == nil {
			t.Errorf("no path /collections/%s", id)
		}
	}
}

// TestOpenAPIParameters checks the parameter definitions the suite, GDAL
// and QGIS read.
func TestOpenAPIParameters(t *testing.T) {
	doc := loadAPI(t, newFixture(t, Options{}))
	params := doc.Components.Parameters
	form := func(name string) *openapi3.Parameter {
		t.Helper()
		ref := params[name]
		if ref == nil || ref.Value == nil {
			t.Fatalf("no components.parameters.%s", name)
		}
		p := ref.Value
		if p.Name != name || p.In != "query" || p.Required || p.Style != "form" || p.Explode == nil || *p.Explode {
			t.Errorf("%s: name %q in %q required %v style %q explode %v; want a query parameter, optional, form, explode false",
				name, p.Name, p.In, p.Required, p.Style, p.Explode)
		}
		return p
	}
	limit := form("limit").Schema.Value
	if !limit.Type.Is("integer") || limit.Min == nil || *limit.Min != 1 || limit.Max == nil || *limit.Max != 10000 || limit.Default != 10.0 {
		t.Errorf("limit schema: type %v min %v max %v default %v; want integer 1..10000 default 10",
			limit.Type, deref(limit.Min), deref(limit.Max), limit.Default)
	}
	bbox := form("bbox").Schema.Value
	if !bbox.Type.Is("array") || bbox.MinItems != 4 || bbox.MaxItems == nil || *bbox.MaxItems != 6 || !bbox.Items.Value.Type.Is("number") {
		t.Errorf("bbox schema: type %v items %d..%v; want an array of 4 to 6 numbers", bbox.Type, bbox.MinItems, bbox.MaxItems)
	}
	if after := form("after").Schema.Value; !after.Type.Is("integer") {
		t.Errorf("after schema type %v", after.Type)
	}
	if fs := form("f").Schema.Value; !slices.Contains(fs.Enum, any("json")) || !slices.Contains(fs.Enum, any("html")) {
		t.Errorf("f enum %v", fs.Enum)
	}
	if dt := form("datetime").Schema.Value; !dt.Type.Is("string") {
		t.Errorf("datetime schema type %v, want string", dt.Type)
	}
	for _, name := range []string{"crs", "bbox-crs"} {
		var enum []string
		for _, v := range form(name).Schema.Value.Enum {
			enum = append(enum, v.(string))
		}
		if !slices.Equal(enum, wantCRS) {
			t.Errorf("%s enum %v, want %v", name, enum, wantCRS)
		}
	}
	if fl := form("filter-lang").Schema.Value; !slices.Equal(fl.Enum, []any{"cql2-text", "cql2-json"}) || fl.Default != "cql2-text" {
		t.Errorf("filter-lang enum %v default %v", fl.Enum, fl.Default)
	}
	if sb := form("sortby").Schema.Value; !sb.Type.Is("array") || !sb.Items.Value.Type.Is("string") {
		t.Errorf("sortby schema %v, want an array of strings", sb.Type)
	}
}

// TestOpenAPIMatchesServer requests every path the document declares with
// every parameter it declares, with a value made from the parameter's
// schema: what is declared is accepted, the concrete paths all answer, and
// each answers in every media type its 200 response lists.
func TestOpenAPIMatchesServer(t *testing.T) {
	f := newFixture(t, Options{})
	doc := loadAPI(t, f)
	fixed := map[string]string{"limit": "2", "bbox": "113,22,115,23", "after": "5", "featureId": "5",
		"datetime": "2024-05-06T00:00:00Z/P2D", "filter": "S_INTERSECTS(geometry, BBOX(12600000,2500000,12800000,2600000))", "filter-lang": "cql2-text"}
	sample := func(path string, p *openapi3.Parameter, params openapi3.Parameters) (string, bool) {
		if v, ok := fixed[p.Name]; ok {
			return v, true
		}
		sc := p.Schema.Value
		switch {
		case p.Name == "sortby":
			// The last parameter of an items path is a property filter.
			last := params[len(params)-1]
			return "-" + last.Value.Name, last.Ref == ""
		case len(sc.Enum) > 0:
			return fmt.Sprint(sc.Enum[len(sc.Enum)-1]), true
		case sc.Type.Is("string") && sc.Format == "date":
			return "2020-01-03", true
		case sc.Type.Is("string") && sc.Format == "date-time":
			return "2024-05-06T08:08:09Z", true
		case sc.Type.Is("string"):
			return "公廁 1 號", true
		case sc.Type.Is("integer"):
			return "1", true
		case sc.Type.Is("number"):
			return "0.25", true
		case sc.Type.Is("boolean"):
			return "true", true
		}
		return "", false
	}
	for path, item := range doc.Paths.Map() {
		if strings.Contains(path, "/places/") || strings.Contains(path, "/empty") {
			continue // no feature 5 there
		}
		q := url.Values{}
		concrete := path
		for _, ref := range item.Get.Parameters {
			p := ref.Value
			v, ok := sample(path, p, item.Get.Parameters)
			if !ok {
				t.Errorf("%s: parameter %q: no sample value for its schema", path, p.Name)
				continue
			}
			if p.In == "path" {
				concrete = strings.ReplaceAll(concrete, "{"+p.Name+"}", v)
			} else if p.Name != "f" {
				q.Set(p.Name, v)
			}
		}
		for media := range item.Get.Responses.Status(200).Value.Content {
			enc := map[string]string{"text/html": "html"}[media]
			if enc == "" {
				enc = "json"
			}
			if p := item.Get.Parameters.GetByInAndName("query", "f"); p == nil {
				t.Errorf("%s: no f parameter", path)
			} else if !slices.Contains(p.Schema.Value.Enum, any(enc)) {
				t.Errorf("%s offers %s but f does not list %s", path, media, enc)
			}
			q.Set("f", enc)
			u := f.url + "/ogc" + concrete + "?" + q.Encode()
			getOK(t, u, strings.Split(media, ";")[0])
		}
	}
}

func deref[T any](p *T) any {
	if p == nil {
		return nil
	}
	return fmt.Sprint(*p)
}

// TestOpenAPITiles checks the tiles paths are declared when tiles are on,
// and the document still validates.
func TestOpenAPITiles(t *testing.T) {
	f := newFixture(t, Options{Tiles: true})
	doc := loadAPI(t, f)
	getOK(t, f.url+"/ogc/api?f=html", "text/html")
	for _, p := range []string{"/tileMatrixSets", "/tileMatrixSets/{tileMatrixSetId}", "/collections/toilets/tiles",
		"/collections/toilets/tiles/{tileMatrixSetId}/{tileMatrix}/{tileRow}/{tileCol}"} {
		if doc.Paths.Value(p) == nil {
			t.Errorf("no path %s", p)
		}
	}
	if off := loadAPI(t, newFixture(t, Options{})); off.Paths.Value("/tileMatrixSets") != nil {
		t.Error("tiles paths with tiles off")
	}
}
