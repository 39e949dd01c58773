package tiles

import (
	"context"
	"errors"
	"math"
	"testing"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/maptile"

	"github.com/csdi-hk/csdi/catalog"
	"github.com/csdi-hk/csdi/geo"
)

// The corners of a tile, as orb's maptile computes them, land on the
// corners of the tile grid.
func TestProject(t *testing.T) {
	for _, tile := range []maptile.Tile{maptile.New(0, 0, 0), maptile.At(pier, 15), maptile.At(orb.Point{-70.5, -33.4}, 22), maptile.New(3, 1, 2)} {
		tb := newTileBuilder(tile, 4096, 64)
		b := tile.Bound()
		for _, c := range []struct{ ll, want orb.Point }{
			{orb.Point{b.Min[0], b.Max[1]}, orb.Point{0, 0}},
			{orb.Point{b.Max[0], b.Min[1]}, orb.Point{4096, 4096}},
		} {
			got := tb.project(c.ll)
			if math.Abs(got[0]-c.want[0]) > 1e-6 || math.Abs(got[1]-c.want[1]) > 1e-6 {
				t.Errorf("tile %v: %v projects to %v, want %v", tile, c.ll, got, c.want)
			}
		}
		// The search bound holds the tile and its buffer.
		q := tb.wgs84Bound()
		if !q.Contains(b.Min) || !q.Contains(b.Max) || q.Contains(orb.Point{b.Min[0] - (b.Max[0]-b.Min[0])/32, b.Center()[1]}) {
			t.Errorf("tile %v: search bound %v, tile %v", tile, q, b)
		}
	}
}

// The series project uses near a tile's latitude gives the exact Mercator
// ordinate to well under a unit wherever it is used, at every zoom and
// latitude it is used at; and far from the tile, project is exact.
func TestProjectSeries(t *testing.T) {
	exact := func(tb *tileBuilder, lat float64) float64 {
		sin := math.Sin(lat * math.Pi / 180)
		return (0.5-math.Log((1+sin)/(1-sin))/(4*math.Pi))*tb.scale - tb.ty
	}
	for _, lat := range []float64{0, 22.3, -33.4, 45, 59.9, -59.9, 70} {
		for _, z := range []maptile.Zoom{0, 6, 10, 12, 14, 16, 18, 22, 30} {
			tile := maptile.At(orb.Point{114.17, lat}, z)
			tb := newTileBuilder(tile, 4096, 64)
			used := 0
			// Latitudes up to 2 degrees away, in steps that cross the
			// series' radius, wherever it is.
			for i := -2000; i <= 2000; i++ {
				ll := orb.Point{114.17, lat + float64(i)/1000}
				if _, ok := tb.merc.at(ll[1]); ok {
					used++
				}
				got, want := tb.project(ll)[1], exact(tb, ll[1])
				// Beyond 1e-4, what float64 can tell apart at the scale
				// of the deepest zooms.
				if d := math.Abs(got - want); d > 1e-4+1e-15*tb.scale {
					t.Fatalf("z%d, tile at %v: latitude %v projects to y %v, exactly %v (%g units off)", z, lat, ll[1], got, want, d)
				}
			}
			// A tile of zoom 10 is some 0.3 degrees high: the points
			// near it take the series.
			if used == 0 && math.Abs(lat) <= 60 && z >= 10 {
				t.Errorf("z%d, latitude %v: the series was never used", z, lat)
			}
		}
	}
}

// MVT has no collections: each member becomes a feature with the same id.
func TestBuildTileCollection(t *testing.T) {
	tile := maptile.At(pier, 15)
	l := catalog.NewLayer(catalog.LayerInfo{ID: "c"}, []geo.Feature{{ID: 4, Geometry: orb.Collection{
		pier, orb.LineString{pier, {pier[0] + 0.001, pier[1]}},
	}}})
	out, err := buildTile(context.Background(), []*catalog.Layer{l}, tile, 4096, 64)
	if err != nil {
		t.Fatal(err)
	}
	vt := decodeTile(t, out)
	if len(vt.Layers) != 1 || len(vt.Layers[0].Features) != 2 {
		t.Fatalf("tile %v, want two features", vt)
	}
	for i, typ := range []int32{1, 2} {
		if f := vt.Layers[0].Features[i]; f.GetId() != 4 || int32(f.GetType()) != typ {
			t.Errorf("feature %d: id %d type %v, want 4 and %d", i, f.GetId(), f.GetType(), typ)
		}
	}
}

func TestBuildTileCancelled(t *testing.T) {
	l := catalog.NewLayer(catalog.LayerInfo{ID: "b"}, randomBuildings(1000))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := buildTile(ctx, []*catalog.Layer{l}, maptile.At(orb.Point{114.2, 22.3}, 10), 4096, 64)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
}
