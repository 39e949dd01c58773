package tiles

import (
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"slices"
	"testing"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/maptile"

	"github.com/csdi-hk/csdi/catalog"
	"github.com/csdi-hk/csdi/geo"
)

// Layers with zoom ranges answer 404 outside them; in a list, each layer
// is in the tiles of its own range only, and the list has tiles over the
// union of the ranges.
func TestZoomRange(t *testing.T) {
	low := newLayer(t, catalog.LayerInfo{ID: "low", Tiles: catalog.TileOptions{MinZoom: 10, MaxZoom: 14}},
		[]geo.Feature{{ID: 1, Geometry: pier}})
	high := newLayer(t, catalog.LayerInfo{ID: "high", Tiles: catalog.TileOptions{MinZoom: 12}},
		[]geo.Feature{{ID: 2, Geometry: pier}})
	srv := serve(t, layerSet{"low": low, "high": high}, Options{MaxZoom: 18})
	tests := []struct {
		list   string
		z      maptile.Zoom
		status int
		layers []string
	}{
		{"low", 9, http.StatusNotFound, nil},
		{"low", 10, http.StatusOK, []string{"low"}},
		{"low", 14, http.StatusOK, []string{"low"}},
		{"low", 15, http.StatusNotFound, nil},
		{"high", 11, http.StatusNotFound, nil},
		{"high", 18, http.StatusOK, []string{"high"}},
		{"high", 19, http.StatusNotFound, nil}, // beyond the engine's
		{"low,high", 9, http.StatusNotFound, nil},
		{"low,high", 11, http.StatusOK, []string{"low"}},
		{"low,high", 13, http.StatusOK, []string{"low", "high"}},
		{"high,low", 16, http.StatusOK, []string{"high"}},
	}
	for _, tt := range tests {
		resp, body := get(t, tileURL(srv.URL, tt.list, maptile.At(pier, tt.z)))
		if resp.StatusCode != tt.status {
			t.Errorf("%s at z%d: status %d, want %d", tt.list, tt.z, resp.StatusCode, tt.status)
			continue
		}
		if tt.status != http.StatusOK {
			continue
		}
		var got []string
		for _, l := range decodeTile(t, body).Layers {
			got = append(got, l.GetName())
		}
		if !slices.Equal(got, tt.layers) {
			t.Errorf("%s at z%d: layers %v, want %v", tt.list, tt.z, got, tt.layers)
		}
	}

	for _, tt := range []struct {
		list     string
		min, max int
		layers   map[string][2]int
	}{
		{"low", 10, 14, map[string][2]int{"low": {10, 14}}},
		{"high", 12, 18, map[string][2]int{"high": {12, 18}}},
		{"low,high", 10, 18, map[string][2]int{"low": {10, 14}, "high": {12, 18}}},
	} {
		var tj tileJSON
		resp, body := get(t, srv.URL+"/tiles/"+tt.list+".json")
		if err := json.Unmarshal(body, &tj); err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: TileJSON status %d: %v", tt.list, resp.StatusCode, err)
		}
		if tj.MinZoom != tt.min || tj.MaxZoom != tt.max {
			t.Errorf("%s: TileJSON zooms %d-%d, want %d-%d", tt.list, tj.MinZoom, tj.MaxZoom, tt.min, tt.max)
		}
		for _, vl := range tj.VectorLayers {
			if want := tt.layers[vl.ID]; vl.MinZoom != want[0] || vl.MaxZoom != want[1] {
				t.Errorf("%s: vector layer %s zooms %d-%d, want %d-%d", tt.list, vl.ID, vl.MinZoom, vl.MaxZoom, want[0], want[1])
			}
		}
	}
}

// Only the listed properties go into tiles and TileJSON; nil is all of
// them, empty none.
func TestProperties(t *testing.T) {
	fields := []geo.Field{{Name: "name", Type: geo.String}, {Name: "seats", Type: geo.Integer}, {Name: "open", Type: geo.Boolean}}
	props := map[string]any{"name": "中環", "seats": int64(3), "open": true}
	tests := []struct {
		name string
		keep []string
		want []string
	}{
		{"all", nil, []string{"name", "open", "seats"}},
		{"some", []string{"seats", "name"}, []string{"name", "seats"}},
		{"none", []string{}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := newLayer(t, catalog.LayerInfo{ID: "l", Fields: fields, Tiles: catalog.TileOptions{Properties: tt.keep}},
				[]geo.Feature{{ID: 1, Geometry: pier, Properties: props}})
			srv := serve(t, layerSet{"l": l}, Options{})
			resp, body := get(t, tileURL(srv.URL, "l", maptile.At(pier, 15)))
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("status %d", resp.StatusCode)
			}
			vt := decodeTile(t, body)
			got := tags(t, vt.Layers[0], vt.Layers[0].Features[0])
			var keys []string
			for k, v := range got {
				keys = append(keys, k)
				if want := props[k]; v != want {
					t.Errorf("%s = %v (%T), want %v", k, v, v, want)
				}
			}
			slices.Sort(keys)
			if !slices.Equal(keys, tt.want) || len(vt.Layers[0].Keys) != len(tt.want) {
				t.Errorf("tile properties %v (layer keys %v), want %v", keys, vt.Layers[0].Keys, tt.want)
			}
			var tj tileJSON
			_, body = get(t, srv.URL+"/tiles/l.json")
			if err := json.Unmarshal(body, &tj); err != nil {
				t.Fatal(err)
			}
			var fs []string
			for k := range tj.VectorLayers[0].Fields {
				fs = append(fs, k)
			}
			slices.Sort(fs)
			if !slices.Equal(fs, tt.want) {
				t.Errorf("TileJSON fields %v, want %v", fs, tt.want)
			}
		})
	}
}

// Simplify scales the tolerance: no decoded vertex of the wiggly line
// strays further from the original than the tolerance and rounding allow,
// and a larger factor keeps fewer vertices.
func TestSimplifyFactor(t *testing.T) {
	tile := maptile.At(pier, 16)
	tb := newTileBuilder(tile, 4096, 64)
	// A zigzag across the tile, 3 units high, in tile units first.
	var line orb.LineString
	var inTile []orb.Point
	for x := 100.0; x < 4000; x += 20 {
		p := orb.Point{x, 2000 + 3*math.Mod(x/20, 2)}
		inTile = append(inTile, p)
		line = append(line, lonLatOf(tb, p))
	}
	tests := []struct {
		factor float64
		maxDev float64 // tolerance times factor, plus rounding
		minPts int
		maxPts int
	}{
		{0, 1 + 1, len(line), len(line)}, // 0 is 1: every zig is kept
		{1, 1 + 1, len(line), len(line)},
		{5, 5 + 1, 2, 2}, // the zigzag is within 3 units of a straight line
	}
	for _, tt := range tests {
		l := newLayer(t, catalog.LayerInfo{ID: "l", Tiles: catalog.TileOptions{Simplify: tt.factor}},
			[]geo.Feature{{ID: 1, Geometry: line}})
		srv := serve(t, layerSet{"l": l}, Options{})
		_, body := get(t, tileURL(srv.URL, "l", tile))
		vt := decodeTile(t, body)
		f := vt.Layers[0].Features[0]
		parts := decodeGeometry(t, f.GetType(), f.Geometry)
		if n := len(parts[0]); n < tt.minPts || n > tt.maxPts {
			t.Errorf("factor %v: %d vertices, want %d to %d", tt.factor, n, tt.minPts, tt.maxPts)
		}
		// Every original vertex is near the decoded line.
		for _, p := range inTile {
			d := math.Inf(1)
			for i := 0; i+1 < len(parts[0]); i++ {
				a, b := parts[0][i], parts[0][i+1]
				d = math.Min(d, segDist(p, orb.Point{float64(a[0]), float64(a[1])}, orb.Point{float64(b[0]), float64(b[1])}))
			}
			if d > tt.maxDev {
				t.Errorf("factor %v: vertex %v is %.2f units from the tile's line", tt.factor, p, d)
				break
			}
		}
	}
}

// KeepSmall keeps a polygon and a line that round to nothing at this zoom,
// as a unit mark where they are; without it they are dropped. At z18 the
// float32 bounds of the layer's index are tens of units larger than these
// features (see tileBuilder.lineBound).
func TestKeepSmall(t *testing.T) {
	for _, z := range []maptile.Zoom{10, 18} {
		t.Run(fmt.Sprintf("z%d", z), func(t *testing.T) { testKeepSmall(t, z) })
	}
}

func testKeepSmall(t *testing.T, z maptile.Zoom) {
	tile := maptile.At(pier, z)
	tb := newTileBuilder(tile, 4096, 64)
	at := orb.Point{1000.2, 2000.1}
	sq := orb.Ring{lonLatOf(tb, at), lonLatOf(tb, orb.Point{at[0] + 0.2, at[1]}), lonLatOf(tb, orb.Point{at[0] + 0.2, at[1] + 0.2}), lonLatOf(tb, orb.Point{at[0], at[1] + 0.2})}
	sq = append(sq, sq[0])
	ln := orb.LineString{lonLatOf(tb, orb.Point{3000.1, 100.1}), lonLatOf(tb, orb.Point{3000.3, 100.2})}
	for _, keep := range []bool{false, true} {
		l := newLayer(t, catalog.LayerInfo{ID: "l", Tiles: catalog.TileOptions{KeepSmall: keep}},
			[]geo.Feature{{ID: 1, Geometry: orb.Polygon{sq}}, {ID: 2, Geometry: ln}})
		srv := serve(t, layerSet{"l": l}, Options{})
		resp, body := get(t, tileURL(srv.URL, "l", tile))
		if !keep {
			if resp.StatusCode != http.StatusNoContent {
				t.Errorf("without keep_small: status %d, want 204", resp.StatusCode)
			}
			continue
		}
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("with keep_small: status %d", resp.StatusCode)
		}
		feats := decodeTile(t, body).Layers[0].Features
		if len(feats) != 2 {
			t.Fatalf("with keep_small: %d features, want 2", len(feats))
		}
		poly := decodeGeometry(t, feats[0].GetType(), feats[0].Geometry)
		if a := area(poly[0]); a != 1 || poly[0][0] != [2]int64{1000, 2000} {
			t.Errorf("small polygon kept as %v (area %v), want a unit square at 1000,2000", poly, a)
		}
		line := decodeGeometry(t, feats[1].GetType(), feats[1].Geometry)
		if len(line) != 1 || len(line[0]) != 2 || line[0][0] != [2]int64{3000, 100} {
			t.Errorf("small line kept as %v, want a unit segment at 3000,100", line)
		}
	}
}

// lonLatOf inverts tb.project.
func lonLatOf(tb *tileBuilder, p orb.Point) orb.Point {
	n := math.Exp2(float64(tb.tile.Z))
	x := (float64(tb.tile.X) + p[0]/tb.extent) / n
	y := (float64(tb.tile.Y) + p[1]/tb.extent) / n
	return orb.Point{x*360 - 180, math.Atan(math.Sinh(math.Pi*(1-2*y))) * 180 / math.Pi}
}

func segDist(p, a, b orb.Point) float64 {
	dx, dy := b[0]-a[0], b[1]-a[1]
	t := 0.0
	if l := dx*dx + dy*dy; l > 0 {
		t = math.Max(0, math.Min(1, ((p[0]-a[0])*dx+(p[1]-a[1])*dy)/l))
	}
	return math.Hypot(p[0]-a[0]-t*dx, p[1]-a[1]-t*dy)
}
