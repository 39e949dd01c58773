package features

import (
	"net/url"
	"reflect"
	"testing"

	"github.com/paulmach/orb"
)

func TestParseBBox(t *testing.T) {
	box := func(w, s, e, n float64) orb.Bound { return orb.Bound{Min: orb.Point{w, s}, Max: orb.Point{e, n}} }
	for _, tc := range []struct {
		in   string
		want []orb.Bound // nil: 400
	}{
		{"113.8,22.1,114.5,22.6", []orb.Bound{box(113.8, 22.1, 114.5, 22.6)}},
		{" 113.8, 22.1 ,114.5,22.6", []orb.Bound{box(113.8, 22.1, 114.5, 22.6)}},
		{"113.8,22.1,0,114.5,22.6,100", []orb.Bound{box(113.8, 22.1, 114.5, 22.6)}},
		{"177,65,-177,70", []orb.Bound{box(177, 65, 180, 70), box(-180, 65, -177, 70)}},
		{"-180,-90,180,90", []orb.Bound{box(-180, -90, 180, 90)}},
		{"1,1,1,1", []orb.Bound{box(1, 1, 1, 1)}},
		{"1e1,2,3e1,4", []orb.Bound{box(10, 2, 30, 4)}},
		{"", nil},
		{"1,2,3", nil},
		{"1,2,3,4,5", nil},
		{"1,2,3,4,5,6,7", nil},
		{"1,2,,4", nil},
		{"1,2,x,4", nil},
		{"1,2,Inf,4", nil},
		{"1,NaN,3,4", nil},
		{"1,5,3,4", nil},     // south above north
		{"1,2,9,3,4,5", nil}, // minimum height above maximum
		{"[1,2,3,4]", nil},   // JSON is not the encoding
		{"1;2;3;4", nil},
	} {
		got, err := parseBBox(tc.in)
		if tc.want == nil {
			if err == nil {
				t.Errorf("parseBBox(%q) = %v, want an error", tc.in, got)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("parseBBox(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
		}
	}
}

func TestParseLimit(t *testing.T) {
	for _, tc := range []struct {
		query string
		want  int // 0: 400
	}{
		{"", 10},
		{"limit=1", 1},
		{"limit=10000", 10000},
		{"limit=10001", 10000},
		{"limit=18446744073709551616", 10000},
		{"limit=0", 0},
		{"limit=-1", 0},
		{"limit=+5", 0},
		{"limit=5.0", 0},
		{"limit=unlimited", 0},
		{"limit=", 0},
		{"limit=1&limit=2", 0},
	} {
		q, err := url.ParseQuery(tc.query)
		if err != nil {
			t.Fatal(err)
		}
		got, err := parseLimit(q, 10, 10000)
		if tc.want == 0 {
			if err == nil {
				t.Errorf("%q: limit %d, want an error", tc.query, got)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("%q: limit %d, %v; want %d", tc.query, got, err, tc.want)
		}
	}
}
