package tiles

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/paulmach/orb/maptile"
)

type testLink struct {
	Href, Rel, Type string
	Templated       bool
}

func findLink(links []testLink, rel string) *testLink {
	for i := range links {
		if links[i].Rel == rel {
			return &links[i]
		}
	}
	return nil
}

func getJSON(t *testing.T, url string, v any) {
	t.Helper()
	resp, body := get(t, url)
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		t.Fatalf("GET %s: %d %s: %s", url, resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}
	if err := json.Unmarshal(body, v); err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
}

// TestOGCTiles walks OGC API - Tiles from the tile matrix sets to a tile,
// following links as a client does.
func TestOGCTiles(t *testing.T) {
	srv := serve(t, sampleLayers(t), Options{MaxZoom: 18})

	var sets struct {
		TileMatrixSets []struct {
			ID, URI, CRS string
			Links        []testLink
		}
	}
	getJSON(t, srv.URL+"/ogc/tileMatrixSets", &sets)
	if len(sets.TileMatrixSets) != 1 || sets.TileMatrixSets[0].ID != "WebMercatorQuad" ||
		sets.TileMatrixSets[0].URI != "http://www.opengis.net/def/tilematrixset/OGC/1.0/WebMercatorQuad" {
		t.Fatalf("tile matrix sets %+v", sets)
	}
	self := findLink(sets.TileMatrixSets[0].Links, "self")
	if self == nil || self.Href != srv.URL+"/ogc/tileMatrixSets/WebMercatorQuad" {
		t.Fatalf("tile matrix set self link %+v", self)
	}

	var tms struct {
		ID, URI, CRS string
		TileMatrices []struct {
			ID                        string
			ScaleDenominator          float64
			CellSize                  float64
			CornerOfOrigin            string
			PointOfOrigin             []float64
			TileWidth, TileHeight     int
			MatrixWidth, MatrixHeight uint64
		}
	}
	getJSON(t, self.Href, &tms)
	if tms.CRS != "http://www.opengis.net/def/crs/EPSG/0/3857" || len(tms.TileMatrices) != 19 {
		t.Fatalf("tile matrix set: crs %q, %d matrices, want EPSG:3857 and zooms 0 to 18", tms.CRS, len(tms.TileMatrices))
	}
	// Values of the WebMercatorQuad definition in OGC 17-083r4, annex D.
	for _, want := range []struct {
		z           int
		scale, cell float64
	}{
		{0, 559082264.028717, 156543.033928041},
		{1, 279541132.014358, 78271.5169640204},
		{18, 2132.72958384759, 0.597164283559817},
	} {
		m := tms.TileMatrices[want.z]
		n := uint64(1) << want.z
		if m.ID != fmt.Sprint(want.z) || math.Abs(m.ScaleDenominator/want.scale-1) > 1e-9 || math.Abs(m.CellSize/want.cell-1) > 1e-9 ||
			m.MatrixWidth != n || m.MatrixHeight != n || m.TileWidth != 256 || m.CornerOfOrigin != "topLeft" ||
			len(m.PointOfOrigin) != 2 || math.Abs(m.PointOfOrigin[0]+20037508.3427892) > 1e-4 || math.Abs(m.PointOfOrigin[1]-20037508.3427892) > 1e-4 {
			t.Errorf("tile matrix %d: %+v", want.z, m)
		}
	}

	type tileset struct {
		Title, DataType, CRS, TileMatrixSetURI string
		Links                                  []testLink
		Layers                                 []struct {
			ID               string
			PropertiesSchema struct {
				Properties map[string]struct{ Type, Format string }
			}
		}
	}
	var list struct {
		Links    []testLink
		Tilesets []tileset
	}
	getJSON(t, srv.URL+"/ogc/collections/toilets/tiles", &list)
	if len(list.Tilesets) != 1 {
		t.Fatalf("tilesets %+v", list)
	}
	entry := list.Tilesets[0]
	if entry.DataType != "vector" || entry.CRS != tms.CRS || entry.TileMatrixSetURI != tms.URI {
		t.Errorf("tileset entry %+v", entry)
	}
	if l := findLink(entry.Links, "http://www.opengis.net/def/rel/ogc/1.0/tiling-scheme"); l == nil || l.Href != self.Href {
		t.Errorf("tiling-scheme link %+v, want %s", l, self.Href)
	}
	tsLink := findLink(entry.Links, "self")
	if tsLink == nil {
		t.Fatalf("tileset entry has no self link: %+v", entry.Links)
	}

	var ts tileset
	getJSON(t, tsLink.Href, &ts)
	item := findLink(ts.Links, "item")
	if item == nil || !item.Templated || item.Type != MediaType {
		t.Fatalf("tileset item link %+v", item)
	}
	if len(ts.Layers) != 1 || ts.Layers[0].ID != "toilets" {
		t.Fatalf("tileset layers %+v", ts.Layers)
	}
	props := ts.Layers[0].PropertiesSchema.Properties
	// "opened" holds midnights in UTC, which the schema takes for dates.
	if props["seats"].Type != "integer" || props["opened"].Format != "date" || props["name"].Type != "string" {
		t.Errorf("properties schema %+v", props)
	}

	// The template is tileMatrix/tileRow/tileCol, that is z/y/x: the tile
	// must be the one /tiles serves at z/x/y.
	tile := maptile.At(pier, pierZ)
	url := strings.NewReplacer("{tileMatrix}", fmt.Sprint(tile.Z), "{tileRow}", fmt.Sprint(tile.Y), "{tileCol}", fmt.Sprint(tile.X)).Replace(item.Href)
	resp, ogc := get(t, url)
	_, xyz := get(t, tileURL(srv.URL, "toilets", tile))
	if resp.StatusCode != 200 || !bytes.Equal(ogc, xyz) {
		t.Errorf("GET %s: %d, %d bytes; /tiles gives %d bytes", url, resp.StatusCode, len(ogc), len(xyz))
	}
}
