package cql2

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geojson"
)

// toJSON writes a parsed filter in cql2-json, so that every filter the
// tests write in cql2-text is also evaluated as cql2-json. It is written
// here, from the standard's JSON schema, and not in the package, which
// only reads cql2-json; TestEncodingsAgree pins hand-written cql2-json
// of every construct to the trees it reads back.
func toJSON(t testing.TB, e Expr) []byte {
	t.Helper()
	b, err := json.Marshal(jsonOf(t, e))
	if err != nil {
		t.Fatalf("encode %s: %v", e, err)
	}
	return b
}

func jsonOf(t testing.TB, e Expr) any {
	t.Helper()
	op := func(name string, args ...Expr) any {
		out := make([]any, len(args))
		for i, a := range args {
			out[i] = jsonOf(t, a)
		}
		return map[string]any{"op": name, "args": out}
	}
	switch e := e.(type) {
	case Str:
		return string(e)
	case Number:
		return float64(e)
	case Bool:
		return bool(e)
	case Date:
		return map[string]any{"date": e.T.Format(time.DateOnly)}
	case Timestamp:
		return map[string]any{"timestamp": e.T.Format(time.RFC3339Nano)}
	case Interval:
		end := func(x Expr) any {
			switch x := x.(type) {
			case Open:
				return ".."
			case Date:
				return x.T.Format(time.DateOnly)
			case Timestamp:
				return x.T.Format(time.RFC3339Nano)
			}
			return jsonOf(t, x)
		}
		return map[string]any{"interval": []any{end(e.Start), end(e.End)}}
	case Geometry:
		g := e.G
		if b, ok := g.(orb.Bound); ok {
			g = b.ToPolygon()
		}
		return geojson.NewGeometry(g)
	case BBox:
		return map[string]any{"bbox": []float64{e.W, e.S, e.E, e.N}}
	case Property:
		return map[string]any{"property": e.Name}
	case Logical:
		return op(e.Op, e.Args...)
	case Not:
		return op("not", e.X)
	case Compare:
		return op(e.Op, e.L, e.R)
	case Like:
		return op("like", e.X, e.Pattern)
	case Between:
		return op("between", e.X, e.Lo, e.Hi)
	case In:
		list := make([]any, len(e.List))
		for i, x := range e.List {
			list[i] = jsonOf(t, x)
		}
		return map[string]any{"op": "in", "args": []any{jsonOf(t, e.X), list}}
	case IsNull:
		return op("isNull", e.X)
	case CaseI:
		return op("casei", e.X)
	case AccentI:
		return op("accenti", e.X)
	case Spatial:
		return op(e.Op, e.A, e.B)
	case Temporal:
		return op(e.Op, e.A, e.B)
	}
	t.Fatalf("no cql2-json for %T", e)
	return nil
}
