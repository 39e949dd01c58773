package features

import (
	"context"
	"fmt"
	"net/http"
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
	for _, id := range []string{"empty", "places", "toilets"} {
		items := doc.Paths.Value("/collections/" + id + "/items")
		if items == nil || items.Get == nil {
			t.Fatalf("no GET /collections/%s/items", id)
		}
		var refs []string
		for _, p := range items.Get.Parameters {
			refs = append(refs, p.Ref)
		}
		for _, name := range []string{"limit", "bbox", "after", "f"} {
			if !slices.Contains(refs, "#/components/parameters/"+name) {
				t.Errorf("/collections/%s/items does not reference parameter %s: %v", id, name, refs)
			}
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
	if fs := form("f").Schema.Value; !slices.Contains(fs.Enum, any("json")) {
		t.Errorf("f enum %v", fs.Enum)
	}
}

// TestOpenAPIMatchesServer requests every path the document declares with
// every parameter it declares: what is declared is accepted, and the
// concrete paths all answer.
func TestOpenAPIMatchesServer(t *testing.T) {
	f := newFixture(t, Options{})
	doc := loadAPI(t, f)
	sample := map[string]string{"limit": "2", "bbox": "113,22,115,23", "after": "4", "f": "json", "featureId": "5"}
	for path, item := range doc.Paths.Map() {
		if strings.Contains(path, "/places/") || strings.Contains(path, "/empty") {
			continue // no feature 5 there
		}
		q := url.Values{}
		concrete := path
		for _, ref := range item.Get.Parameters {
			p := ref.Value
			v, ok := sample[p.Name]
			if !ok {
				t.Errorf("%s: parameter %q has no sample value in this test", path, p.Name)
				continue
			}
			if p.In == "path" {
				concrete = strings.ReplaceAll(concrete, "{"+p.Name+"}", v)
			} else {
				q.Set(p.Name, v)
			}
		}
		u := f.url + "/ogc" + concrete + "?" + q.Encode()
		if r := get(t, u); r.status != http.StatusOK {
			t.Errorf("GET %s: status %d\n%s", u, r.status, r.body)
		}
	}
}

func deref[T any](p *T) any {
	if p == nil {
		return nil
	}
	return fmt.Sprint(*p)
}
