// Package cql2 parses OGC CQL2 filters (21-065r2) in the text and JSON
// encodings into one syntax tree, checks it against a layer's fields and
// evaluates it on features: basic CQL2, advanced comparisons (LIKE,
// BETWEEN, IN), CASEI and ACCENTI, the spatial functions with planar
// DE-9IM semantics, and the temporal functions. Arithmetic and arrays are
// not supported.
//
// Typical use: ParseText or ParseJSON, then Resolve against the layer's
// fields, then Eval on each candidate feature, found through the R-tree
// with Bounds. String prints any tree back as cql2-text that parses to
// the same tree.
//
// Spatial functions are planar on the coordinates, decided exactly on
// their binary values: a point that is on an edge only in decimal (not
// representable in binary) is not on it. A geometry collection is taken
// as the union of its parts without merging them, so collections whose
// parts overlap or touch one another can relate differently from GEOS.
package cql2

import (
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/paulmach/orb"
)

// Conformance lists the CQL2 conformance classes this package implements.
func Conformance() []string {
	var out []string
	for _, c := range []string{"cql2-text", "cql2-json", "basic-cql2", "advanced-comparison-operators", "case-insensitive-comparison",
		"accent-insensitive-comparison", "basic-spatial-functions", "basic-spatial-functions-plus", "spatial-functions",
		"temporal-functions", "property-property"} {
		out = append(out, "http://www.opengis.net/spec/cql2/1.0/conf/"+c)
	}
	return out
}

// GeometryProperty is the name by which filters refer to a feature's
// geometry, as the queryables publish it.
const GeometryProperty = "geometry"

// Expr is a node of a parsed filter. String gives it as cql2-text.
type Expr interface {
	String() string
	node()
}

// Literals.
type (
	Str    string
	Number float64
	Bool   bool
	// Date is a calendar day, at midnight UTC.
	Date struct{ T time.Time }
	// Timestamp is an instant, in UTC.
	Timestamp struct{ T time.Time }
	// Interval has ends that are Date, Timestamp, Open or Property.
	Interval struct{ Start, End Expr }
	// Open is the unbounded end '..' of an interval.
	Open struct{}
	// Geometry is a geometry literal. Its coordinates are in the filter's
	// CRS until Resolve converts them to WGS84.
	Geometry struct {
		G    orb.Geometry
		prep *shape // set by Resolve
	}
	// BBox is BBOX(w,s,e,n); W > E crosses the antimeridian.
	BBox struct{ W, S, E, N float64 }
)

// Property is a reference to a feature property, or with the name
// GeometryProperty in a spatial function to the feature's geometry.
type Property struct {
	Name string
	typ  string // field type set by Resolve, or "geometry"
}

// Predicates and functions. Op holds the cql2-json operator name.
type (
	// Logical is AND or OR ("and", "or") over two or more operands.
	Logical struct {
		Op   string
		Args []Expr
	}
	Not struct{ X Expr }
	// Compare is one of = <> < <= > >=.
	Compare struct {
		Op   string
		L, R Expr
	}
	// Like matches X against a pattern with % and _ wildcards and the \
	// escape; Pattern is a Str, possibly inside CaseI or AccentI.
	Like struct {
		X, Pattern Expr
		re         *regexp.Regexp // set by Resolve
	}
	Between struct{ X, Lo, Hi Expr }
	In      struct {
		X    Expr
		List []Expr
	}
	IsNull  struct{ X Expr }
	CaseI   struct{ X Expr }
	AccentI struct{ X Expr }
	// Spatial is one of the s_* functions.
	Spatial struct {
		Op   string
		A, B Expr
	}
	// Temporal is one of the t_* functions.
	Temporal struct {
		Op   string
		A, B Expr
	}
)

func (Str) node()       {}
func (Number) node()    {}
func (Bool) node()      {}
func (Date) node()      {}
func (Timestamp) node() {}
func (Interval) node()  {}
func (Open) node()      {}
func (Geometry) node()  {}
func (BBox) node()      {}
func (Property) node()  {}
func (Logical) node()   {}
func (Not) node()       {}
func (Compare) node()   {}
func (Like) node()      {}
func (Between) node()   {}
func (In) node()        {}
func (IsNull) node()    {}
func (CaseI) node()     {}
func (AccentI) node()   {}
func (Spatial) node()   {}
func (Temporal) node()  {}

// spatialOps and temporalOps are the function names in cql2-json spelling.
var (
	spatialOps  = []string{"s_contains", "s_crosses", "s_disjoint", "s_equals", "s_intersects", "s_overlaps", "s_touches", "s_within"}
	temporalOps = []string{"t_after", "t_before", "t_contains", "t_disjoint", "t_during", "t_equals", "t_finishedBy", "t_finishes",
		"t_intersects", "t_meets", "t_metBy", "t_overlappedBy", "t_overlaps", "t_startedBy", "t_starts"}
	compareOps = []string{"=", "<>", "<", "<=", ">", ">="}
)

// keywords are the words a bare property name cannot be.
var keywords = map[string]bool{
	"AND": true, "OR": true, "NOT": true, "LIKE": true, "BETWEEN": true, "IN": true, "IS": true, "NULL": true,
	"TRUE": true, "FALSE": true, "CASEI": true, "ACCENTI": true, "DATE": true, "TIMESTAMP": true, "INTERVAL": true,
	"BBOX": true, "POINT": true, "LINESTRING": true, "POLYGON": true, "MULTIPOINT": true, "MULTILINESTRING": true,
	"MULTIPOLYGON": true, "GEOMETRYCOLLECTION": true, "DIV": true,
	"A_CONTAINEDBY": true, "A_CONTAINS": true, "A_EQUALS": true, "A_OVERLAPS": true,
}

func isKeyword(s string) bool {
	u := strings.ToUpper(s)
	eq := func(op string) bool { return strings.EqualFold(op, u) }
	return keywords[u] || slices.ContainsFunc(spatialOps, eq) || slices.ContainsFunc(temporalOps, eq)
}

func (s Str) String() string { return "'" + strings.ReplaceAll(string(s), "'", "''") + "'" }

func (n Number) String() string { return formatNum(float64(n)) }

func formatNum(f float64) string { return strconv.FormatFloat(f, 'g', -1, 64) }

func (b Bool) String() string {
	if b {
		return "TRUE"
	}
	return "FALSE"
}

func (d Date) String() string      { return "DATE('" + d.T.Format(time.DateOnly) + "')" }
func (t Timestamp) String() string { return "TIMESTAMP('" + t.T.Format(time.RFC3339Nano) + "')" }
func (Open) String() string        { return "'..'" }

func (iv Interval) String() string {
	end := func(e Expr) string {
		switch e := e.(type) {
		case Date:
			return "'" + e.T.Format(time.DateOnly) + "'"
		case Timestamp:
			return "'" + e.T.Format(time.RFC3339Nano) + "'"
		}
		return e.String()
	}
	return "INTERVAL(" + end(iv.Start) + "," + end(iv.End) + ")"
}

func (g Geometry) String() string {
	var b strings.Builder
	writeWKT(&b, g.G)
	return b.String()
}

func (b BBox) String() string {
	return "BBOX(" + formatNum(b.W) + "," + formatNum(b.S) + "," + formatNum(b.E) + "," + formatNum(b.N) + ")"
}

func (p Property) String() string {
	if isIdent(p.Name) && !isKeyword(p.Name) {
		return p.Name
	}
	return `"` + strings.ReplaceAll(p.Name, `"`, `""`) + `"`
}

func (l Logical) String() string {
	parts := make([]string, len(l.Args))
	for i, a := range l.Args {
		parts[i] = a.String()
		if _, ok := a.(Logical); ok {
			parts[i] = "(" + parts[i] + ")"
		}
	}
	return strings.Join(parts, " "+strings.ToUpper(l.Op)+" ")
}

func (n Not) String() string     { return "NOT (" + n.X.String() + ")" }
func (c Compare) String() string { return c.L.String() + " " + c.Op + " " + c.R.String() }
func (l Like) String() string    { return l.X.String() + " LIKE " + l.Pattern.String() }
func (b Between) String() string {
	return b.X.String() + " BETWEEN " + b.Lo.String() + " AND " + b.Hi.String()
}

func (in In) String() string {
	parts := make([]string, len(in.List))
	for i, a := range in.List {
		parts[i] = a.String()
	}
	return in.X.String() + " IN (" + strings.Join(parts, ",") + ")"
}

func (n IsNull) String() string  { return n.X.String() + " IS NULL" }
func (c CaseI) String() string   { return "CASEI(" + c.X.String() + ")" }
func (a AccentI) String() string { return "ACCENTI(" + a.X.String() + ")" }
func (s Spatial) String() string {
	return strings.ToUpper(s.Op) + "(" + s.A.String() + "," + s.B.String() + ")"
}
func (t Temporal) String() string {
	return strings.ToUpper(t.Op) + "(" + t.A.String() + "," + t.B.String() + ")"
}

// isIdent reports whether s can stand unquoted as a property name.
func isIdent(s string) bool {
	if s == "" || !utf8.ValidString(s) {
		return false
	}
	for i, r := range s {
		if !identStart(r) && (i == 0 || !identPart(r)) {
			return false
		}
	}
	return true
}

// identStart and identPart follow the identifier rules of the CQL2 BNF,
// which admit letters of any script (Chinese names) and ':' for prefixes.
func identStart(r rune) bool { return unicode.IsLetter(r) || r == '_' || r == ':' }

func identPart(r rune) bool {
	return identStart(r) || unicode.IsDigit(r) || r == '.' || r == '\u00B7' || unicode.In(r, unicode.Mn, unicode.Mc) ||
		r == '\u203F' || r == '\u2040'
}

// writeWKT writes g as WKT, in the CQL2 spelling (MULTIPOINT((x y),...)).
func writeWKT(b *strings.Builder, g orb.Geometry) {
	pt := func(p orb.Point) { b.WriteString(formatNum(p[0]) + " " + formatNum(p[1])) }
	pts := func(ps []orb.Point) {
		b.WriteByte('(')
		for i, p := range ps {
			if i > 0 {
				b.WriteByte(',')
			}
			pt(p)
		}
		b.WriteByte(')')
	}
	poly := func(p orb.Polygon) {
		b.WriteByte('(')
		for i, r := range p {
			if i > 0 {
				b.WriteByte(',')
			}
			pts(r)
		}
		b.WriteByte(')')
	}
	switch g := g.(type) {
	case orb.Point:
		b.WriteString("POINT(")
		pt(g)
		b.WriteByte(')')
	case orb.MultiPoint:
		b.WriteString("MULTIPOINT(")
		for i, p := range g {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteByte('(')
			pt(p)
			b.WriteByte(')')
		}
		b.WriteByte(')')
	case orb.LineString:
		b.WriteString("LINESTRING")
		pts(g)
	case orb.MultiLineString:
		b.WriteString("MULTILINESTRING(")
		for i, l := range g {
			if i > 0 {
				b.WriteByte(',')
			}
			pts(l)
		}
		b.WriteByte(')')
	case orb.Polygon:
		b.WriteString("POLYGON")
		poly(g)
	case orb.MultiPolygon:
		b.WriteString("MULTIPOLYGON(")
		for i, p := range g {
			if i > 0 {
				b.WriteByte(',')
			}
			poly(p)
		}
		b.WriteByte(')')
	case orb.Collection:
		b.WriteString("GEOMETRYCOLLECTION(")
		for i, c := range g {
			if i > 0 {
				b.WriteByte(',')
			}
			writeWKT(b, c)
		}
		b.WriteByte(')')
	case orb.Ring:
		writeWKT(b, orb.Polygon{g})
	case orb.Bound:
		writeWKT(b, g.ToPolygon())
	}
}
