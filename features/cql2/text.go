package cql2

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/paulmach/orb"
)

// SyntaxError is a cql2-text filter that does not parse; Pos is the byte
// offset where the parser gave up.
type SyntaxError struct {
	Pos int
	Msg string
}

func (e *SyntaxError) Error() string { return fmt.Sprintf("position %d: %s", e.Pos, e.Msg) }

type tokKind int

const (
	tEOF    tokKind = iota
	tIdent          // bare name or keyword
	tQuoted         // "double-quoted name"
	tString         // 'string'
	tNumber
	tPunct // ( ) , = <> < <= > >=
)

type token struct {
	kind tokKind
	text string // the name, string contents or punctuation
	num  float64
	pos  int
}

func (t token) String() string {
	switch t.kind {
	case tEOF:
		return "the end of the filter"
	case tString:
		return Str(t.text).String()
	case tQuoted:
		return strconv.Quote(t.text)
	}
	return "'" + t.text + "'"
}

// parser is a recursive-descent parser over the CQL2 BNF. Errors unwind
// by panicking with a *SyntaxError, which ParseText recovers.
type parser struct {
	src string
	pos int // where the next token starts scanning
	tok token
}

// ParseText parses a cql2-text filter.
func ParseText(s string) (e Expr, err error) {
	p := &parser{src: s}
	for i, r := range s {
		if _, n := utf8.DecodeRuneInString(s[i:]); r == utf8.RuneError && n == 1 {
			return nil, &SyntaxError{Pos: i, Msg: "the filter is not valid UTF-8"}
		}
	}
	defer func() {
		if r := recover(); r != nil {
			se, ok := r.(*SyntaxError)
			if !ok {
				panic(r)
			}
			e, err = nil, se
		}
	}()
	p.next()
	if p.tok.kind == tEOF {
		p.fail(p.tok.pos, "the filter is empty")
	}
	e = p.or()
	if p.tok.kind != tEOF {
		p.unexpected("AND, OR or the end of the filter")
	}
	return e, nil
}

func (p *parser) fail(pos int, format string, args ...any) {
	panic(&SyntaxError{Pos: pos, Msg: fmt.Sprintf(format, args...)})
}

func (p *parser) unexpected(want string) {
	p.fail(p.tok.pos, "expected %s, found %s", want, p.tok)
}

// next scans the next token into p.tok.
func (p *parser) next() {
	s := p.src
	for p.pos < len(s) {
		r, n := utf8.DecodeRuneInString(s[p.pos:])
		if !unicode.IsSpace(r) {
			break
		}
		p.pos += n
	}
	start := p.pos
	p.tok = token{pos: start}
	if start == len(s) {
		return
	}
	c := s[start]
	switch {
	case c == '\'' || c == '"':
		var b strings.Builder
		i := start + 1
		for {
			j := strings.IndexByte(s[i:], c)
			if j < 0 {
				if c == '"' {
					p.fail(start, "unterminated quoted property name")
				}
				p.fail(start, "unterminated string")
			}
			b.WriteString(s[i : i+j])
			i += j + 1
			if i < len(s) && s[i] == c { // doubled quote
				b.WriteByte(c)
				i++
				continue
			}
			break
		}
		p.pos = i
		p.tok.kind, p.tok.text = tString, b.String()
		if c == '"' {
			p.tok.kind = tQuoted
			if b.Len() == 0 {
				p.fail(start, "empty quoted property name")
			}
		}
	case isDigit(c) || ((c == '-' || c == '+' || c == '.') && p.numberAhead(start)):
		i := start
		if c == '-' || c == '+' {
			i++
		}
		digits := func() {
			for i < len(s) && isDigit(s[i]) {
				i++
			}
		}
		digits()
		if i < len(s) && s[i] == '.' {
			i++
			digits()
		}
		if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
			j := i + 1
			if j < len(s) && (s[j] == '+' || s[j] == '-') {
				j++
			}
			if j < len(s) && isDigit(s[j]) {
				i = j
				digits()
			}
		}
		f, err := strconv.ParseFloat(s[start:i], 64)
		if err != nil || math.IsInf(f, 0) {
			p.fail(start, "number %s out of range", s[start:i])
		}
		p.pos = i
		p.tok.kind, p.tok.text, p.tok.num = tNumber, s[start:i], f
	case c == '(' || c == ')' || c == ',' || c == '=':
		p.pos++
		p.tok.kind, p.tok.text = tPunct, s[start:p.pos]
	case c == '<' || c == '>':
		p.pos++
		if p.pos < len(s) && (s[p.pos] == '=' || (c == '<' && s[p.pos] == '>')) {
			p.pos++
		}
		p.tok.kind, p.tok.text = tPunct, s[start:p.pos]
	default:
		r, n := utf8.DecodeRuneInString(s[start:])
		if !identStart(r) || r == utf8.RuneError {
			if c == '!' && strings.HasPrefix(s[start:], "!=") {
				p.fail(start, "unexpected '!=': CQL2 writes not-equal as <>")
			}
			p.fail(start, "unexpected character %q", r)
		}
		i := start + n
		for i < len(s) {
			r, n := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError || !identPart(r) {
				break
			}
			i += n
		}
		p.pos = i
		p.tok.kind, p.tok.text = tIdent, s[start:i]
	}
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// numberAhead reports whether a sign or point at i starts a number.
func (p *parser) numberAhead(i int) bool {
	s := p.src
	if s[i] == '-' || s[i] == '+' {
		i++
	}
	if i < len(s) && s[i] == '.' {
		i++
	}
	return i < len(s) && isDigit(s[i])
}

// parenAhead reports whether the next token is '(' without scanning it.
func (p *parser) parenAhead() bool {
	rest := strings.TrimLeftFunc(p.src[p.pos:], unicode.IsSpace)
	return strings.HasPrefix(rest, "(")
}

func (p *parser) isKw(kw string) bool {
	return p.tok.kind == tIdent && strings.EqualFold(p.tok.text, kw)
}

func (p *parser) isPunct(s string) bool { return p.tok.kind == tPunct && p.tok.text == s }

func (p *parser) expect(s string) {
	if !p.isPunct(s) {
		p.unexpected("'" + s + "'")
	}
	p.next()
}

func (p *parser) expectKw(kw string) {
	if !p.isKw(kw) {
		p.unexpected(kw)
	}
	p.next()
}

func (p *parser) or() Expr { return p.logical("OR", p.and) }

func (p *parser) and() Expr { return p.logical("AND", p.factor) }

func (p *parser) logical(kw string, operand func() Expr) Expr {
	args := []Expr{operand()}
	for p.isKw(kw) {
		p.next()
		args = append(args, operand())
	}
	if len(args) == 1 {
		return args[0]
	}
	return Logical{Op: strings.ToLower(kw), Args: args}
}

func (p *parser) factor() Expr {
	if p.isKw("NOT") {
		p.next()
		return Not{p.factor()}
	}
	return p.primary()
}

func (p *parser) primary() Expr {
	if p.isPunct("(") {
		p.next()
		e := p.or()
		p.expect(")")
		return e
	}
	if p.tok.kind == tIdent {
		if op, ok := lookup(spatialOps, p.tok.text); ok {
			a, b := p.args2("a geometry", p.spatialArg)
			return Spatial{Op: op, A: a, B: b}
		}
		if op, ok := lookup(temporalOps, p.tok.text); ok {
			a, b := p.args2("a date, timestamp or interval", p.temporalArg)
			return Temporal{Op: op, A: a, B: b}
		}
	}
	return p.predicate(p.scalar())
}

// lookup finds name among ops, ignoring case.
func lookup(ops []string, name string) (string, bool) {
	i := slices.IndexFunc(ops, func(op string) bool { return strings.EqualFold(op, name) })
	if i < 0 {
		return "", false
	}
	return ops[i], true
}

// args2 reads "(a, b)" after a function name.
func (p *parser) args2(want string, arg func(string) Expr) (Expr, Expr) {
	p.next()
	p.expect("(")
	a := arg(want)
	p.expect(",")
	b := arg(want)
	p.expect(")")
	return a, b
}

func (p *parser) spatialArg(want string) Expr {
	pos := p.tok.pos
	switch e := p.scalar().(type) {
	case Geometry, BBox, Property:
		return e
	}
	p.fail(pos, "expected %s", want)
	return nil
}

func (p *parser) temporalArg(want string) Expr {
	pos := p.tok.pos
	switch e := p.scalar().(type) {
	case Date, Timestamp, Interval, Property:
		return e
	}
	p.fail(pos, "expected %s", want)
	return nil
}

// predicate reads what follows the first operand of a comparison.
func (p *parser) predicate(x Expr) Expr {
	switch {
	case p.tok.kind == tPunct && slices.Contains(compareOps, p.tok.text):
		op := p.tok.text
		p.next()
		return Compare{Op: op, L: x, R: p.scalar()}
	case p.isKw("NOT"):
		p.next()
		if !p.isKw("LIKE") && !p.isKw("BETWEEN") && !p.isKw("IN") {
			p.unexpected("LIKE, BETWEEN or IN after NOT")
		}
		return Not{p.predicate(x)}
	case p.isKw("LIKE"):
		p.next()
		return Like{X: x, Pattern: p.pattern()}
	case p.isKw("BETWEEN"):
		p.next()
		lo := p.scalar()
		p.expectKw("AND")
		return Between{X: x, Lo: lo, Hi: p.scalar()}
	case p.isKw("IN"):
		p.next()
		p.expect("(")
		list := []Expr{p.scalar()}
		for p.isPunct(",") {
			p.next()
			list = append(list, p.scalar())
		}
		p.expect(")")
		return In{X: x, List: list}
	case p.isKw("IS"):
		p.next()
		not := p.isKw("NOT")
		if not {
			p.next()
		}
		p.expectKw("NULL")
		if not {
			return Not{IsNull{x}}
		}
		return IsNull{x}
	}
	if b, ok := x.(Bool); ok {
		return b
	}
	p.unexpected("a comparison operator, LIKE, BETWEEN, IN or IS")
	return nil
}

// pattern reads a LIKE pattern: a string, possibly in CASEI or ACCENTI.
func (p *parser) pattern() Expr {
	switch {
	case p.tok.kind == tString:
		s := p.tok.text
		p.next()
		return Str(s)
	case p.isKw("CASEI") || p.isKw("ACCENTI"):
		casei := p.isKw("CASEI")
		p.next()
		p.expect("(")
		x := p.pattern()
		p.expect(")")
		if casei {
			return CaseI{x}
		}
		return AccentI{x}
	}
	p.unexpected("a pattern string")
	return nil
}

// scalar reads a literal, a property name or a function call.
func (p *parser) scalar() Expr {
	t := p.tok
	switch t.kind {
	case tString:
		p.next()
		return Str(t.text)
	case tNumber:
		p.next()
		return Number(t.num)
	case tQuoted:
		p.next()
		return Property{Name: t.text}
	case tIdent:
	default:
		p.unexpected("a value or property name")
	}
	switch u := strings.ToUpper(t.text); u {
	case "TRUE", "FALSE":
		p.next()
		return Bool(u == "TRUE")
	case "CASEI", "ACCENTI":
		p.next()
		p.expect("(")
		x := p.scalar()
		p.expect(")")
		if u == "CASEI" {
			return CaseI{x}
		}
		return AccentI{x}
	case "DATE", "TIMESTAMP":
		p.next()
		p.expect("(")
		if p.tok.kind != tString {
			p.unexpected("a quoted " + strings.ToLower(u))
		}
		e := p.instant(u == "DATE")
		p.expect(")")
		return e
	case "INTERVAL":
		p.next()
		p.expect("(")
		a := p.intervalEnd()
		p.expect(",")
		b := p.intervalEnd()
		p.expect(")")
		if !ordered(a, b) {
			p.fail(t.pos, "the interval starts after it ends")
		}
		return Interval{Start: a, End: b}
	case "BBOX":
		p.next()
		p.expect("(")
		var n []float64
		for {
			n = append(n, p.number())
			if !p.isPunct(",") {
				break
			}
			p.next()
		}
		p.expect(")")
		switch len(n) {
		case 4:
			return BBox{n[0], n[1], n[2], n[3]}
		case 6: // the heights are dropped
			return BBox{n[0], n[1], n[3], n[4]}
		}
		p.fail(t.pos, "BBOX takes 4 or 6 numbers, not %d", len(n))
	case "POINT", "LINESTRING", "POLYGON", "MULTIPOINT", "MULTILINESTRING", "MULTIPOLYGON", "GEOMETRYCOLLECTION":
		return Geometry{G: p.geometry()}
	}
	if u := strings.ToUpper(t.text); strings.HasPrefix(u, "A_") || u == "DIV" {
		p.fail(t.pos, "%s: array functions and arithmetic are not supported", t.text)
	}
	if isKeyword(t.text) {
		p.fail(t.pos, "unexpected keyword %s; quote a property of that name: %q", t.text, t.text)
	}
	if p.parenAhead() {
		p.fail(t.pos, "unknown function %s", t.text)
	}
	p.next()
	return Property{Name: t.text}
}

// instant reads the string of DATE or TIMESTAMP.
func (p *parser) instant(date bool) Expr {
	e, err := parseInstant(p.tok.text, date)
	if err != nil {
		p.fail(p.tok.pos, "%v", err)
	}
	p.next()
	return e
}

// parseInstant reads a date (YYYY-MM-DD) or an RFC 3339 timestamp.
func parseInstant(s string, date bool) (Expr, error) {
	if date {
		t, err := time.Parse(time.DateOnly, s)
		if err != nil {
			return nil, fmt.Errorf("%q is not a date YYYY-MM-DD", s)
		}
		return Date{t}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, strings.ToUpper(s))
	if err != nil {
		return nil, fmt.Errorf("%q is not an RFC 3339 timestamp such as 2020-01-01T00:00:00Z", s)
	}
	return Timestamp{t.UTC()}, nil
}

func (p *parser) intervalEnd() Expr {
	if p.tok.kind == tString {
		if p.tok.text == ".." {
			p.next()
			return Open{}
		}
		return p.instant(len(p.tok.text) == len(time.DateOnly))
	}
	pos := p.tok.pos
	switch e := p.scalar().(type) {
	case Date, Timestamp, Property:
		return e
	}
	p.fail(pos, "expected a date, a timestamp, '..' or a property name")
	return nil
}

// ordered reports whether interval ends that are both literals are in order.
func ordered(a, b Expr) bool {
	ta, okA := instantOf(a)
	tb, okB := instantOf(b)
	return !okA || !okB || !ta.After(tb)
}

func instantOf(e Expr) (time.Time, bool) {
	switch e := e.(type) {
	case Date:
		return e.T, true
	case Timestamp:
		return e.T, true
	}
	return time.Time{}, false
}

func (p *parser) number() float64 {
	if p.tok.kind != tNumber {
		p.unexpected("a number")
	}
	f := p.tok.num
	p.next()
	return f
}

// geometry reads a WKT geometry; Z and M values are dropped.
func (p *parser) geometry() orb.Geometry {
	kind := strings.ToUpper(p.tok.text)
	p.next()
	if p.isKw("Z") || p.isKw("M") || p.isKw("ZM") {
		p.next()
	}
	if p.isKw("EMPTY") {
		p.fail(p.tok.pos, "empty geometries are not supported")
	}
	switch kind {
	case "POINT":
		p.expect("(")
		pt := p.coord()
		p.expect(")")
		return pt
	case "LINESTRING":
		return p.line()
	case "POLYGON":
		return p.polygon()
	case "MULTIPOINT":
		return orb.MultiPoint(list(p, func() orb.Point {
			if p.isPunct("(") {
				p.next()
				pt := p.coord()
				p.expect(")")
				return pt
			}
			return p.coord()
		}))
	case "MULTILINESTRING":
		return orb.MultiLineString(list(p, p.line))
	case "MULTIPOLYGON":
		return orb.MultiPolygon(list(p, p.polygon))
	}
	return orb.Collection(list(p, func() orb.Geometry {
		if p.tok.kind != tIdent || !slices.Contains([]string{"POINT", "LINESTRING", "POLYGON", "MULTIPOINT", "MULTILINESTRING",
			"MULTIPOLYGON", "GEOMETRYCOLLECTION"}, strings.ToUpper(p.tok.text)) {
			p.unexpected("a WKT geometry")
		}
		return p.geometry()
	}))
}

// list reads "(item, item, ...)".
func list[T any](p *parser, item func() T) []T {
	p.expect("(")
	out := []T{item()}
	for p.isPunct(",") {
		p.next()
		out = append(out, item())
	}
	p.expect(")")
	return out
}

func (p *parser) coord() orb.Point {
	pt := orb.Point{p.number(), p.number()}
	for range 2 { // Z, M
		if p.tok.kind == tNumber {
			p.next()
		}
	}
	return pt
}

func (p *parser) line() orb.LineString {
	pos := p.tok.pos
	ls := orb.LineString(list(p, p.coord))
	if err := checkLine(ls); err != nil {
		p.fail(pos, "%v", err)
	}
	return ls
}

func (p *parser) polygon() orb.Polygon {
	return orb.Polygon(list(p, func() orb.Ring {
		pos := p.tok.pos
		r := orb.Ring(list(p, p.coord))
		if err := checkRing(r); err != nil {
			p.fail(pos, "%v", err)
		}
		return r
	}))
}

func checkLine(ls orb.LineString) error {
	if len(ls) < 2 {
		return fmt.Errorf("a linestring needs at least 2 points")
	}
	return nil
}

func checkRing(r orb.Ring) error {
	if len(r) < 4 || r[0] != r[len(r)-1] {
		return fmt.Errorf("a polygon ring needs at least 4 points, the last equal to the first")
	}
	return nil
}
