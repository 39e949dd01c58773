package features

import (
	"bytes"
	"net/http"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// TestQueryables compiles each collection's queryables with an independent
// JSON Schema implementation, which checks them against the 2020-12
// meta-schema, and validates every feature's properties against them.
func TestQueryables(t *testing.T) {
	f := newFixture(t, Options{})
	for id, feats := range f.want {
		t.Run(id, func(t *testing.T) {
			u := f.url + "/ogc/collections/" + id + "/queryables"
			r := getOK(t, u, "application/schema+json")
			doc := r.json
			if doc["$schema"] != "https://json-schema.org/draft/2020-12/schema" || doc["$id"] != u || doc["type"] != "object" {
				t.Errorf("$schema %v, $id %v, type %v; want 2020-12, %s, object", doc["$schema"], doc["$id"], doc["type"], u)
			}
			props := doc["properties"].(map[string]any)
			geom := props["geometry"].(map[string]any)
			if format, _ := geom["format"].(string); !strings.HasPrefix(format, "geometry-") {
				t.Errorf("geometry format %v", geom["format"])
			}
			want := map[string]string{
				"toilets": "geometry-point-or-multipoint", "places": "geometry-any",
				"hk_areas": "geometry-any", "empty": "geometry-any",
			}[id]
			if geom["format"] != want {
				t.Errorf("geometry format %v, want %s", geom["format"], want)
			}

			c := jsonschema.NewCompiler()
			c.AssertFormat()
			schemaDoc, err := jsonschema.UnmarshalJSON(bytes.NewReader(r.body))
			if err != nil {
				t.Fatal(err)
			}
			if err := c.AddResource(u, schemaDoc); err != nil {
				t.Fatal(err)
			}
			sch, err := c.Compile(u)
			if err != nil {
				t.Fatalf("the queryables are not a valid JSON Schema 2020-12: %v", err)
			}
			// Every feature as served: its non-null properties are of the
			// declared types and formats, and no property is undeclared.
			checkProperties(t, sch, getOK(t, f.url+"/ogc/collections/"+id+"/items?limit=1000", "application/geo+json").body)
			// And the schema rejects what the layer cannot hold.
			if id == "toilets" {
				for _, bad := range []map[string]any{{"seats": "three"}, {"opened": "yesterday"}, {"nope": 1}} {
					if sch.Validate(bad) == nil {
						t.Errorf("the queryables accept %v", bad)
					}
				}
			}
			if len(feats) > 0 && len(props) != len(f.layers[id].Info.Fields)+1 {
				t.Errorf("%d queryables, want the %d fields and the geometry", len(props), len(f.layers[id].Info.Fields))
			}
		})
	}
}

// TestNegotiation checks that f wins over Accept, that Accept picks the
// encoding by quality, and that nothing acceptable is a 406.
func TestNegotiation(t *testing.T) {
	f := newFixture(t, Options{})
	for _, tc := range []struct {
		path, accept string
		status       int
		media        string
	}{
		{"/ogc", "", 200, "application/json"},
		{"/ogc", "*/*", 200, "application/json"},
		{"/ogc", "application/json", 200, "application/json"},
		{"/ogc", "text/html", 200, "text/html"},
		{"/ogc", "text/html;q=0.5, application/json", 200, "application/json"},
		{"/ogc", "application/json;q=0.5, text/html", 200, "text/html"},
		{"/ogc", "text/*", 200, "text/html"},
		{"/ogc", "application/xml", 406, "application/json"},
		{"/ogc", "text/html;q=0", 406, "application/json"},
		{"/ogc?f=json", "text/html", 200, "application/json"},
		{"/ogc?f=html", "application/json", 200, "text/html"},
		{"/ogc/api", "application/vnd.oai.openapi+json;version=3.0", 200, "application/vnd.oai.openapi+json"},
		{"/ogc/api", "text/html", 200, "text/html"},
		{"/ogc/collections/toilets/items", "application/geo+json", 200, "application/geo+json"},
		{"/ogc/collections/toilets/items", "application/geo+json, application/json", 200, "application/geo+json"}, // GDAL
		{"/ogc/collections/toilets/items", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", 200, "text/html"},
		{"/ogc/collections/toilets/items", "image/png", 406, "application/json"},
		{"/ogc/collections/toilets/items/3", "text/html", 200, "text/html"},
		{"/ogc/collections/toilets/queryables", "application/schema+json", 200, "application/schema+json"},
		{"/ogc/collections/toilets/queryables", "text/html", 406, "application/json"},
	} {
		req, _ := http.NewRequest(http.MethodGet, f.url+tc.path, nil)
		if tc.accept != "" {
			req.Header.Set("Accept", tc.accept)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != tc.status || !strings.HasPrefix(res.Header.Get("Content-Type"), tc.media) {
			t.Errorf("%s with Accept %q: %d %s, want %d %s", tc.path, tc.accept, res.StatusCode, res.Header.Get("Content-Type"), tc.status, tc.media)
		}
		if v := res.Header.Values("Vary"); len(v) == 0 || !strings.Contains(strings.Join(v, ","), "Accept") {
			t.Errorf("%s: Vary %v, want Accept", tc.path, v)
		}
	}
}
