package tiles

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/paulmach/orb"

	"github.com/csdi-hk/csdi/catalog"
	"github.com/csdi-hk/csdi/geo"
)

func TestStyle(t *testing.T) {
	layers := sampleLayers(t)
	layers["parks"] = newLayer(t, catalog.LayerInfo{ID: "parks", Title: "Parks"}, []geo.Feature{
		{ID: 1, Geometry: orb.Polygon{{{114.15, 22.28}, {114.16, 22.28}, {114.16, 22.29}, {114.15, 22.28}}}},
	})
	layers["mixed"] = newLayer(t, catalog.LayerInfo{ID: "mixed", Title: "Mixed"}, []geo.Feature{
		{ID: 1, Geometry: pier}, {ID: 2, Geometry: orb.LineString{{114.15, 22.28}, {114.16, 22.29}}},
	})
	srv := serve(t, layers, Options{})
	const list = "toilets,roads,parks,mixed"
	resp, body := get(t, srv.URL+"/styles/"+list+".json")
	if resp.StatusCode != 200 {
		t.Fatalf("status %d: %s", resp.StatusCode, body)
	}
	var raw map[string]any
	if err := json.Unmarshal(body, &raw); err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"glyphs", "sprite"} {
		if _, ok := raw[key]; ok {
			t.Errorf("style has %q: it must need nothing from outside", key)
		}
	}
	var st struct {
		Version int
		Center  []float64
		Sources map[string]struct{ Type, URL string }
		Layers  []struct {
			ID, Type, Source string
			SourceLayer      string `json:"source-layer"`
			Filter           []any
			Paint            map[string]any
		}
	}
	if err := json.Unmarshal(body, &st); err != nil {
		t.Fatal(err)
	}
	if st.Version != 8 || len(st.Center) != 2 {
		t.Errorf("version %d center %v", st.Version, st.Center)
	}
	wantURL := srv.URL + "/tiles/" + list + ".json"
	if len(st.Sources) != 4 {
		t.Errorf("sources %v, want one per layer", st.Sources)
	}
	for id, s := range st.Sources {
		if s.Type != "vector" || s.URL != wantURL {
			t.Errorf("source %s: %+v, want vector from %s", id, s, wantURL)
		}
	}
	if len(st.Layers) == 0 || st.Layers[0].Type != "background" {
		t.Fatalf("layers %+v: want a background first", st.Layers)
	}
	// Layer -> its style layer types, in drawing order.
	types := map[string][]string{}
	var order []string
	for _, l := range st.Layers[1:] {
		if l.SourceLayer != l.Source {
			t.Errorf("style layer %s: source %q, source-layer %q", l.ID, l.Source, l.SourceLayer)
		}
		types[l.Source] = append(types[l.Source], l.Type)
		if !slices.Contains(order, l.Source) {
			order = append(order, l.Source)
		}
	}
	wantTypes := map[string][]string{
		"toilets": {"circle"},
		"roads":   {"line"},
		"parks":   {"fill", "line"},
		"mixed":   {"fill", "line", "line", "circle"},
	}
	for id, want := range wantTypes {
		if !slices.Equal(types[id], want) {
			t.Errorf("layer %s drawn with %v, want %v", id, types[id], want)
		}
	}
	// Polygons under the mixed layer under lines under points.
	if want := []string{"parks", "mixed", "roads", "toilets"}; !slices.Equal(order, want) {
		t.Errorf("drawing order %v, want %v", order, want)
	}

	validateStyle(t, body)
}

// validateStyle runs MapLibre's own style validator (from the viewer's npm
// packages) over a style.
func validateStyle(t *testing.T, style []byte) {
	t.Helper()
	node := tool(t, "node")
	validator, err := filepath.Abs("../web-map/node_modules/@maplibre/maplibre-gl-style-spec/dist/gl-style-validate.mjs")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(validator); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("MapLibre style validator missing (run make build): %v", err)
		}
		t.Skipf("MapLibre style validator missing (run make build): %v", err)
	}
	path := filepath.Join(t.TempDir(), "style.json")
	if err := os.WriteFile(path, style, 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(node, validator, path).CombinedOutput(); err != nil || strings.TrimSpace(string(out)) != "" {
		t.Errorf("MapLibre style validator: %v\n%s", err, out)
	}
}

// MapLibre puts a TileJSON attribution into the page as HTML.
func TestTileJSONAttributionIsText(t *testing.T) {
	layers := layerSet{"x": newLayer(t, catalog.LayerInfo{ID: "x", Attribution: `<img src=x onerror="alert(1)"> & Co`},
		[]geo.Feature{{ID: 1, Geometry: pier}})}
	srv := serve(t, layers, Options{})
	var tj struct{ Attribution string }
	_, body := get(t, srv.URL+"/tiles/x.json")
	if err := json.Unmarshal(body, &tj); err != nil {
		t.Fatal(err)
	}
	if want := `&lt;img src=x onerror=&#34;alert(1)&#34;&gt; &amp; Co`; tj.Attribution != want {
		t.Errorf("attribution %q, want %q", tj.Attribution, want)
	}
}
