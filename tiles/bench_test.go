package tiles

import (
	"cmp"
	"context"
	"fmt"
	"iter"
	"math"
	"math/rand/v2"
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/maptile"
	"github.com/paulmach/orb/maptile/tilecover"

	"github.com/csdi-hk/csdi/catalog"
	"github.com/csdi-hk/csdi/geo"
	"github.com/csdi-hk/csdi/internal/loadtest"
	"github.com/csdi-hk/csdi/internal/synth"
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

// coreLayers are the layers of BenchmarkVsPostGIS, built in memory at the
// scale of CSDI_BENCH_SCALE (default 1), so that the cost of its dense tiles
// can be profiled without PostGIS or HTTP.
func coreLayers(b *testing.B) []*catalog.Layer {
	scale, _ := loadtest.Knobs(b)
	const seed = 2026 // benchSeed of BenchmarkVsPostGIS
	seqs := []struct {
		id  string
		seq iter.Seq2[geo.Feature, error]
	}{
		{"buildings", synth.Buildings(seed, int(500_000*scale))},
		{"points", synth.Points(seed, int(200_000*scale))},
		{"roads", synth.Roads(seed, int(50_000*scale))},
	}
	var layers []*catalog.Layer
	for _, s := range seqs {
		feats, err := synth.Collect(s.seq)
		if err != nil {
			b.Fatal(err)
		}
		layers = append(layers, catalog.NewLayer(catalog.LayerInfo{ID: s.id}, feats))
	}
	return layers
}

// BenchmarkCoreTiles builds and gzips, in turn, the composite tiles of
// BenchmarkVsPostGIS over the dense core, without HTTP: the engine's own
// cost, per tile.
func BenchmarkCoreTiles(b *testing.B) {
	layers := coreLayers(b)
	ctx := context.Background()
	for _, z := range []maptile.Zoom{12, 14, 16} {
		var ts []maptile.Tile
		for t := range tilecover.Bound(synth.Core, z) {
			ts = append(ts, t)
		}
		slices.SortFunc(ts, func(a, b maptile.Tile) int { return cmp.Or(cmp.Compare(a.Y, b.Y), cmp.Compare(a.X, b.X)) })
		b.Run(fmt.Sprintf("z%d", z), func(b *testing.B) {
			var gz gzipPool
			var bd builder
			var raw, zipped, n int
			// CPU time as well as wall time: on a shared machine the
			// wall time says more about the neighbours.
			cpu0 := cpuTime(b)
			for i := 0; b.Loop(); i++ {
				// One builder, as the handler's pool gives each build.
				out, err := bd.build(ctx, bd.out[:0], layers, ts[i%len(ts)], 4096, 64)
				if err != nil {
					b.Fatal(err)
				}
				bd.out = out
				z, err := gz.compress(out)
				if err != nil {
					b.Fatal(err)
				}
				raw += len(out)
				zipped += len(z)
				n++
			}
			b.ReportMetric(float64((cpuTime(b)-cpu0).Microseconds())/1000/float64(n), "cpu-ms/tile")
			b.ReportMetric(float64(raw)/float64(n), "B/tile")
			b.ReportMetric(float64(zipped)/float64(n), "gzB/tile")
		})
	}
}

// cpuTime is the CPU time this process has used, the collector's included.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
