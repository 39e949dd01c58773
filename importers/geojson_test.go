package importers

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/paulmach/orb"

	"github.com/csdi-hk/csdi/catalog"
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

// collectAll reads doc as an import does: on after a FeatureError, to the
// end or the first other error.
func collectAll(doc string) ([]geo.Feature, []error) {
	var out []geo.Feature
	var errs []error
	for f, err := range GeoJSON(strings.NewReader(doc), "in.geojson") {
		if err != nil {
			errs = append(errs, err)
			continue
		}
		out = append(out, f)
	}
	return out, errs
}

func TestGeoJSONErrors(t *testing.T) {
	point := `{"type":"Feature","geometry":{"type":"Point","coordinates":[114,22]},"properties":{}}`
	coll := func(features ...string) string {
		return `{"type":"FeatureCollection","features":[` + strings.Join(features, ",") + `]}`
	}
	withGeom := func(geom string) string {
		return `{"type":"Feature","geometry":` + geom + `,"properties":{}}`
	}
	withProps := func(props string) string {
		return `{"type":"Feature","geometry":{"type":"Point","coordinates":[114,22]},"properties":` + props + `}`
	}
	tests := []struct {
		name, doc, want string
		row             int // of the FeatureError; 0 for an error that ends the read
		read            int // features yielded in all
	}{
		{"not json", `hello`, "in.geojson: not JSON", 0, 0},
		{"empty", ``, "not JSON: the file is empty", 0, 0},
		{"array", `[1,2]`, "must be a JSON object", 0, 0},
		{"no type", `{"features":[]}`, `no "type" member`, 0, 0},
		{"geometry type", `{"type":"Point","coordinates":[1,2]}`, `"Point" is not a Feature`, 0, 0},
		{"truncated", coll(point, `{"type":"Fea`)[:len(coll(point, `{"type":"Fea`))-2], "feature 2: unexpected end of the file at byte", 0, 1},
		{"truncated in a number", `{"type":"Feature","geometry":{"type":"Point","coordinates":[114.1`, `reading "geometry": unexpected end of the file at byte 65`, 0, 0},
		{"broken json", coll(point, `{"type":"Feature",}`, point), "feature 2: invalid JSON at byte 144: '}' where an object key should be", 0, 1},
		{"too deep", withProps(`{"a":` + strings.Repeat("[", 20000) + strings.Repeat("]", 20000) + `}`), "nested deeper than", 0, 0},
		{"null geometry, read on", coll(withGeom(`null`), point), "in.geojson: row 1: no geometry", 1, 1},
		{"no geometry", coll(`{"type":"Feature","properties":{}}`), "no geometry", 1, 0},
		{"unknown geometry type", coll(withGeom(`{"type":"Circle","coordinates":[1,2]}`), point), `geometry: "Circle" is not a GeoJSON geometry type`, 1, 1},
		{"no coordinates", coll(point, withGeom(`{"type":"Point"}`)), `geometry: no "coordinates"`, 2, 1},
		{"null coordinate", coll(withGeom(`{"type":"Point","coordinates":[null,22]}`)), "null coordinate", 1, 0},
		{"short position", coll(withGeom(`{"type":"LineString","coordinates":[[114,22],[114]]}`)), "fewer than 2", 1, 0},
		{"non-numeric coordinate", coll(withGeom(`{"type":"Point","coordinates":["114",22]}`), point), "not a number", 1, 1},
		{"huge coordinate", coll(withGeom(`{"type":"Point","coordinates":[1e400,22]}`)), "coordinate 1e400 out of range", 1, 0},
		{"shape", coll(withGeom(`{"type":"Polygon","coordinates":[[114,22]]}`)), "a position is not an array", 1, 0},
		{"hk1980 metres", coll(withGeom(`{"type":"Point","coordinates":[835411.431,817266.016]}`)), "EPSG:2326", 1, 0},
		{"out of range", coll(withGeom(`{"type":"Point","coordinates":[200,22]}`)), "outside longitude", 1, 0},
		{"not a feature", coll(point, `{"type":"feature"}`, `5`), `type is "feature", want "Feature"`, 2, 1},
		{"properties not an object", coll(withProps(`[1]`)), `"properties" is not an object`, 1, 0},
		{"mixed ids", coll(`{"type":"Feature","id":1,"geometry":{"type":"Point","coordinates":[114,22]},"properties":{}}`, point), `row 2: "id" (none) is not a positive integer`, 2, 1},
		{"trailing garbage", `{"type":"FeatureCollection","features":[]} x`, "after the GeoJSON document", 0, 0},
		{"huge number", withProps(`{"a":1e400}`), `property "a": number 1e400 out of range`, 1, 0},
		{"invalid UTF-8", coll(withProps("{\"a\":\"caf\xe9\"}"), point), `property "a": invalid UTF-8 (byte 0xe9 at offset 3`, 1, 1},
		{"invalid UTF-8 nested", withProps("{\"a\":[\"caf\xe9\"]}"), `property "a": invalid UTF-8`, 1, 0},
		{"control character", withProps("{\"a\":\"x\ty\"}"), "control character 0x09 in a string", 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, errs := collectAll(tt.doc)
			checkFirstError(t, "in.geojson", got, errs, tt.want, tt.row, tt.read)
		})
	}
}

// TestGeoJSONLargeFeature reads a feature far larger than the reader's
// buffer, which grows to hold it, after a byte order mark.
func TestGeoJSONLargeFeature(t *testing.T) {
	var b strings.Builder
	b.WriteString("\ufeff{\"type\":\"Feature\",\"properties\":{},\"geometry\":{\"type\":\"LineString\",\"coordinates\":[")
	const n = 100_000
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, "[%.9f,%.9f]", 114+float64(i)*1e-6, 22.0)
	}
	b.WriteString("]}}")
	got, err := collect(t, b.String())
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || len(got[0].Geometry.(orb.LineString)) != n {
		t.Fatalf("%d features", len(got))
	}
	if p := got[0].Geometry.(orb.LineString)[n-1]; p != (orb.Point{114 + float64(n-1)*1e-6, 22}) {
		t.Errorf("last point %v", p)
	}
}

func FuzzGeoJSON(f *testing.F) {
	f.Add(`{"type":"FeatureCollection","features":[{"type":"Feature","id":1,"geometry":{"type":"Point","coordinates":[114,22]},"properties":{"a":"b"}}]}`)
	f.Add(`{"type":"Feature","geometry":{"type":"MultiPolygon","coordinates":[[[[114,22],[114.1,22],[114.1,22.1],[114,22]]]]},"properties":{"x":[1,{"y":null}]}}`)
	f.Add("{\"type\":\"Feature\",\"geometry\":{\"type\":\"Point\",\"coordinates\":[1,2]}}\n{\"type\":\"Feature\",\"geometry\":null}")
	f.Fuzz(func(t *testing.T, doc string) {
		ended, row := false, 0
		for feat, err := range GeoJSON(strings.NewReader(doc), "fuzz") {
			row++
			if ended {
				t.Fatalf("item %d after the error that ended the read", row)
			}
			if err != nil {
				if !strings.HasPrefix(err.Error(), "fuzz: ") {
					t.Fatalf("error does not name the file: %v", err)
				}
				var fe *FeatureError
				if !errors.As(err, &fe) {
					ended = true
				} else if fe.Row != row {
					t.Fatalf("FeatureError for row %d at item %d", fe.Row, row)
				}
				continue
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

// TestImportGeoJSONFeatureErrors: a GeoJSON feature that is well-formed
// JSON but unusable is rejected and reported, the rest imported; under
// Strict nothing is; broken JSON fails the import, naming the feature.
func TestImportGeoJSONFeatureErrors(t *testing.T) {
	good := `{"type":"Feature","geometry":{"type":"Point","coordinates":[114.1,22.3]},"properties":{"n":1}}`
	doc := `{"type":"FeatureCollection","features":[` + good + `,
		{"type":"Feature","geometry":{"type":"Point","coordinates":[null,22.3]},"properties":{}},` + good + `,
		{"type":"Feature","geometry":{"type":"Point","coordinates":[114.1,22.3]},"properties":{"n":1e999}}]}`
	st := openStore(t)
	ctx := context.Background()
	path := write(t, "p.geojson", doc)
	reports, err := Import(ctx, st.ReplaceLayer, catalog.LayerInfo{ID: "pts"}, path, ImportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	r := reports[0]
	if r.Read != 4 || r.Imported != 2 || r.Rejected != 2 || len(r.Rejects) != 2 ||
		r.Rejects[0].Feature != 2 || !strings.Contains(r.Rejects[0].Reason, "null coordinate") ||
		r.Rejects[1].Feature != 4 || !strings.Contains(r.Rejects[1].Reason, `property "n": number 1e999 out of range`) {
		t.Fatalf("report %+v", r)
	}
	if _, err := Import(ctx, st.ReplaceLayer, catalog.LayerInfo{ID: "strict"}, path, ImportOptions{Strict: true}); err == nil || !strings.Contains(err.Error(), "2 of 4 features rejected") {
		t.Errorf("strict import: %v, want it to fail on the 2 rejected", err)
	}
	broken := write(t, "b.geojson", `{"type":"FeatureCollection","features":[`+good+`,{"type":"Feature","geometry":{"type":"Point","coordinates":[114.1 22.3]}}]}`)
	if _, err := Import(ctx, st.ReplaceLayer, catalog.LayerInfo{ID: "broken"}, broken, ImportOptions{}); err == nil || !strings.Contains(err.Error(), "feature 2: invalid JSON at byte") {
		t.Errorf("broken import: %v, want the JSON error naming feature 2", err)
	}
}
