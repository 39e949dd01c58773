package tiles

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/clip"
	"github.com/paulmach/orb/maptile"
	"github.com/paulmach/orb/planar"
	"github.com/paulmach/orb/simplify"
)

func rect(x0, y0, x1, y1 float64) orb.Ring {
	return orb.Ring{{x0, y0}, {x1, y0}, {x1, y1}, {x0, y1}, {x0, y0}}
}

// TestClipPolygon clips shapes whose part inside the box is easy to work out
// by hand, and checks the result is valid: no ring without area, exteriors
// positive, holes negative and inside their exterior, and no edge along the
// border that is not inside the polygon (the zero-width slivers that
// Sutherland-Hodgman leaves when a polygon leaves the box and comes back).
func TestClipPolygon(t *testing.T) {
	box := orb.Bound{Min: orb.Point{0, 0}, Max: orb.Point{10, 10}}
	tests := []struct {
		name     string
		p        orb.Polygon
		area     float64
		polygons int
		rings    int
	}{
		{"inside", orb.Polygon{rect(2, 2, 8, 8)}, 36, 1, 1},
		{"outside", orb.Polygon{rect(12, 2, 18, 8)}, 0, 0, 0},
		{"covers the box", orb.Polygon{rect(-5, -5, 15, 15)}, 100, 1, 1},
		{"hole covers the box", orb.Polygon{rect(-10, -10, 20, 20), rect(-5, -5, 15, 15)}, 0, 0, 0},
		{"hole inside, shell around", orb.Polygon{rect(-5, -5, 15, 15), rect(4, 4, 6, 6)}, 96, 1, 2},
		{"hole outside, shell around", orb.Polygon{rect(-5, -5, 25, 15), rect(12, 4, 14, 6)}, 100, 1, 1},
		{"overlaps a corner", orb.Polygon{rect(5, 5, 15, 15)}, 25, 1, 1},
		{"hole crosses the border", orb.Polygon{rect(-5, 2, 15, 8), rect(8, 4, 12, 6)}, 56, 1, 1},
		{"cuts a corner with no vertex inside", orb.Polygon{{{-5, 15}, {-5, -5}, {15, -5}, {-5, 15}}}, 50, 1, 1},
		{"U opening inward: two pieces", orb.Polygon{{{5, 1}, {14, 1}, {14, 9}, {5, 9}, {5, 7}, {12, 7}, {12, 3}, {5, 3}, {5, 1}}}, 20, 2, 2},
		{"U opening outward: one piece", orb.Polygon{{{5, 1}, {15, 1}, {15, 3}, {7, 3}, {7, 7}, {15, 7}, {15, 9}, {5, 9}, {5, 1}}}, 2*8 + 3*2 + 3*2, 1, 1},
		{"comb through two sides", orb.Polygon{{
			{2, -5}, {3, -5}, {3, 12}, {5, 12}, {5, -5}, {6, -5}, {6, 12}, {8, 12}, {8, -5}, {9, -5}, {9, 15}, {2, 15}, {2, -5},
		}}, 3 * 10, 3, 3},
		{"teeth through the top only", orb.Polygon{{
			{1, -5}, {9, -5}, {9, 4}, {8, 4}, {8, -2}, {6, -2}, {6, 4}, {4, 4}, {4, -2}, {2, -2}, {2, 4}, {1, 4}, {1, -5},
		}}, 4 + 8 + 4, 3, 3},
		{"vertex on the border, inside", orb.Polygon{{{2, 2}, {10, 5}, {2, 8}, {2, 2}}}, 24, 1, 1},
		{"edge on the border, inside", orb.Polygon{rect(5, 2, 10, 8)}, 30, 1, 1},
		{"vertex on the border, outside", orb.Polygon{{{10, 5}, {15, 2}, {15, 8}, {10, 5}}}, 0, 0, 0},
		{"edge on the border, outside", orb.Polygon{rect(10, 2, 15, 8)}, 0, 0, 0},
		{"same outline as the box", orb.Polygon{rect(0, 0, 10, 10)}, 100, 1, 1},
		{"hole touching the border from inside", orb.Polygon{rect(-5, -5, 15, 15), {{10, 5}, {7, 3}, {7, 7}, {10, 5}}}, 100 - 6, 1, 2},
	}
	for _, tt := range tests {
		for _, reversed := range []bool{false, true} {
			name := tt.name
			p := orb.Polygon{}
			for _, r := range tt.p {
				r = append(orb.Ring(nil), r...)
				if reversed {
					name = tt.name + " (rings reversed)"
					for i, j := 0, len(r)-1; i < j; i, j = i+1, j-1 {
						r[i], r[j] = r[j], r[i]
					}
				}
				p = append(p, r)
			}
			t.Run(name, func(t *testing.T) {
				mp := clipPolygon(box, orient(p))
				checkClipped(t, box, tt.p, mp)
				// Count what rounding would keep: moving the box off the
				// vertices can leave slivers of a millionth.
				polygons, rings := 0, 0
				for _, q := range mp {
					if signedArea(q[0]) > 1e-4 {
						polygons++
					}
					for _, r := range q {
						if math.Abs(signedArea(r)) > 1e-4 {
							rings++
						}
					}
				}
				if got := planar.Area(mp); math.Abs(got-tt.area) > 1e-4 {
					t.Errorf("area %g, want %g: %v", got, tt.area, mp)
				}
				if polygons != tt.polygons || rings != tt.rings {
					t.Errorf("%d polygons, %d rings; want %d, %d: %v", polygons, rings, tt.polygons, tt.rings, mp)
				}
			})
		}
	}
}

// checkClipped checks that mp is a valid clip of p to box.
func checkClipped(t *testing.T, box orb.Bound, p orb.Polygon, mp orb.MultiPolygon) {
	t.Helper()
	// The box moves by up to a millionth to avoid vertices on its border.
	const eps = 1e-5
	grown := box.Pad(eps)
	for _, q := range mp {
		for i, r := range q {
			a := signedArea(r)
			if i == 0 && a <= 0 || i > 0 && a >= 0 {
				t.Errorf("ring %d of a polygon has area %g: %v", i, a, r)
			}
			if i > 0 && !planar.RingContains(q[0], r[0]) && !onRing(q[0], r[0], eps) {
				t.Errorf("hole %v outside its exterior %v", r, q[0])
			}
			for j := 0; j+1 < len(r); j++ {
				a, b := r[j], r[j+1]
				if !grown.Contains(a) {
					t.Errorf("point %v outside the box", a)
				}
				if a == b {
					t.Errorf("repeated point %v in %v", a, r)
				}
				if !onBorder(box, a, b, eps) {
					continue
				}
				// An edge along the border must be the border of the polygon's
				// inside: its middle is inside p.
				mid := orb.Point{(a[0] + b[0]) / 2, (a[1] + b[1]) / 2}
				if !planar.PolygonContains(p, mid) && !onPolygon(p, mid, eps) {
					t.Errorf("edge %v-%v runs along the border outside the polygon (a sliver)", a, b)
				}
			}
		}
	}
}

func onBorder(box orb.Bound, a, b orb.Point, eps float64) bool {
	near := func(u, v float64) bool { return math.Abs(u-v) < eps }
	return near(a[0], box.Min[0]) && near(b[0], box.Min[0]) || near(a[0], box.Max[0]) && near(b[0], box.Max[0]) ||
		near(a[1], box.Min[1]) && near(b[1], box.Min[1]) || near(a[1], box.Max[1]) && near(b[1], box.Max[1])
}

func onRing(r orb.Ring, p orb.Point, eps float64) bool {
	return planar.DistanceFrom(orb.LineString(r), p) < eps
}

func onPolygon(p orb.Polygon, pt orb.Point, eps float64) bool {
	for _, r := range p {
		if onRing(r, pt, eps) {
			return true
		}
	}
	return false
}

// TestClipPolygonRandom clips random star-shaped polygons, concave and
// crossing the border many times, and compares the area with a Monte Carlo
// estimate that needs no clipping at all.
func TestClipPolygonRandom(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	box := orb.Bound{Min: orb.Point{0, 0}, Max: orb.Point{10, 10}}
	for n := range 100 {
		c := orb.Point{rng.Float64()*16 - 3, rng.Float64()*16 - 3}
		var r orb.Ring
		k := 5 + rng.IntN(30)
		for i := range k {
			a := 2 * math.Pi * float64(i) / float64(k)
			d := 1 + rng.Float64()*9
			r = append(r, orb.Point{c[0] + d*math.Cos(a), c[1] + d*math.Sin(a)})
		}
		r = append(r, r[0])
		p := orient(orb.Polygon{r})
		mp := clipPolygon(box, p)
		checkClipped(t, box, p, mp)

		// Sample on a grid of cell centres: the error is about the
		// perimeter times the cell size.
		const cells = 200
		in := 0
		for i := range cells {
			for j := range cells {
				pt := orb.Point{(float64(i) + 0.5) * 10 / cells, (float64(j) + 0.5) * 10 / cells}
				if planar.RingContains(r, pt) {
					in++
				}
			}
		}
		want := float64(in) * 100 / cells / cells
		if got := planar.Area(mp); math.Abs(got-want) > 0.3 {
			t.Fatalf("polygon %d %v: clipped area %g, sampled %g\nclipped: %v", n, r, got, want, mp)
		}
	}
}

// TestClipLineMatchesOrb checks appendClipLine against orb/clip.LineString,
// which it replaces: the same parts with the same points, for hand-made
// cases at the border and corners and for random lines, with points already
// in dst that must stay as they were.
func TestClipLineMatchesOrb(t *testing.T) {
	box := orb.Bound{Min: orb.Point{0, 0}, Max: orb.Point{10, 10}}
	tests := []struct {
		name string
		ls   orb.LineString
	}{
		{"empty", nil},
		{"one point inside", orb.LineString{{5, 5}}},
		{"inside", orb.LineString{{1, 1}, {5, 5}, {9, 2}}},
		{"outside", orb.LineString{{-5, -5}, {-1, 20}}},
		{"through", orb.LineString{{-5, 5}, {15, 5}}},
		{"leaves and re-enters", orb.LineString{{1, 5}, {15, 5}, {15, 6}, {1, 6}}},
		{"cuts a corner", orb.LineString{{-1, 5}, {5, -1}}},
		{"along the border", orb.LineString{{0, 0}, {10, 0}, {10, 10}}},
		{"ends on the border", orb.LineString{{5, 5}, {10, 5}}},
		{"starts outside, ends inside", orb.LineString{{-5, 5}, {5, 5}, {6, 6}}},
		{"in, out, in, out", orb.LineString{{5, 5}, {20, 5}, {5, 6}, {20, 6}}},
	}
	rng := rand.New(rand.NewPCG(7, 11))
	for i := range 200 {
		ls := make(orb.LineString, 2+rng.IntN(20))
		for j := range ls {
			ls[j] = orb.Point{rng.Float64()*30 - 10, rng.Float64()*30 - 10}
		}
		tests = append(tests, struct {
			name string
			ls   orb.LineString
		}{fmt.Sprintf("random %d", i), ls})
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			want := clip.LineString(box, tc.ls)
			prefix := []orb.Point{{-1, -1}, {-2, -2}}
			dst, ends := appendClipLine(box, slices.Clone(prefix), tc.ls, nil)
			if !slices.Equal(dst[:len(prefix)], prefix) {
				t.Fatalf("points before the parts changed: %v", dst[:len(prefix)])
			}
			var got orb.MultiLineString
			from := len(prefix)
			for _, to := range ends {
				got = append(got, orb.LineString(dst[from:to]))
				from = to
			}
			if from != len(dst) {
				t.Fatalf("%d points after the last part", len(dst)-from)
			}
			if len(got) != len(want) {
				t.Fatalf("got %d parts %v, want %d %v", len(got), got, len(want), want)
			}
			for i := range want {
				if !slices.Equal(got[i], want[i]) {
					t.Errorf("part %d: got %v, want %v", i, got[i], want[i])
				}
			}
		})
	}
}

// Lines are projected only where their segments come near the tile
// (lineStrings); the parts are the same as from projecting and clipping
// the whole line.
func TestLineRunsMatchWholeLine(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	tile := maptile.At(orb.Point{114.17, 22.31}, 16)
	center := tile.Center()
	crossing := 0
	for i := range 500 {
		// A road of 10 to 60 vertices, 15 to 60 m apart, wandering
		// through or past the tile.
		ls := orb.LineString{{center[0] + (r.Float64()-0.5)*0.015, center[1] + (r.Float64()-0.5)*0.015}}
		dir := r.Float64() * 2 * math.Pi
		for range 10 + r.IntN(50) {
			dir += (r.Float64() - 0.5) * 1.5
			step := (15 + r.Float64()*45) / 111000
			p := ls[len(ls)-1]
			ls = append(ls, orb.Point{p[0] + step*math.Cos(dir), p[1] + step*math.Sin(dir)})
		}
		tb, whole := newTileBuilder(tile, 4096, 64), newTileBuilder(tile, 4096, 64)
		got := tb.lineStrings(ls)
		var want orb.MultiLineString
		if b := whole.tileBound(ls.Bound()); b.Intersects(whole.box) && !collapses(b, false) {
			want = whole.clipLine(nil, whole.projectLine(ls))
		}
		if len(got) != len(want) {
			t.Fatalf("line %d: %d parts, want %d", i, len(got), len(want))
		}
		if len(want) > 0 && !insideBox(whole.box, whole.tileBound(ls.Bound())) {
			crossing++
		}
		for k := range got {
			if !slices.Equal(got[k], want[k]) {
				t.Fatalf("line %d part %d: %v, want %v", i, k, got[k], want[k])
			}
		}
	}
	if crossing < 50 {
		t.Errorf("%d of 500 lines cross the tile's edge: too few to test", crossing)
	}
}

// simplify keeps the points orb/simplify's Douglas-Peucker keeps, on lines
// with collinear runs, repeated points, closed rings and points spread from
// far under to far over the tolerance.
func TestSimplifyMatchesOrb(t *testing.T) {
	rng := rand.New(rand.NewPCG(4, 2))
	tb := newTileBuilder(maptile.New(0, 0, 16), 4096, 64)
	for i := range 2000 {
		n := 2 + rng.IntN(40)
		ls := make(orb.LineString, n)
		spread := math.Pow(10, rng.Float64()*4-2)
		for j := range ls {
			switch {
			case j > 0 && rng.IntN(8) == 0:
				ls[j] = ls[j-1] // a repeat
			case j > 1 && rng.IntN(6) == 0:
				ls[j] = orb.Point{2*ls[j-1][0] - ls[j-2][0], 2*ls[j-1][1] - ls[j-2][1]} // collinear
			case i%2 == 0: // going back and forth
				ls[j] = orb.Point{rng.NormFloat64() * spread, rng.NormFloat64() * spread}
			default:
				ls[j] = orb.Point{float64(j) * spread, rng.NormFloat64() * spread}
			}
		}
		if i%3 == 0 {
			ls[n-1] = ls[0]
		}
		want := simplify.DouglasPeucker(tb.tol).LineString(slices.Clone(ls))
		if got := tb.simplify(slices.Clone(ls)); !slices.Equal(got, []orb.Point(want)) {
			t.Fatalf("line %v: simplified to %v, orb keeps %v", ls, got, want)
		}
	}
}
