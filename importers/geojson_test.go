package importers

import (
	"strings"
	"testing"
	"time"

	"github.com/paulmach/orb"

	"github.com/csdi-hk/csdi/geo"
)

func collect(t *testing.T, doc string) ([]geo.Feature, error) {
	t.Helper()
	var out []geo.Feature
	for f, err := range GeoJSON(strings.NewReader(doc), "in.geojson") {
		if err != nil {
			return out, err
		}
		out = append(out, f)
	}
	return out, nil
}

func TestGeoJSON(t *testing.T) {
	tests := []struct {
		name  string
		doc   string
		ids   []uint64
		first map[string]any
		geom  orb.Geometry
	}{
		{
			name: "collection with source ids, features before type",
			doc: `{"features":[{"type":"Feature","id":7,"geometry":{"type":"Point","coordinates":[114.17,22.3]},
				"properties":{"名稱":"維多利亞公園","n":3,"x":1.5,"ok":true,"d":"2021-06-30","t":"2021-06-30T08:00:00+08:00","nil":null,"o":{"a":[1]}}},
				{"type":"Feature","id":9,"geometry":{"type":"Point","coordinates":[114.18,22.31]},"properties":null}],
				"type":"FeatureCollection","name":"x"}`,
			ids: []uint64{7, 9},
			first: map[string]any{"名稱": "維多利亞公園", "n": int64(3), "x": 1.5, "ok": true,
				"d": time.Date(2021, 6, 30, 0, 0, 0, 0, time.UTC), "t": time.Date(2021, 6, 30, 0, 0, 0, 0, time.UTC), "nil": nil, "o": `{"a":[1]}`},
			geom: orb.Point{114.17, 22.3},
		},
		{
			name: "no ids: numbered in file order",
			doc: `{"type":"FeatureCollection","features":[{"type":"Feature","geometry":{"type":"LineString","coordinates":[[114,22],[114.1,22.1]]},"properties":{"id":"abc"}},
				{"type":"Feature","id":"x1","geometry":{"type":"Point","coordinates":[114,22]},"properties":{}}]}`,
			ids:   []uint64{1, 2},
			first: map[string]any{"id": "abc"},
			geom:  orb.LineString{{114, 22}, {114.1, 22.1}},
		},
		{
			name:  "single feature",
			doc:   `{"type":"Feature","id":3,"properties":{"a":"b"},"geometry":{"type":"Polygon","coordinates":[[[114,22],[114.1,22],[114.1,22.1],[114,22]]]}}`,
			ids:   []uint64{3},
			first: map[string]any{"a": "b"},
			geom:  orb.Polygon{{{114, 22}, {114.1, 22}, {114.1, 22.1}, {114, 22}}},
		},
		{
			name: "newline-delimited",
			doc: `{"type":"Feature","properties":{"a":1},"geometry":{"type":"Point","coordinates":[114,22]}}
{"type":"Feature","properties":{"a":2},"geometry":{"type":"Point","coordinates":[114.2,22.2]}}
`,
			ids:   []uint64{1, 2},
			first: map[string]any{"a": int64(1)},
			geom:  orb.Point{114, 22},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := collect(t, tt.doc)
			if err != nil {
				t.Fatal(err)
			}
			var ids []uint64
			for _, f := range got {
				ids = append(ids, f.ID)
			}
			if len(ids) != len(tt.ids) || !equalIDs(ids, tt.ids) {
				t.Fatalf("ids = %v, want %v", ids, tt.ids)
			}
			if !orb.Equal(got[0].Geometry, tt.geom) {
				t.Errorf("geometry = %v, want %v", got[0].Geometry, tt.geom)
			}
			if len(got[0].Properties) != len(tt.first) {
				t.Errorf("properties = %v, want %v", got[0].Properties, tt.first)
			}
			for k, want := range tt.first {
				g := got[0].Properties[k]
				if wt, ok := want.(time.Time); ok {
					if gt, ok := g.(time.Time); !ok || !gt.Equal(wt) {
						t.Errorf("%s = %#v, want %v", k, g, want)
					}
					continue
				}
				if g != want {
					t.Errorf("%s = %#v, want %#v", k, g, want)
				}
			}
		})
	}
}

func equalIDs(a, b []uint64) bool {
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestGeoJSONErrors(t *testing.T) {
	tests := []struct {
		name, doc, want string
		before          int // features yielded before the error
	}{
		{"not json", `hello`, "in.geojson: not JSON", 0},
		{"array", `[1,2]`, "must be a JSON object", 0},
		{"no type", `{"features":[]}`, `no "type" member`, 0},
		{"geometry type", `{"type":"Point","coordinates":[1,2]}`, `"Point" is not a Feature`, 0},
		{"truncated", `{"type":"FeatureCollection","features":[{"type":"Feature","geometry":{"type":"Point","coordinates":[114,22]},"properties":{}},{"type":"Fea`, "feature 2", 1},
		{"null geometry", `{"type":"FeatureCollection","features":[{"type":"Feature","geometry":null,"properties":{}}]}`, "feature 1: no geometry", 0},
		{"hk1980 metres", `{"type":"FeatureCollection","features":[{"type":"Feature","geometry":{"type":"Point","coordinates":[835411.431,817266.016]},"properties":{}}]}`, "EPSG:2326", 0},
		{"out of range", `{"type":"FeatureCollection","features":[{"type":"Feature","geometry":{"type":"Point","coordinates":[200,22]},"properties":{}}]}`, "outside longitude", 0},
		{"mixed ids", `{"type":"FeatureCollection","features":[{"type":"Feature","id":1,"geometry":{"type":"Point","coordinates":[114,22]},"properties":{}},{"type":"Feature","geometry":{"type":"Point","coordinates":[114,22]},"properties":{}}]}`, "feature 2: \"id\" (none) is not a positive integer", 1},
		{"trailing garbage", `{"type":"FeatureCollection","features":[]} x`, "after the GeoJSON document", 0},
		{"huge number", `{"type":"Feature","geometry":{"type":"Point","coordinates":[114,22]},"properties":{"a":1e400}}`, `property "a"`, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := collect(t, tt.doc)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error = %v, want one containing %q", err, tt.want)
			}
			if len(got) != tt.before {
				t.Errorf("%d features before the error, want %d", len(got), tt.before)
			}
		})
	}
}

func FuzzGeoJSON(f *testing.F) {
	f.Add(`{"type":"FeatureCollection","features":[{"type":"Feature","id":1,"geometry":{"type":"Point","coordinates":[114,22]},"properties":{"a":"b"}}]}`)
	f.Add(`{"type":"Feature","geometry":{"type":"MultiPolygon","coordinates":[[[[114,22],[114.1,22],[114.1,22.1],[114,22]]]]},"properties":{"x":[1,{"y":null}]}}`)
	f.Add("{\"type\":\"Feature\",\"geometry\":{\"type\":\"Point\",\"coordinates\":[1,2]}}\n{\"type\":\"Feature\",\"geometry\":null}")
	f.Fuzz(func(t *testing.T, doc string) {
		for feat, err := range GeoJSON(strings.NewReader(doc), "fuzz") {
			if err != nil {
				if !strings.HasPrefix(err.Error(), "fuzz: ") {
					t.Fatalf("error does not name the file: %v", err)
				}
				return
			}
			if feat.ID == 0 || feat.Geometry == nil {
				t.Fatalf("feature without id or geometry: %+v", feat)
			}
			if err := CheckLonLat(feat.Geometry); err != nil {
				t.Fatalf("yielded a feature with bad coordinates: %v", err)
			}
		}
	})
}
