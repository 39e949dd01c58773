package tiles

import (
	"slices"
	"testing"
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
