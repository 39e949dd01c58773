package synth_test

import (
	"iter"
	"math"
	"reflect"
	"testing"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/maptile"

	"github.com/csdi-hk/csdi/geo"
	"github.com/csdi-hk/csdi/internal/synth"
)

func coastline(seed uint64, n int) iter.Seq2[geo.Feature, error] {
	return func(yield func(geo.Feature, error) bool) { yield(synth.Coastline(seed, n), nil) }
}

var generators = []struct {
	name string
	gen  func(seed uint64, n int) iter.Seq2[geo.Feature, error]
	n    int
}{
	{"buildings", synth.Buildings, 2000},
	{"points", synth.Points, 2000},
	{"roads", synth.Roads, 500},
	{"estates", synth.Estates, 200},
	{"coastline", coastline, 3000}, // n is its vertex count
}

func collect(t *testing.T, seq iter.Seq2[geo.Feature, error]) []geo.Feature {
	t.Helper()
	fs, err := synth.Collect(seq)
	if err != nil {
		t.Fatal(err)
	}
	return fs
}

func TestDeterministic(t *testing.T) {
	for _, g := range generators {
		t.Run(g.name, func(t *testing.T) {
			seq := g.gen(7, g.n)
			a, b := collect(t, seq), collect(t, g.gen(7, g.n))
			if !reflect.DeepEqual(a, b) {
				t.Fatal("two runs with seed 7 differ")
			}
			// A sequence is ranged over again by whoever stores it twice.
			if again := collect(t, seq); !reflect.DeepEqual(a, again) {
				t.Fatal("ranging over the same sequence twice gives different features")
			}
			if other := collect(t, g.gen(8, g.n)); reflect.DeepEqual(a, other) {
				t.Fatal("seeds 7 and 8 give the same features")
			}
			for i, f := range a {
				if f.ID != uint64(i+1) {
					t.Fatalf("feature %d has id %d, want %d", i, f.ID, i+1)
				}
				if id, _ := f.Properties["id"].(int64); id != int64(f.ID) {
					t.Fatalf("feature %d: property id %v", f.ID, f.Properties["id"])
				}
			}
		})
	}
}

func TestCounts(t *testing.T) {
	for _, g := range generators {
		if g.name == "coastline" {
			continue
		}
		for _, n := range []int{0, 1, 17} {
			if got := len(collect(t, g.gen(1, n))); got != n {
				t.Errorf("%s(1, %d) gave %d features", g.name, n, got)
			}
		}
	}
	// Stopping early must stop the generator.
	for range synth.Buildings(1, 10) {
		break
	}
}

// metres is the size of a bound in metres, roughly.
func metres(b orb.Bound) (w, h float64) {
	return (b.Max[0] - b.Min[0]) * 102_990, (b.Max[1] - b.Min[1]) * 110_760
}

func TestBuildings(t *testing.T) {
	fs := collect(t, synth.Buildings(3, 5000))
	inCore := 0
	for _, f := range fs {
		p := f.Geometry.(orb.Polygon)
		if n := len(p[0]) - 1; n < 4 || n > 8 {
			t.Errorf("building %d has %d vertices", f.ID, n)
		}
		// The footprint is 10-60 m a side before rotation, so its diagonal
		// is 14-85 m and its bound at least 10 m one way.
		w, h := metres(p.Bound())
		if d := math.Hypot(w, h); d < 10 || d > 2*85 || max(w, h) < 10 {
			t.Errorf("building %d spans %.1f by %.1f m", f.ID, w, h)
		}
		if synth.Core.Contains(p.Bound().Center()) {
			inCore++
		}
		for _, k := range []string{"id", "name_en", "name_tc", "usage"} {
			if _, ok := f.Properties[k].(string); !ok && k != "id" {
				t.Errorf("building %d: %s is %T", f.ID, k, f.Properties[k])
			}
		}
		if _, ok := f.Properties["height_m"].(float64); !ok {
			t.Errorf("building %d: height_m is %T", f.ID, f.Properties["height_m"])
		}
		for _, k := range []string{"floors", "year"} {
			if _, ok := f.Properties[k].(int64); !ok {
				t.Errorf("building %d: %s is %T", f.ID, k, f.Properties[k])
			}
		}
	}
	if frac := float64(inCore) / float64(len(fs)); frac < 0.6 {
		t.Errorf("%.0f%% of buildings in the dense core, want most", 100*frac)
	}
}

func TestRoads(t *testing.T) {
	for _, f := range collect(t, synth.Roads(3, 1000)) {
		ls := f.Geometry.(orb.LineString)
		if len(ls) < 10 || len(ls) > 60 {
			t.Errorf("road %d has %d vertices", f.ID, len(ls))
		}
		for i := 1; i < len(ls); i++ {
			if d := math.Hypot(metres(orb.Bound{Min: ls[i-1], Max: ls[i-1]}.Extend(ls[i]))); d < 14 || d > 61 {
				t.Errorf("road %d: segment %d is %.1f m", f.ID, i, d)
			}
		}
	}
}

// TestCoastline checks the large-geometry case is large: at z14 the outline
// must run through hundreds of tiles.
func TestCoastline(t *testing.T) {
	f := synth.Coastline(3, 500_000)
	r := f.Geometry.(orb.Polygon)[0]
	if len(r) != 500_001 {
		t.Fatalf("%d points, want 500,000 and the closing one", len(r))
	}
	for _, c := range []struct {
		z    maptile.Zoom
		want int
	}{{12, 25}, {14, 150}, {16, 600}} {
		tiles := map[maptile.Tile]bool{}
		for _, p := range r {
			tiles[maptile.At(p, c.z)] = true
		}
		if len(tiles) < c.want {
			t.Errorf("z%d: the outline runs through %d tiles, want at least %d", c.z, len(tiles), c.want)
		}
	}
}

// TestValid checks every polygon of a sample the slow way: rings closed and
// wound as documented, no two edges crossing or touching (in one ring or
// between rings) but neighbours at their shared vertex, holes inside the
// exterior.
func TestValid(t *testing.T) {
	var polys []geo.Feature
	polys = append(polys, collect(t, synth.Buildings(5, 2000))...)
	polys = append(polys, collect(t, synth.Estates(5, 300))...)
	polys = append(polys, synth.Coastline(5, 4000))
	for _, f := range polys {
		if err := valid(f.Geometry.(orb.Polygon)); err != "" {
			t.Errorf("polygon %d (%d rings, %d points): %s", f.ID, len(f.Geometry.(orb.Polygon)), len(f.Geometry.(orb.Polygon)[0]), err)
		}
	}
}

// TestValidCatches makes sure the check above can fail.
func TestValidCatches(t *testing.T) {
	sq := orb.Ring{{0, 0}, {1, 0}, {1, 1}, {0, 1}, {0, 0}}
	for name, p := range map[string]orb.Polygon{
		"bow tie":        {{{0, 0}, {1, 1}, {1, 0}, {0, 1}, {0, 0}}},
		"clockwise":      {{{0, 0}, {0, 1}, {1, 1}, {1, 0}, {0, 0}}},
		"open":           {sq[:4]},
		"hole outside":   {sq, {{2, 2}, {2, 3}, {3, 3}, {3, 2}, {2, 2}}},
		"hole crossing":  {sq, {{0.5, 0.5}, {0.5, 2}, {2, 2}, {2, 0.5}, {0.5, 0.5}}},
		"hole touching":  {sq, {{0.5, 0.5}, {0.5, 1}, {0.8, 0.8}, {0.8, 0.5}, {0.5, 0.5}}},
		"spike":          {{{0, 0}, {2, 0}, {1, 0}, {1, 1}, {0, 0}}},
		"hole ccw":       {sq, {{0.2, 0.2}, {0.8, 0.2}, {0.8, 0.8}, {0.2, 0.8}, {0.2, 0.2}}},
		"repeated point": {{{0, 0}, {1, 0}, {1, 0}, {1, 1}, {0, 1}, {0, 0}}},
	} {
		if valid(p) == "" {
			t.Errorf("%s: not caught", name)
		}
	}
	if err := valid(orb.Polygon{sq, {{0.2, 0.2}, {0.2, 0.8}, {0.8, 0.8}, {0.8, 0.2}, {0.2, 0.2}}}); err != "" {
		t.Errorf("square with a hole: %s", err)
	}
}

func valid(p orb.Polygon) string {
	type seg struct {
		a, b       orb.Point
		ring, i, n int
	}
	var segs []seg
	for ri, r := range p {
		if len(r) < 4 || r[0] != r[len(r)-1] {
			return "ring not closed or under 4 points"
		}
		if a := area(r); (ri == 0) != (a > 0) {
			return "ring wound the wrong way"
		}
		for i := 0; i+1 < len(r); i++ {
			segs = append(segs, seg{r[i], r[i+1], ri, i, len(r) - 1})
		}
		if ri > 0 && !inRing(p[0], r[0]) {
			return "hole outside the exterior"
		}
	}
	for i, s := range segs {
		if s.a == s.b {
			return "zero-length edge"
		}
		for _, u := range segs[i+1:] {
			if s.ring == u.ring && (u.i == s.i+1 || s.i == 0 && u.i == s.n-1) {
				// Neighbours share vertex v; they must not fold back over
				// each other from it.
				v, p, q := s.b, s.a, u.b
				if s.i == 0 && u.i == s.n-1 {
					v, p, q = s.a, s.b, u.a
				}
				if orient(v, p, q) == 0 && (p[0]-v[0])*(q[0]-v[0])+(p[1]-v[1])*(q[1]-v[1]) > 0 {
					return "edges fold back on each other"
				}
				continue
			}
			if intersects(s.a, s.b, u.a, u.b) {
				return "edges cross or touch"
			}
		}
	}
	return ""
}

// area is the signed area; positive is counter-clockwise.
func area(r orb.Ring) float64 {
	var a float64
	for i := 0; i+1 < len(r); i++ {
		a += r[i][0]*r[i+1][1] - r[i+1][0]*r[i][1]
	}
	return a / 2
}

// orient is the sign of the turn a, b, c: 1 left, -1 right, 0 straight.
func orient(a, b, c orb.Point) int {
	switch v := (b[0]-a[0])*(c[1]-a[1]) - (b[1]-a[1])*(c[0]-a[0]); {
	case v > 0:
		return 1
	case v < 0:
		return -1
	}
	return 0
}

func onSegment(a, b, p orb.Point) bool {
	return min(a[0], b[0]) <= p[0] && p[0] <= max(a[0], b[0]) && min(a[1], b[1]) <= p[1] && p[1] <= max(a[1], b[1])
}

// intersects reports whether segments ab and cd share any point.
func intersects(a, b, c, d orb.Point) bool {
	o1, o2, o3, o4 := orient(a, b, c), orient(a, b, d), orient(c, d, a), orient(c, d, b)
	if o1*o2 < 0 && o3*o4 < 0 {
		return true
	}
	return o1 == 0 && onSegment(a, b, c) || o2 == 0 && onSegment(a, b, d) ||
		o3 == 0 && onSegment(c, d, a) || o4 == 0 && onSegment(c, d, b)
}

// inRing is the even-odd rule.
func inRing(r orb.Ring, p orb.Point) bool {
	in := false
	for i := 0; i+1 < len(r); i++ {
		a, b := r[i], r[i+1]
		if (a[1] > p[1]) != (b[1] > p[1]) && p[0] < a[0]+(p[1]-a[1])*(b[0]-a[0])/(b[1]-a[1]) {
			in = !in
		}
	}
	return in
}
