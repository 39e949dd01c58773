package cql2

import (
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/paulmach/orb"

	"github.com/csdi-hk/csdi/geo"
)

// checkTree asserts that a parsed filter prints as cql2-text that parses
// back to it, and that resolving and evaluating it does not panic.
func checkTree(t *testing.T, e Expr) {
	text := e.String()
	again, err := ParseText(text)
	if err != nil {
		t.Fatalf("%#v printed as %q, which does not parse: %v", e, text, err)
	}
	if !reflect.DeepEqual(again, e) {
		t.Fatalf("%q parses to %#v, not %#v", text, again, e)
	}
	fields := []geo.Field{{Name: "name", Type: geo.String}, {Name: "n", Type: geo.Integer}, {Name: "flag", Type: geo.Boolean},
		{Name: "d", Type: geo.Date}, {Name: "ts", Type: geo.DateTime}}
	r, err := Resolve(e, fields, nil)
	if err != nil {
		return
	}
	Bounds(r)
	for _, f := range []geo.Feature{
		{ID: 1, Geometry: orb.Point{1, 2}, Properties: map[string]any{"name": "a", "n": int64(1), "d": time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)}},
		{ID: 2, Geometry: orb.Polygon{{{0, 0}, {4, 0}, {4, 4}, {0, 0}}, {{1, 0.5}, {3, 0.5}, {3, 2}, {1, 0.5}}}, Properties: map[string]any{}},
		{ID: 3, Geometry: orb.MultiLineString{{{0, 0}, {1, 1}, {2, 0}}, {{1, 1}, {1, 3}}}},
	} {
		Eval(r, &f)
	}
}

func FuzzParseText(f *testing.F) {
	for _, c := range encodings {
		f.Add(c.text)
	}
	for _, s := range []string{``, `a = `, `name LIKE '%\'`, `"a""" = 'b'''`, `S_INTERSECTS(geometry, POLYGON((0 0, 1e300 0, 0 1e300, 0 0)))`,
		`T_MEETS(INTERVAL('..', '..'), ts)`, `n IN (1, 'a', DATE('2020-01-01'))`, `NOT NOT NOT flag = TRUE`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		e, err := ParseText(s)
		if err != nil {
			var se *SyntaxError
			if !errors.As(err, &se) || se.Pos < 0 || se.Pos > len(s) {
				t.Fatalf("ParseText(%q): %v, not a *SyntaxError within the input", s, err)
			}
			return
		}
		checkTree(t, e)
	})
}

func FuzzParseJSON(f *testing.F) {
	for _, c := range encodings {
		f.Add([]byte(c.json))
	}
	for _, s := range []string{`true`, `{"op":"and","args":[true,false]}`, `{"op":"isNull","args":[{"type":"Point","coordinates":[1]}]}`,
		`{"op":"s_within","args":[{"property":"geometry"},{"type":"GeometryCollection","geometries":[{"type":"GeometryCollection","geometries":[{"type":"Point","coordinates":[0,0]}]}]}]}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if e, err := ParseJSON(b); err == nil {
			checkTree(t, e)
		}
	})
}
