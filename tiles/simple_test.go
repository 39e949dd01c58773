package tiles

import (
	"fmt"
	"slices"
	"testing"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/mvt"
	"github.com/paulmach/orb/maptile"

	"github.com/csdi-hk/csdi/catalog"
)

func TestRemoveSpikes(t *testing.T) {
	tests := []struct {
		name     string
		in, want []ipoint
	}{
		{"simple square kept", []ipoint{{0, 0}, {4, 0}, {4, 4}, {0, 4}}, []ipoint{{0, 0}, {4, 0}, {4, 4}, {0, 4}}},
		{"straight-on vertex kept", []ipoint{{0, 0}, {2, 0}, {4, 0}, {4, 4}, {0, 4}}, []ipoint{{0, 0}, {2, 0}, {4, 0}, {4, 4}, {0, 4}}},
		{"spike out of an edge", []ipoint{{0, 0}, {4, 0}, {4, 4}, {4, 9}, {4, 4}, {0, 4}}, []ipoint{{0, 0}, {4, 0}, {4, 4}, {0, 4}}},
		{"spike back over an edge", []ipoint{{0, 0}, {4, 0}, {4, 4}, {4, 2}, {0, 4}}, []ipoint{{0, 0}, {4, 0}, {4, 2}, {0, 4}}},
		{"spike across the start", []ipoint{{4, 9}, {4, 4}, {0, 4}, {0, 0}, {4, 0}, {4, 4}}, []ipoint{{4, 4}, {0, 4}, {0, 0}, {4, 0}}},
		{"all along one line", []ipoint{{0, 0}, {4, 0}, {2, 0}}, []ipoint{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := removeSpikes(slices.Clone(tt.in))
			if len(got) < 3 {
				got = []ipoint{}
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("removeSpikes(%v) = %v, want %v", tt.in, got, tt.want)
			}
		})
	}
}

// A ring that touches itself is cut into loops at the vertex where it does.
func TestLoops(t *testing.T) {
	e := newLayerEncoder("l", 4096)
	// The notch case of TestTilePolygonsSimple: 1188,4160 lies on the
	// last edge.
	ring := []ipoint{{1177, 4160}, {1177, 4152}, {1188, 4151}, {1188, 4160}, {1209, 4159}, {1209, 4150}, {1224, 4150}, {1225, 4160}}
	e.loops(ring)
	var got [][]ipoint
	for k := range e.loopEnd {
		got = append(got, e.loopAt(k))
	}
	want := [][]ipoint{
		{{1188, 4160}, {1209, 4159}, {1209, 4150}, {1224, 4150}, {1225, 4160}},
		{{1177, 4160}, {1177, 4152}, {1188, 4151}, {1188, 4160}},
	}
	if !slices.EqualFunc(got, want, slices.Equal) {
		t.Errorf("loops %v, want %v", got, want)
	}
}

func TestAppendHull(t *testing.T) {
	// The prongs of a small U crossing after rounding.
	in := []ipoint{{2717, 3850}, {2716, 3847}, {2718, 3849}, {2717, 3846}, {2718, 3850}}
	if !crossesItself(in) {
		t.Fatalf("%v should cross itself", in)
	}
	got := appendHull(nil, in)
	want := []ipoint{{2716, 3847}, {2717, 3846}, {2718, 3849}, {2718, 3850}, {2717, 3850}}
	if !slices.Equal(got, want) {
		t.Errorf("hull %v, want %v", got, want)
	}
	if crossesItself(got) {
		t.Errorf("hull %v crosses itself", got)
	}
}

// FuzzRingRepair encodes a simple polygon made of the input, near the clip
// box's border and a few units across (where rounding folds, touches and
// crosses rings, and where the encoder checks them),
// decodes it with orb's MVT decoder and checks every ring: closed, at least
// three distinct points, non-zero area, exteriors positive (clockwise with
// y down) and holes negative, and no two edges meeting but neighbours at
// their shared vertex.
func FuzzRingRepair(f *testing.F) {
	f.Add([]byte{0, 0, 40, 0, 40, 40, 27, 40, 27, 10, 13, 10, 13, 40, 0, 40})
	f.Add([]byte{0, 200, 30, 201, 30, 220, 10, 221, 10, 205, 5, 230})
	f.Add([]byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12})
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) < 6 || len(data) > 400 {
			return
		}
		// Each byte pair is a vertex: twentieths of a unit, around the
		// bottom border (4160 with a buffer of 64). So every ring is
		// under a pixel (16 units) across, where the encoder checks.
		var ring orb.Ring
		for i := 0; i+1 < len(data); i += 2 {
			ring = append(ring, orb.Point{1000 + float64(data[i])/20, 4160 - 10 + float64(data[i+1])/20})
		}
		ring = append(ring, ring[0])
		// Only rounding is to be repaired: the input must be simple.
		if ringProblem(ring, signedArea(ring) > 0) != "" {
			return
		}
		tb := newTileBuilder(maptile.New(0, 0, 0), 4096, 64)
		e := newLayerEncoder("l", 4096)
		e.setClipBox(4096, 64)
		var clipped orb.MultiPolygon
		if p := orient(orb.Polygon{ring}); p != nil {
			clipped = tb.clip.polygon(tb.box, p)
		}
		if !e.add(1, clipped, catalog.Tags{}) {
			return
		}
		layers, err := mvt.Unmarshal(e.appendLayer(nil))
		if err != nil {
			t.Fatal(err)
		}
		for _, feat := range layers[0].Features {
			var polys orb.MultiPolygon
			switch g := feat.Geometry.(type) {
			case orb.Polygon:
				polys = orb.MultiPolygon{g}
			case orb.MultiPolygon:
				polys = g
			default:
				t.Fatalf("decoded a %T", g)
			}
			for _, p := range polys {
				for i, r := range p {
					if err := ringProblem(r, i == 0); err != "" {
						t.Fatalf("ring %d of %v: %s (input %v)", i, p, err, ring)
					}
				}
			}
		}
	})
}

// ringProblem checks one decoded ring, independently of simple.go.
func ringProblem(r orb.Ring, exterior bool) string {
	if len(r) < 4 || r[0] != r[len(r)-1] {
		return "not closed or under three points"
	}
	var a float64
	for i := 0; i+1 < len(r); i++ {
		a += r[i][0]*r[i+1][1] - r[i+1][0]*r[i][1]
	}
	// orb's decoder gives y down as the tile has it.
	if a == 0 || (a > 0) != exterior {
		return fmt.Sprintf("area %v for an exterior %v", a/2, exterior)
	}
	n := len(r) - 1
	cross := func(o, p, q orb.Point) float64 { return (p[0]-o[0])*(q[1]-o[1]) - (p[1]-o[1])*(q[0]-o[0]) }
	on := func(p, q, x orb.Point) bool {
		return cross(p, q, x) == 0 && min(p[0], q[0]) <= x[0] && x[0] <= max(p[0], q[0]) && min(p[1], q[1]) <= x[1] && x[1] <= max(p[1], q[1])
	}
	for i := range n {
		for j := i + 1; j < n; j++ {
			a, b, c, d := r[i], r[i+1], r[j], r[j+1]
			if j == i+1 || i == 0 && j == n-1 {
				// Neighbours share a vertex and must not fold back on it.
				v, p, q := b, a, d
				if i == 0 && j == n-1 {
					v, p, q = a, b, c
				}
				if cross(v, p, q) == 0 && (p[0]-v[0])*(q[0]-v[0])+(p[1]-v[1])*(q[1]-v[1]) > 0 {
					return fmt.Sprintf("folds back at %v", v)
				}
				continue
			}
			if cross(a, b, c)*cross(a, b, d) < 0 && cross(c, d, a)*cross(c, d, b) < 0 ||
				on(a, b, c) || on(a, b, d) || on(c, d, a) || on(c, d, b) {
				return fmt.Sprintf("edges %v-%v and %v-%v meet", a, b, c, d)
			}
		}
	}
	return ""
}
