package cql2

import (
	"cmp"
	"fmt"
	"regexp"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/paulmach/orb"
	"golang.org/x/text/unicode/norm"

	"github.com/csdi-hk/csdi/geo"
)

// kind is the type of a scalar expression, for checking comparisons.
type kind string

const (
	kString   kind = "a string"
	kNumber   kind = "a number"
	kBool     kind = "a boolean"
	kInstant  kind = "a date or timestamp"
	kInterval kind = "an interval"
	kGeometry kind = "a geometry"
)

// Resolve checks e against a layer's fields: every property must be one
// of them (or GeometryProperty in a spatial function) and every operator
// must get operands of types it can compare. It converts geometry
// literals to WGS84 with toWGS84 (nil when they are in CRS84 already),
// turns BBOX literals into polygons, split in two when they cross the
// antimeridian, and prepares literals and LIKE patterns for Eval.
func Resolve(e Expr, fields []geo.Field, toWGS84 func(orb.Geometry) (orb.Geometry, error)) (Expr, error) {
	r := &resolver{fields: map[string]geo.FieldType{}, toWGS84: toWGS84}
	for _, f := range fields {
		r.fields[f.Name] = f.Type
	}
	return r.pred(e)
}

type resolver struct {
	fields  map[string]geo.FieldType
	toWGS84 func(orb.Geometry) (orb.Geometry, error)
}

func (r *resolver) pred(e Expr) (Expr, error) {
	switch e := e.(type) {
	case Bool:
		return e, nil
	case Logical:
		out := Logical{Op: e.Op, Args: make([]Expr, len(e.Args))}
		for i, a := range e.Args {
			var err error
			if out.Args[i], err = r.pred(a); err != nil {
				return nil, err
			}
		}
		return out, nil
	case Not:
		x, err := r.pred(e.X)
		return Not{x}, err
	case Compare:
		xs, err := r.same(e, e.L, e.R)
		if err != nil {
			return nil, err
		}
		if k, _ := r.kindOf(xs[0]); k == kGeometry || k == kInterval {
			return nil, fmt.Errorf("%s: %s cannot be compared with %s; use the spatial or temporal functions", e, k, e.Op)
		}
		return Compare{Op: e.Op, L: xs[0], R: xs[1]}, nil
	case Like:
		x, k, err := r.scalar(e.X)
		if err != nil {
			return nil, err
		}
		if k != kString {
			return nil, fmt.Errorf("%s: LIKE needs a string, not %s", e, k)
		}
		pat, _, err := r.scalar(e.Pattern)
		if err != nil {
			return nil, err
		}
		s, _ := value(pat, nil).(string)
		return Like{X: x, Pattern: pat, re: likeRegexp(s)}, nil
	case Between:
		xs, err := r.same(e, e.X, e.Lo, e.Hi)
		if err != nil {
			return nil, err
		}
		if k, _ := r.kindOf(xs[0]); k != kNumber && k != kInstant && k != kString {
			return nil, fmt.Errorf("%s: BETWEEN needs numbers, strings or dates, not %s", e, k)
		}
		return Between{X: xs[0], Lo: xs[1], Hi: xs[2]}, nil
	case In:
		xs, err := r.same(e, append([]Expr{e.X}, e.List...)...)
		if err != nil {
			return nil, err
		}
		if k, _ := r.kindOf(xs[0]); k == kGeometry || k == kInterval {
			return nil, fmt.Errorf("%s: IN cannot take %s", e, k)
		}
		return In{X: xs[0], List: xs[1:]}, nil
	case IsNull:
		if p, ok := e.X.(Property); ok && p.Name == GeometryProperty {
			if _, isField := r.fields[p.Name]; !isField {
				return IsNull{Property{Name: p.Name, typ: "geometry"}}, nil
			}
		}
		x, _, err := r.scalar(e.X)
		return IsNull{x}, err
	case Spatial:
		a, err := r.geometry(e.A)
		if err != nil {
			return nil, err
		}
		b, err := r.geometry(e.B)
		return Spatial{Op: e.Op, A: a, B: b}, err
	case Temporal:
		a, err := r.temporal(e.A)
		if err != nil {
			return nil, err
		}
		b, err := r.temporal(e.B)
		return Temporal{Op: e.Op, A: a, B: b}, err
	}
	return nil, fmt.Errorf("%s is not a predicate", e)
}

// same resolves operands that must be of one type.
func (r *resolver) same(e Expr, xs ...Expr) ([]Expr, error) {
	out := make([]Expr, len(xs))
	var first kind
	for i, x := range xs {
		var k kind
		var err error
		if out[i], k, err = r.scalar(x); err != nil {
			return nil, err
		}
		if i == 0 {
			first = k
		} else if k != first {
			return nil, fmt.Errorf("%s: %s is %s but %s is %s", e, xs[0], first, x, k)
		}
	}
	return out, nil
}

func (r *resolver) kindOf(e Expr) (kind, error) {
	_, k, err := r.scalar(e)
	return k, err
}

func (r *resolver) scalar(e Expr) (Expr, kind, error) {
	switch e := e.(type) {
	case Str:
		return e, kString, nil
	case Number:
		return e, kNumber, nil
	case Bool:
		return e, kBool, nil
	case Date, Timestamp:
		return e, kInstant, nil
	case Interval:
		x, err := r.temporal(e)
		return x, kInterval, err
	case Geometry, BBox:
		x, err := r.geometry(e)
		return x, kGeometry, err
	case CaseI, AccentI:
		var inner Expr
		if c, ok := e.(CaseI); ok {
			inner = c.X
		} else {
			inner = e.(AccentI).X
		}
		x, k, err := r.scalar(inner)
		if err != nil {
			return nil, "", err
		}
		if k != kString {
			return nil, "", fmt.Errorf("%s: needs a string, not %s", e, k)
		}
		if _, ok := e.(CaseI); ok {
			return CaseI{x}, kString, nil
		}
		return AccentI{x}, kString, nil
	case Property:
		t, ok := r.fields[e.Name]
		if !ok {
			if e.Name == GeometryProperty {
				return nil, "", fmt.Errorf("the geometry can only be used in spatial functions (S_INTERSECTS etc.) and IS NULL")
			}
			return nil, "", fmt.Errorf("unknown property %q", e.Name)
		}
		k := map[geo.FieldType]kind{geo.String: kString, geo.Integer: kNumber, geo.Number: kNumber, geo.Boolean: kBool,
			geo.Date: kInstant, geo.DateTime: kInstant}[t]
		if k == "" {
			return nil, "", fmt.Errorf("property %q has the unknown type %q", e.Name, t)
		}
		return Property{Name: e.Name, typ: string(t)}, k, nil
	}
	return nil, "", fmt.Errorf("%s is not a value", e)
}

func (r *resolver) geometry(e Expr) (Expr, error) {
	switch e := e.(type) {
	case Property:
		if e.Name != GeometryProperty {
			return nil, fmt.Errorf("spatial functions take the property %q or geometry literals, not %q", GeometryProperty, e.Name)
		}
		return Property{Name: e.Name, typ: "geometry"}, nil
	case BBox:
		if r.toWGS84 == nil {
			g := bboxGeometry(e)
			return Geometry{G: g, prep: newShape(g)}, nil
		}
		if e.W > e.E {
			return nil, fmt.Errorf("%s: west is east of east, which only CRS84 boxes that cross the antimeridian may be", e)
		}
		return r.geometry(Geometry{G: orb.Bound{Min: orb.Point{e.W, e.S}, Max: orb.Point{e.E, e.N}}.ToPolygon()})
	case Geometry:
		g := e.G
		if r.toWGS84 != nil {
			var err error
			if g, err = r.toWGS84(g); err != nil {
				return nil, fmt.Errorf("convert the filter geometry %s to WGS84: %w", e, err)
			}
		}
		return Geometry{G: g, prep: newShape(g)}, nil
	}
	return nil, fmt.Errorf("%s is not a geometry", e)
}

// bboxGeometry is the area of a CRS84 box; one that crosses the
// antimeridian (west > east) is two boxes either side of it.
func bboxGeometry(b BBox) orb.Geometry {
	box := func(w, e float64) orb.Polygon {
		return orb.Bound{Min: orb.Point{w, b.S}, Max: orb.Point{e, b.N}}.ToPolygon()
	}
	if b.W > b.E {
		return orb.MultiPolygon{box(b.W, 180), box(-180, b.E)}
	}
	return box(b.W, b.E)
}

func (r *resolver) temporal(e Expr) (Expr, error) {
	switch e := e.(type) {
	case Date, Timestamp, Open:
		return e, nil
	case Interval:
		a, err := r.temporal(e.Start)
		if err != nil {
			return nil, err
		}
		b, err := r.temporal(e.End)
		return Interval{Start: a, End: b}, err
	case Property:
		x, k, err := r.scalar(e)
		if err == nil && k != kInstant {
			err = fmt.Errorf("temporal functions take dates and timestamps; property %q is %s", e.Name, k)
		}
		return x, err
	}
	return nil, fmt.Errorf("%s is not a date, timestamp or interval", e)
}

// likeRegexp compiles a LIKE pattern: % is any run of characters, _ any
// one, and \ makes the character after it literal.
func likeRegexp(pat string) *regexp.Regexp {
	var b strings.Builder
	b.WriteString(`(?s)^`)
	for i := 0; i < len(pat); {
		r, n := utf8.DecodeRuneInString(pat[i:])
		switch c := pat[i]; {
		case r == utf8.RuneError && n == 1:
			// Invalid bytes match as U+FFFD, which the regexp sees them as.
			b.WriteString(`\x{FFFD}`)
		case c == '%':
			b.WriteString(".*")
		case c == '_':
			b.WriteString(".")
		case c == '\\' && i+1 < len(pat):
			i++
			_, n = utf8.DecodeRuneInString(pat[i:])
			b.WriteString(regexp.QuoteMeta(strings.ToValidUTF8(pat[i:i+n], "\uFFFD")))
		default:
			b.WriteString(regexp.QuoteMeta(pat[i : i+n]))
		}
		i += n
	}
	b.WriteString(`$`)
	return regexp.MustCompile(b.String())
}

// tri is a truth value of CQL2's three-valued logic, where comparing
// with NULL gives unknown.
type tri int8

const (
	no tri = iota
	yes
	unknown
)

func truth(b bool) tri {
	if b {
		return yes
	}
	return no
}

// Eval reports whether f matches e; a filter that is unknown for f (it
// compares a NULL) does not match. e should be resolved, though Eval
// works without.
func Eval(e Expr, f *geo.Feature) bool {
	if f == nil {
		return eval(e, nil) == yes
	}
	return eval(e, (*mapFeature)(f)) == yes
}

// Feature is what an expression reads of a feature. A layer in memory keeps
// no properties map per feature (they cost more than the coordinates), so
// it is read through this rather than a *geo.Feature.
type Feature interface {
	// Geom is the feature's geometry.
	Geom() orb.Geometry
	// Value is the value of a property, nil when missing.
	Value(name string) any
}

// EvalFeature is Eval for a Feature.
func EvalFeature(e Expr, f Feature) bool { return eval(e, f) == yes }

// mapFeature reads a geo.Feature's own map.
type mapFeature geo.Feature

func (f *mapFeature) Geom() orb.Geometry    { return f.Geometry }
func (f *mapFeature) Value(name string) any { return f.Properties[name] }

func eval(e Expr, f Feature) tri {
	switch e := e.(type) {
	case Bool:
		return truth(bool(e))
	case Logical:
		// Kleene: a false operand settles AND, a true one OR.
		settle, out := no, yes
		if e.Op == "or" {
			settle, out = yes, no
		}
		for _, a := range e.Args {
			switch eval(a, f) {
			case settle:
				return settle
			case unknown:
				out = unknown
			}
		}
		return out
	case Not:
		switch eval(e.X, f) {
		case yes:
			return no
		case no:
			return yes
		}
		return unknown
	case Compare:
		l, r := value(e.L, f), value(e.R, f)
		if l == nil || r == nil {
			return unknown
		}
		c, ok := compare(l, r)
		if !ok {
			return no
		}
		switch e.Op {
		case "=":
			return truth(c == 0)
		case "<>":
			return truth(c != 0)
		case "<":
			return truth(c < 0)
		case "<=":
			return truth(c <= 0)
		case ">":
			return truth(c > 0)
		}
		return truth(c >= 0)
	case Like:
		x := value(e.X, f)
		if x == nil {
			return unknown
		}
		s, ok := x.(string)
		if !ok {
			return no
		}
		re := e.re
		if re == nil {
			p, _ := value(e.Pattern, f).(string)
			re = likeRegexp(p)
		}
		return truth(re.MatchString(s))
	case Between:
		x, lo, hi := value(e.X, f), value(e.Lo, f), value(e.Hi, f)
		if x == nil || lo == nil || hi == nil {
			return unknown
		}
		c1, ok1 := compare(lo, x)
		c2, ok2 := compare(x, hi)
		return truth(ok1 && ok2 && c1 <= 0 && c2 <= 0)
	case In:
		x := value(e.X, f)
		if x == nil {
			return unknown
		}
		out := no
		for _, it := range e.List {
			v := value(it, f)
			if v == nil {
				out = unknown
				continue
			}
			if c, ok := compare(x, v); ok && c == 0 {
				return yes
			}
		}
		return out
	case IsNull:
		return truth(value(e.X, f) == nil)
	case Spatial:
		a, b := shapeOf(e.A, f), shapeOf(e.B, f)
		if a == nil || b == nil {
			return unknown
		}
		return truth(spatial(e.Op, a, b))
	case Temporal:
		as, ae, okA := period(e.A, f)
		bs, be, okB := period(e.B, f)
		if !okA || !okB {
			return unknown
		}
		return truth(temporal(e.Op, as, ae, bs, be))
	}
	return no
}

// value is the value of a scalar for f: string, float64, bool, time.Time,
// orb.Geometry, or nil for NULL.
func value(e Expr, f Feature) any {
	switch e := e.(type) {
	case Str:
		return string(e)
	case Number:
		return float64(e)
	case Bool:
		return bool(e)
	case Date:
		return e.T
	case Timestamp:
		return e.T
	case Geometry:
		return e.G
	case BBox:
		return bboxGeometry(e)
	case Property:
		if f == nil {
			return nil
		}
		if e.typ == "geometry" {
			if g := f.Geom(); g != nil {
				return g
			}
			return nil
		}
		switch v := f.Value(e.Name).(type) {
		case int64:
			return float64(v)
		case int:
			return float64(v)
		case string, float64, bool, time.Time:
			return v
		}
		return nil
	case CaseI:
		if s, ok := value(e.X, f).(string); ok {
			return strings.ToLower(s)
		}
		return nil
	case AccentI:
		if s, ok := value(e.X, f).(string); ok {
			return stripAccents(s)
		}
		return nil
	}
	return nil
}

// stripAccents drops the combining marks of the canonical decomposition.
func stripAccents(s string) string {
	var b strings.Builder
	for _, r := range norm.NFD.String(s) {
		if !unicode.Is(unicode.Mn, r) {
			b.WriteRune(r)
		}
	}
	return norm.NFC.String(b.String())
}

// compare orders two values of the same type; ok is false across types.
func compare(a, b any) (c int, ok bool) {
	switch a := a.(type) {
	case string:
		if b, ok := b.(string); ok {
			return strings.Compare(a, b), true
		}
	case float64:
		if b, ok := b.(float64); ok {
			return cmp.Compare(a, b), true
		}
	case bool:
		if b, ok := b.(bool); ok {
			switch {
			case a == b:
				return 0, true
			case b:
				return -1, true
			}
			return 1, true
		}
	case time.Time:
		if b, ok := b.(time.Time); ok {
			return a.Compare(b), true
		}
	}
	return 0, false
}

func shapeOf(e Expr, f Feature) *shape {
	if g, ok := e.(Geometry); ok && g.prep != nil {
		return g.prep
	}
	g, ok := value(e, f).(orb.Geometry)
	if !ok {
		return nil
	}
	return newShape(g)
}

// day is the last instant of a date after its midnight: a date stands
// for the whole day in temporal functions.
const day = 24*time.Hour - time.Nanosecond

// moment is an end of a period; inf is -1 or 1 for an open end.
type moment struct {
	t   time.Time
	inf int
}

func (m moment) cmp(n moment) int {
	if m.inf != 0 || n.inf != 0 {
		return cmp.Compare(m.inf, n.inf)
	}
	return m.t.Compare(n.t)
}

// period is the time span of a temporal expression for f; ok is false
// when it is NULL.
func period(e Expr, f Feature) (start, end moment, ok bool) {
	switch e := e.(type) {
	case Interval:
		s, _, okS := period(e.Start, f)
		_, en, okE := period(e.End, f)
		return s, en, okS && okE
	case Open:
		return moment{inf: -1}, moment{inf: 1}, true
	case Date:
		return moment{t: e.T}, moment{t: e.T.Add(day)}, true
	case Timestamp:
		return moment{t: e.T}, moment{t: e.T}, true
	case Property:
		t, isTime := value(e, f).(time.Time)
		if !isTime {
			return start, end, false
		}
		isDate := geo.FieldType(e.typ) == geo.Date
		if e.typ == "" {
			ft, _ := geo.TypeOf(t)
			isDate = ft == geo.Date
		}
		if isDate {
			return moment{t: t}, moment{t: t.Add(day)}, true
		}
		return moment{t: t}, moment{t: t}, true
	}
	return start, end, false
}

// temporal evaluates a temporal function on the periods [as, ae] and
// [bs, be], as the CQL2 standard defines them.
func temporal(op string, as, ae, bs, be moment) bool {
	switch op {
	case "t_after":
		return as.cmp(be) > 0
	case "t_before":
		return ae.cmp(bs) < 0
	case "t_contains":
		return as.cmp(bs) < 0 && ae.cmp(be) > 0
	case "t_disjoint":
		return as.cmp(be) > 0 || ae.cmp(bs) < 0
	case "t_during":
		return as.cmp(bs) > 0 && ae.cmp(be) < 0
	case "t_equals":
		return as.cmp(bs) == 0 && ae.cmp(be) == 0
	case "t_finishedBy":
		return as.cmp(bs) < 0 && ae.cmp(be) == 0
	case "t_finishes":
		return as.cmp(bs) > 0 && ae.cmp(be) == 0
	case "t_intersects":
		return as.cmp(be) <= 0 && ae.cmp(bs) >= 0
	case "t_meets":
		return ae.cmp(bs) == 0
	case "t_metBy":
		return as.cmp(be) == 0
	case "t_overlappedBy":
		return as.cmp(bs) > 0 && as.cmp(be) < 0 && ae.cmp(be) > 0
	case "t_overlaps":
		return as.cmp(bs) < 0 && ae.cmp(bs) > 0 && ae.cmp(be) < 0
	case "t_startedBy":
		return as.cmp(bs) == 0 && ae.cmp(be) > 0
	case "t_starts":
		return as.cmp(bs) == 0 && ae.cmp(be) < 0
	}
	return false
}

// Bounds returns a box that the geometry of every feature matching a
// resolved filter intersects, when the filter implies one: a spatial
// function other than S_DISJOINT of the geometry and a literal, or an
// AND with such a term, or an OR of such terms.
func Bounds(e Expr) (orb.Bound, bool) {
	switch e := e.(type) {
	case Logical:
		var out orb.Bound
		found := false
		for _, a := range e.Args {
			b, ok := Bounds(a)
			switch {
			case !ok && e.Op == "or":
				return orb.Bound{}, false
			case !ok:
			case !found:
				out, found = b, true
			case e.Op == "or":
				out = out.Union(b)
			case out.Intersects(b):
				// Boxes that miss each other match nothing, and either
				// one still bounds that.
				out = orb.Bound{Min: orb.Point{max(out.Min[0], b.Min[0]), max(out.Min[1], b.Min[1])},
					Max: orb.Point{min(out.Max[0], b.Max[0]), min(out.Max[1], b.Max[1])}}
			}
		}
		return out, found
	case Spatial:
		if e.Op == "s_disjoint" {
			return orb.Bound{}, false
		}
		for _, pair := range [][2]Expr{{e.A, e.B}, {e.B, e.A}} {
			if p, ok := pair[0].(Property); !ok || p.Name != GeometryProperty {
				continue
			}
			switch lit := pair[1].(type) {
			case Geometry:
				return lit.G.Bound(), true
			case BBox:
				return bboxGeometry(lit).Bound(), true
			}
		}
	}
	return orb.Bound{}, false
}
