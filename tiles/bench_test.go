package tiles

import (
	"cmp"
	"context"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/maptile"
	"github.com/paulmach/orb/maptile/tilecover"

	"github.com/csdi-hk/csdi/catalog"
	"github.com/csdi-hk/csdi/geo"
)

// randomBuildings makes n building-like polygons, 10 to 40 m across with 4
// to 12 vertices, over Kowloon and the north of Hong Kong Island, from a
// fixed seed.
func randomBuildings(n int) []geo.Feature {
	rng := rand.New(rand.NewPCG(42, 1980))
	area := orb.Bound{Min: orb.Point{114.10, 22.25}, Max: orb.Point{114.30, 22.40}}
	kinds := []string{"residential", "commercial", "industrial", "government"}
	feats := make([]geo.Feature, n)
	for i := range feats {
		c := orb.Point{
			area.Min[0] + rng.Float64()*(area.Max[0]-area.Min[0]),
			area.Min[1] + rng.Float64()*(area.Max[1]-area.Min[1]),
		}
		k := 4 + rng.IntN(9)
		size := (10 + rng.Float64()*30) / 111_000 // degrees, roughly
		rot := rng.Float64() * 2 * math.Pi
		r := make(orb.Ring, 0, k+1)
		for j := range k {
			a := rot + 2*math.Pi*float64(j)/float64(k)
			d := size / 2 * (0.7 + 0.3*rng.Float64())
			r = append(r, orb.Point{c[0] + d*math.Cos(a), c[1] + d*math.Sin(a)})
		}
		r = append(r, r[0])
		feats[i] = geo.Feature{ID: uint64(i + 1), Geometry: orb.Polygon{r}, Properties: map[string]any{
			"kind": kinds[rng.IntN(len(kinds))], "floors": int64(1 + rng.IntN(60)), "height": rng.Float64() * 200,
		}}
	}
	return feats
}

// BenchmarkTileZ14 builds every z14 tile over 50,000 small polygons in turn
// (about 60 tiles, some 800 polygons each).
func BenchmarkTileZ14(b *testing.B) {
	feats := randomBuildings(50_000)
	l := catalog.NewLayer(catalog.LayerInfo{ID: "buildings"}, feats)
	cover, err := tilecover.Geometry(orb.Bound{Min: orb.Point{114.10, 22.25}, Max: orb.Point{114.30, 22.40}}, 14)
	if err != nil {
		b.Fatal(err)
	}
	tiles := make([]maptile.Tile, 0, len(cover))
	for t := range cover {
		tiles = append(tiles, t)
	}
	slices.SortFunc(tiles, func(a, b maptile.Tile) int { return cmp.Or(cmp.Compare(a.Y, b.Y), cmp.Compare(a.X, b.X)) })
	layers := []*catalog.Layer{l}
	ctx := context.Background()
	var bytes, n int
	for i := 0; b.Loop(); i++ {
		out, err := buildTile(ctx, layers, tiles[i%len(tiles)], 4096, 64)
		if err != nil {
			b.Fatal(err)
		}
		bytes += len(out)
		n++
	}
	b.ReportMetric(float64(bytes)/float64(n), "B/tile")
}
