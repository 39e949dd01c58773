package tiles

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/clip"
	"github.com/paulmach/orb/maptile"
	"github.com/paulmach/orb/maptile/tilecover"
	"github.com/paulmach/orb/simplify"

	"github.com/csdi-hk/csdi/catalog"
	"github.com/csdi-hk/csdi/geo"
	"github.com/csdi-hk/csdi/internal/synth"
)

// coastline is one valid polygon of n vertices some 60 by 44 km around the
// harbour (synth.Coastline: star-shaped about its centre, so simple).
func coastline(n int) geo.Feature { return synth.Coastline(7, n) }

// outlineTiles are the tiles at zoom z that the outline of p crosses, in
// row order.
func outlineTiles(tb testing.TB, p orb.Polygon, z maptile.Zoom) []maptile.Tile {
	tb.Helper()
	cover, err := tilecover.Geometry(orb.LineString(p[0]), z)
	if err != nil {
		tb.Fatal(err)
	}
	ts := make([]maptile.Tile, 0, len(cover))
	for t := range cover {
		ts = append(ts, t)
	}
	slices.SortFunc(ts, func(a, b maptile.Tile) int { return cmp.Or(cmp.Compare(a.Y, b.Y), cmp.Compare(a.X, b.X)) })
	return ts
}

// BenchmarkCoastline builds, in turn, the tiles that the outline of one
// 500,000-vertex polygon crosses; ns/op is per tile.
func BenchmarkCoastline(b *testing.B) {
	f := coastline(500_000)
	l := catalog.NewLayer(catalog.LayerInfo{ID: "coast", Version: 1}, []geo.Feature{f})
	layers := []*catalog.Layer{l}
	for _, z := range []maptile.Zoom{8, 10, 12, 14} {
		ts := outlineTiles(b, f.Geometry.(orb.Polygon), z)
		b.Run(fmt.Sprintf("z%d", z), func(b *testing.B) {
			ctx := context.Background()
			var bytes, n int
			for i := 0; b.Loop(); i++ {
				out, err := buildTile(ctx, layers, ts[i%len(ts)], 4096, 64)
				if err != nil {
					b.Fatal(err)
				}
				bytes += len(out)
				n++
			}
			b.ReportMetric(float64(len(ts)), "tiles")
			b.ReportMetric(float64(bytes)/float64(n), "B/tile")
		})
	}
}

// BenchmarkCoastlineGeometry compares, on the same tiles as
// BenchmarkCoastline, the geometry stage alone by the path for big rings
// and by the plain path (every vertex projected and clipped, as before it),
// run one after the other so that both see the same load.
func BenchmarkCoastlineGeometry(b *testing.B) {
	p := coastline(500_000).Geometry.(orb.Polygon)
	for _, z := range []maptile.Zoom{8, 10, 12, 14} {
		ts := outlineTiles(b, p, z)
		for _, path := range []struct {
			name string
			fn   func(*tileBuilder) orb.Geometry
		}{
			{"plain", func(tb *tileBuilder) orb.Geometry { return plainPolygon(tb, p) }},
			{"reduced", func(tb *tileBuilder) orb.Geometry { return tb.geometry(p) }},
		} {
			b.Run(fmt.Sprintf("z%d/%s", z, path.name), func(b *testing.B) {
				for i := 0; b.Loop(); i++ {
					path.fn(newTileBuilder(ts[i%len(ts)], 4096, 64))
				}
			})
		}
	}
}

// plainPolygon is the path of polygons of any size: project every vertex,
// orient, clip, simplify.
func plainPolygon(tb *tileBuilder, p orb.Polygon) orb.MultiPolygon {
	pp := make(orb.Polygon, len(p))
	for i, r := range p {
		pp[i] = orb.Ring(tb.projectLine(r))
	}
	if pp = orient(pp); pp == nil {
		return nil
	}
	var out orb.MultiPolygon
	for _, part := range clipPolygon(tb.box, pp) {
		out = append(out, simplify.DouglasPeucker(tb.tol).Polygon(part))
	}
	return out
}

func multiArea(g orb.Geometry) float64 {
	var a float64
	if mp, ok := g.(orb.MultiPolygon); ok {
		for _, p := range mp {
			for _, r := range p {
				a += signedArea(r)
			}
		}
	}
	return a
}

// The reduced path gives the area of the plain one, within 1% or a square
// pixel, on tiles the outline crosses, tiles inside and outside it, at
// every zoom; for a polygon with a long exterior and a long hole, each
// oriented either way.
func TestBigPolygonMatchesPlain(t *testing.T) {
	coast := coastline(60_000).Geometry.(orb.Polygon)[0]
	// A hole: the outline shrunk about its centre, wound the other way.
	c := orb.Point{114.15, 22.35}
	hole := make(orb.Ring, len(coast))
	for i, p := range coast {
		hole[len(coast)-1-i] = orb.Point{c[0] + 0.3*(p[0]-c[0]), c[1] + 0.3*(p[1]-c[1])}
	}
	reversed := slices.Clone(coast)
	slices.Reverse(reversed)
	tests := []struct {
		name string
		p    orb.Polygon
	}{
		{"exterior", orb.Polygon{coast}},
		{"exterior wound the other way", orb.Polygon{reversed}},
		{"with a hole", orb.Polygon{coast, hole}},
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !isBig(tt.p) {
				t.Fatal("test polygon too small for the big path")
			}
			checked, worst := 0, 0.0
			for z := maptile.Zoom(6); z <= 16; z++ {
				ts := outlineTiles(t, tt.p, z)
				// And some tiles near the outline, in or out of it.
				for range 5 {
					o := ts[rng.IntN(len(ts))]
					ts = append(ts, maptile.New(o.X+uint32(rng.IntN(5)), o.Y+uint32(rng.IntN(5)), z))
				}
				for range 12 {
					tile := ts[rng.IntN(len(ts))]
					tb := newTileBuilder(tile, 4096, 64)
					want := multiArea(plainPolygon(tb, tt.p))
					got := multiArea(tb.geometry(tt.p))
					d := math.Abs(got - want)
					if d > 256 && d > 0.01*math.Abs(want) {
						t.Errorf("tile %v: area %.1f, plain path %.1f", tile, got, want)
					}
					worst = max(worst, d)
					checked++
				}
			}
			t.Logf("%d tiles, largest difference %.1f square units", checked, worst)
		})
	}
}

// A long line, the outline opened, stays as close to the plain path's
// line as the two simplifications allow: each vertex of either, but near
// the buffer's border where a wiggle may leave the box on one side only,
// within 3 units (the radial pass, Douglas-Peucker's tolerance, slack) of
// the other.
func TestBigLineMatchesPlain(t *testing.T) {
	coast := coastline(60_000).Geometry.(orb.Polygon)[0]
	line := orb.LineString(coast[:len(coast)-1])
	rng := rand.New(rand.NewPCG(3, 4))
	// far checks sampled vertices of a against the segments of b.
	far := func(box orb.Bound, a, b orb.MultiLineString) (orb.Point, float64) {
		inner := box.Pad(-3)
		for range 200 {
			ls := a[rng.IntN(len(a))]
			p := ls[rng.IntN(len(ls))]
			if !inner.Contains(p) {
				continue
			}
			d := math.Inf(1)
			for _, ls := range b {
				for i := 0; i+1 < len(ls); i++ {
					d = math.Min(d, segDist(p, ls[i], ls[i+1]))
				}
			}
			if d > 3 {
				return p, d
			}
		}
		return orb.Point{}, 0
	}
	for z := maptile.Zoom(6); z <= 16; z++ {
		ts := outlineTiles(t, orb.Polygon{coast}, z)
		for range 6 {
			tile := ts[rng.IntN(len(ts))]
			// Two builders: what geometry returns lives in its builder's
			// scratch space.
			tb, plain := newTileBuilder(tile, 4096, 64), newTileBuilder(tile, 4096, 64)
			var want orb.MultiLineString
			for _, part := range clip.LineString(plain.box, plain.projectLine(line)) {
				want = append(want, simplify.DouglasPeucker(plain.tol).LineString(part))
			}
			got, _ := tb.geometry(line).(orb.MultiLineString)
			if len(got) == 0 || len(want) == 0 {
				t.Errorf("tile %v: %d parts, plain path %d", tile, len(got), len(want))
				continue
			}
			if p, d := far(tb.box, got, want); d > 0 {
				t.Errorf("tile %v: vertex %v is %.1f units from the plain path's line", tile, p, d)
			}
			if p, d := far(tb.box, want, got); d > 0 {
				t.Errorf("tile %v: the plain path's vertex %v is %.1f units from the line", tile, p, d)
			}
		}
	}
}
