package cql2

import (
	"fmt"
	"testing"

	"github.com/paulmach/orb"

	"github.com/csdi-hk/csdi/geo"
)

func TestBounds(t *testing.T) {
	box := func(w, s, e, n float64) orb.Bound { return orb.Bound{Min: orb.Point{w, s}, Max: orb.Point{e, n}} }
	for _, c := range []struct {
		filter string
		want   orb.Bound
		ok     bool
	}{
		{`S_INTERSECTS(geometry, BBOX(1, 2, 3, 4))`, box(1, 2, 3, 4), true},
		{`S_WITHIN(POINT(1 2), geometry)`, box(1, 2, 1, 2), true},
		{`S_CROSSES(geometry, LINESTRING(0 5, 2 1, 4 3))`, box(0, 1, 4, 5), true},
		{`S_INTERSECTS(geometry, BBOX(170, -10, -170, 10))`, box(-180, -10, 180, 10), true},
		{`S_DISJOINT(geometry, BBOX(1, 2, 3, 4))`, orb.Bound{}, false},
		{`NOT S_INTERSECTS(geometry, BBOX(1, 2, 3, 4))`, orb.Bound{}, false},
		{`n = 1`, orb.Bound{}, false},
		{`n = 1 AND S_TOUCHES(geometry, BBOX(1, 2, 3, 4))`, box(1, 2, 3, 4), true},
		{`S_INTERSECTS(geometry, BBOX(0, 0, 2, 2)) AND S_INTERSECTS(geometry, BBOX(1, 1, 3, 3))`, box(1, 1, 2, 2), true},
		{`S_INTERSECTS(geometry, BBOX(0, 0, 2, 2)) OR S_INTERSECTS(geometry, BBOX(1, 1, 3, 3))`, box(0, 0, 3, 3), true},
		{`S_INTERSECTS(geometry, BBOX(0, 0, 2, 2)) OR n = 1`, orb.Bound{}, false},
		{`(S_INTERSECTS(geometry, BBOX(0, 0, 2, 2)) OR n = 1) AND S_EQUALS(geometry, POINT(5 5))`, box(5, 5, 5, 5), true},
	} {
		e, err := ParseText(c.filter)
		if err != nil {
			t.Fatal(err)
		}
		if e, err = Resolve(e, []geo.Field{{Name: "n", Type: geo.Integer}}, nil); err != nil {
			t.Fatal(err)
		}
		got, ok := Bounds(e)
		if ok != c.ok || got != c.want {
			t.Errorf("Bounds(%s) = %v, %v; want %v, %v", c.filter, got, ok, c.want, c.ok)
		}
	}
}

// A filter in a projected CRS is converted by the caller's function;
// here a stand-in that shifts coordinates, so the test can see it ran.
func TestResolveConverts(t *testing.T) {
	shift := func(g orb.Geometry) (orb.Geometry, error) {
		p, ok := g.(orb.Polygon)
		if !ok {
			return nil, fmt.Errorf("not a polygon: %T", g)
		}
		out := orb.Polygon{orb.Ring{}}
		for _, pt := range p[0] {
			out[0] = append(out[0], orb.Point{pt[0] + 100, pt[1] + 20})
		}
		return out, nil
	}
	e, _ := ParseText(`S_INTERSECTS(geometry, BBOX(14, 2, 15, 3))`)
	r, err := Resolve(e, nil, shift)
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := Bounds(r); got != (orb.Bound{Min: orb.Point{114, 22}, Max: orb.Point{115, 23}}) {
		t.Errorf("converted box bounds %v", got)
	}
	if !Eval(r, &geo.Feature{Geometry: orb.Point{114.5, 22.5}}) || Eval(r, &geo.Feature{Geometry: orb.Point{14.5, 2.5}}) {
		t.Error("the filter did not match in converted coordinates")
	}
	e, _ = ParseText(`S_INTERSECTS(geometry, POINT(1 2))`)
	if _, err := Resolve(e, nil, shift); err == nil {
		t.Error("a failed conversion resolved")
	}
	e, _ = ParseText(`S_INTERSECTS(geometry, BBOX(170, 2, -170, 3))`)
	if _, err := Resolve(e, nil, shift); err == nil {
		t.Error("an antimeridian box in another CRS resolved")
	}
}
