package cql2

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geojson"
)

// ParseJSON parses a cql2-json filter. Errors name the JSON path of the
// offending member, such as $.args[1].
func ParseJSON(b []byte) (Expr, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("cql2-json: %w", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, errors.New("cql2-json: data after the filter")
	}
	return jsonBool(v, "$")
}

// jsonError is a filter that is valid JSON but not cql2-json.
type jsonError struct{ path, msg string }

func (e *jsonError) Error() string { return "cql2-json at " + e.path + ": " + e.msg }

func jsonFail(path, format string, args ...any) error {
	return &jsonError{path, fmt.Sprintf(format, args...)}
}

// jsonBool reads a predicate or a boolean.
func jsonBool(v any, path string) (Expr, error) {
	if b, ok := v.(bool); ok {
		return Bool(b), nil
	}
	m, ok := v.(map[string]any)
	if !ok || m["op"] == nil {
		return nil, jsonFail(path, "expected a predicate {\"op\": ..., \"args\": [...]} or a boolean")
	}
	op, args, err := jsonOp(m, path)
	if err != nil {
		return nil, err
	}
	arg := func(i int) string { return path + ".args[" + strconv.Itoa(i) + "]" }
	nargs := func(n int) error {
		if len(args) != n {
			return jsonFail(path, "%s takes %d arguments, not %d", op, n, len(args))
		}
		return nil
	}
	// scalars reads the arguments from the first as scalars.
	scalars := func() ([]Expr, error) {
		out := make([]Expr, len(args))
		for i, a := range args {
			if out[i], err = jsonScalar(a, arg(i)); err != nil {
				return nil, err
			}
		}
		return out, nil
	}
	switch op {
	case "and", "or":
		if len(args) < 2 {
			return nil, jsonFail(path, "%s takes at least 2 arguments", op)
		}
		l := Logical{Op: op, Args: make([]Expr, len(args))}
		for i, a := range args {
			if l.Args[i], err = jsonBool(a, arg(i)); err != nil {
				return nil, err
			}
		}
		return l, nil
	case "not":
		if err := nargs(1); err != nil {
			return nil, err
		}
		x, err := jsonBool(args[0], arg(0))
		return Not{x}, err
	case "like":
		if err := nargs(2); err != nil {
			return nil, err
		}
		x, err := jsonScalar(args[0], arg(0))
		if err != nil {
			return nil, err
		}
		pat, err := jsonPattern(args[1], arg(1))
		return Like{X: x, Pattern: pat}, err
	case "in":
		if err := nargs(2); err != nil {
			return nil, err
		}
		x, err := jsonScalar(args[0], arg(0))
		if err != nil {
			return nil, err
		}
		items, ok := args[1].([]any)
		if !ok || len(items) == 0 {
			return nil, jsonFail(arg(1), "expected a non-empty array")
		}
		in := In{X: x, List: make([]Expr, len(items))}
		for i, it := range items {
			if in.List[i], err = jsonScalar(it, arg(1)+"["+strconv.Itoa(i)+"]"); err != nil {
				return nil, err
			}
		}
		return in, nil
	}
	n := map[string]int{"between": 3, "isNull": 1}[op]
	if slices.Contains(compareOps, op) || slices.Contains(spatialOps, op) || slices.Contains(temporalOps, op) {
		n = 2
	}
	if n == 0 {
		return nil, jsonFail(path, "unknown predicate %q", op)
	}
	if err := nargs(n); err != nil {
		return nil, err
	}
	xs, err := scalars()
	if err != nil {
		return nil, err
	}
	switch {
	case op == "between":
		return Between{X: xs[0], Lo: xs[1], Hi: xs[2]}, nil
	case op == "isNull":
		return IsNull{xs[0]}, nil
	case slices.Contains(compareOps, op):
		return Compare{Op: op, L: xs[0], R: xs[1]}, nil
	case slices.Contains(spatialOps, op):
		for i, x := range xs {
			switch x.(type) {
			case Geometry, BBox, Property:
			default:
				return nil, jsonFail(arg(i), "expected a geometry, a bbox or a property")
			}
		}
		return Spatial{Op: op, A: xs[0], B: xs[1]}, nil
	}
	for i, x := range xs {
		switch x.(type) {
		case Date, Timestamp, Interval, Property:
		default:
			return nil, jsonFail(arg(i), "expected a date, a timestamp, an interval or a property")
		}
	}
	return Temporal{Op: op, A: xs[0], B: xs[1]}, nil
}

// jsonOp reads the op and args members; function names of any case are
// taken in their cql2-json spelling.
func jsonOp(m map[string]any, path string) (string, []any, error) {
	op, ok := m["op"].(string)
	if !ok {
		return "", nil, jsonFail(path+".op", "expected a string")
	}
	args, ok := m["args"].([]any)
	if !ok {
		return "", nil, jsonFail(path, "expected an args array")
	}
	if s, ok := lookup(spatialOps, op); ok {
		op = s
	} else if t, ok := lookup(temporalOps, op); ok {
		op = t
	}
	return op, args, nil
}

// jsonPattern reads a LIKE pattern: a string, possibly in casei or accenti.
func jsonPattern(v any, path string) (Expr, error) {
	if s, ok := v.(string); ok {
		return Str(s), nil
	}
	m, ok := v.(map[string]any)
	if ok && (m["op"] == "casei" || m["op"] == "accenti") {
		op, args, err := jsonOp(m, path)
		if err != nil {
			return nil, err
		}
		if len(args) != 1 {
			return nil, jsonFail(path, "%s takes 1 argument", op)
		}
		x, err := jsonPattern(args[0], path+".args[0]")
		if op == "casei" {
			return CaseI{x}, err
		}
		return AccentI{x}, err
	}
	return nil, jsonFail(path, "expected a pattern string")
}

// jsonScalar reads a literal, a property or a function.
func jsonScalar(v any, path string) (Expr, error) {
	switch v := v.(type) {
	case string:
		return Str(v), nil
	case bool:
		return Bool(v), nil
	case json.Number:
		f, err := strconv.ParseFloat(string(v), 64)
		if err != nil || math.IsInf(f, 0) {
			return nil, jsonFail(path, "number %s out of range", v)
		}
		return Number(f), nil
	case map[string]any:
		return jsonObject(v, path)
	case nil:
		return nil, jsonFail(path, "null is not a value; test for it with isNull")
	}
	return nil, jsonFail(path, "expected a value, a property or a function")
}

func jsonObject(m map[string]any, path string) (Expr, error) {
	str := func(key string) (string, error) {
		s, ok := m[key].(string)
		if !ok {
			return "", jsonFail(path+"."+key, "expected a string")
		}
		return s, nil
	}
	switch {
	case m["property"] != nil:
		name, err := str("property")
		if err == nil && name == "" {
			err = jsonFail(path, "empty property name")
		}
		return Property{Name: name}, err
	case m["date"] != nil, m["timestamp"] != nil:
		key := "timestamp"
		if m["date"] != nil {
			key = "date"
		}
		s, err := str(key)
		if err != nil {
			return nil, err
		}
		e, err := parseInstant(s, key == "date")
		if err != nil {
			return nil, jsonFail(path+"."+key, "%v", err)
		}
		return e, nil
	case m["interval"] != nil:
		ends, ok := m["interval"].([]any)
		if !ok || len(ends) != 2 {
			return nil, jsonFail(path+".interval", "expected an array of 2 ends")
		}
		var iv [2]Expr
		for i, end := range ends {
			p := fmt.Sprintf("%s.interval[%d]", path, i)
			switch end := end.(type) {
			case string:
				if end == ".." {
					iv[i] = Open{}
					continue
				}
				e, err := parseInstant(end, len(end) == len("2006-01-02"))
				if err != nil {
					return nil, jsonFail(p, "%v", err)
				}
				iv[i] = e
			case map[string]any:
				e, err := jsonObject(end, p)
				if err != nil {
					return nil, err
				}
				if _, ok := e.(Property); !ok {
					return nil, jsonFail(p, "expected a date, a timestamp, \"..\" or a property")
				}
				iv[i] = e
			default:
				return nil, jsonFail(p, "expected a date, a timestamp, \"..\" or a property")
			}
		}
		if !ordered(iv[0], iv[1]) {
			return nil, jsonFail(path, "the interval starts after it ends")
		}
		return Interval{Start: iv[0], End: iv[1]}, nil
	case m["bbox"] != nil:
		arr, ok := m["bbox"].([]any)
		var n []float64
		for _, a := range arr {
			num, isNum := a.(json.Number)
			f, err := strconv.ParseFloat(string(num), 64)
			if !isNum || err != nil || math.IsInf(f, 0) {
				ok = false
				break
			}
			n = append(n, f)
		}
		switch {
		case ok && len(n) == 4:
			return BBox{n[0], n[1], n[2], n[3]}, nil
		case ok && len(n) == 6:
			return BBox{n[0], n[1], n[3], n[4]}, nil
		}
		return nil, jsonFail(path+".bbox", "expected an array of 4 or 6 numbers")
	case m["type"] != nil:
		b, err := json.Marshal(m)
		if err != nil {
			return nil, jsonFail(path, "%v", err)
		}
		g, err := geojson.UnmarshalGeometry(b)
		if err != nil {
			return nil, jsonFail(path, "not a GeoJSON geometry: %v", err)
		}
		geom := g.Geometry()
		if err := checkGeometry(geom); err != nil {
			return nil, jsonFail(path, "%v", err)
		}
		return Geometry{G: geom}, nil
	case m["op"] == "casei" || m["op"] == "accenti":
		op, args, err := jsonOp(m, path)
		if err != nil {
			return nil, err
		}
		if len(args) != 1 {
			return nil, jsonFail(path, "%s takes 1 argument", op)
		}
		x, err := jsonScalar(args[0], path+".args[0]")
		if op == "casei" {
			return CaseI{x}, err
		}
		return AccentI{x}, err
	case m["op"] != nil:
		op, _ := m["op"].(string)
		return nil, jsonFail(path, "%q is not a value or a supported function", op)
	}
	return nil, jsonFail(path, "expected a property, a literal or a function")
}

// checkGeometry rejects what cql2-text cannot write: empty parts and
// unclosed rings.
func checkGeometry(g orb.Geometry) error {
	switch g := g.(type) {
	case nil:
		return errors.New("missing geometry")
	case orb.Point:
		return nil
	case orb.MultiPoint:
		if len(g) == 0 {
			return errors.New("empty multipoint")
		}
	case orb.LineString:
		return checkLine(g)
	case orb.MultiLineString:
		if len(g) == 0 {
			return errors.New("empty multilinestring")
		}
		for _, l := range g {
			if err := checkLine(l); err != nil {
				return err
			}
		}
	case orb.Polygon:
		if len(g) == 0 {
			return errors.New("empty polygon")
		}
		for _, r := range g {
			if err := checkRing(r); err != nil {
				return err
			}
		}
	case orb.MultiPolygon:
		if len(g) == 0 {
			return errors.New("empty multipolygon")
		}
		for _, p := range g {
			if err := checkGeometry(p); err != nil {
				return err
			}
		}
	case orb.Collection:
		if len(g) == 0 {
			return errors.New("empty geometrycollection")
		}
		for _, c := range g {
			if err := checkGeometry(c); err != nil {
				return err
			}
		}
	default:
		return fmt.Errorf("unsupported geometry %T", g)
	}
	return nil
}
