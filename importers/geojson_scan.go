package importers

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"math/bits"
	"slices"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/csdi-hk/csdi/internal/jsonw"
)

// jsonScanner is the tokenizer under the GeoJSON reader. It parses straight
// from a buffer that holds at least the unit being parsed (one feature, or
// one member of the top-level object): a parse that runs off the end of the
// buffer returns errMore, and the caller reads more and parses the unit
// again from its start. Buffer boundaries are then rare events instead of a
// check on every byte, and slices of the buffer (strings without escapes,
// number text) stay valid for the whole unit.
type jsonScanner struct {
	r    io.Reader
	buf  []byte // the bytes read and not yet dropped
	pos  int    // the next byte to parse, in buf
	base int64  // offset in the input of buf[0]
	eof  bool
	err  error // a read error other than io.EOF

	unq []byte // unescaped string scratch
}

// errMore is a parse running out of buffered input; it is never wrapped.
var errMore = errors.New("more input needed")

// maxJSONDepth bounds the nesting of arrays and objects, as encoding/json
// does, so that a hostile file cannot exhaust the stack.
const maxJSONDepth = 10000

func newJSONScanner(r io.Reader) *jsonScanner {
	return &jsonScanner{r: r, buf: make([]byte, 0, 1<<18)}
}

// more drops the bytes before keep, reads more, and reports whether any
// came; the parse position moves with the kept bytes.
func (s *jsonScanner) more(keep int) bool {
	if s.eof || s.err != nil {
		return false
	}
	if keep > 0 {
		n := copy(s.buf[:cap(s.buf)], s.buf[keep:])
		s.buf = s.buf[:n]
		s.base += int64(keep)
		s.pos -= keep
	}
	if len(s.buf) == cap(s.buf) {
		// A unit larger than the buffer: the buffer grows to hold it, so a
		// file's largest feature (not its size) bounds the memory.
		grown := make([]byte, len(s.buf), 2*cap(s.buf))
		copy(grown, s.buf)
		s.buf = grown
	}
	// The buffer is filled, not just read into once: a parse starts over
	// after each read, so a reader that returns little at a time (a pipe,
	// a decompressor) would make a large feature cost its size squared.
	start := len(s.buf)
	for len(s.buf) < cap(s.buf) {
		n, err := s.r.Read(s.buf[len(s.buf):cap(s.buf)])
		s.buf = s.buf[:len(s.buf)+n]
		if err == io.EOF {
			s.eof = true
			break
		}
		if err != nil {
			s.err = err
			break
		}
	}
	return len(s.buf) > start
}

// endErr is the error for input that ends inside a unit.
func (s *jsonScanner) endErr() error {
	if s.err != nil {
		return fmt.Errorf("reading at byte %d: %w", s.base+int64(len(s.buf)), s.err)
	}
	return fmt.Errorf("unexpected end of the file at byte %d (truncated?)", s.base+int64(len(s.buf)))
}

func (s *jsonScanner) syntaxf(format string, a ...any) error {
	return fmt.Errorf("invalid JSON at byte %d: %s", s.base+int64(s.pos), fmt.Sprintf(format, a...))
}

func (s *jsonScanner) unexpected(what string) error {
	if s.pos >= len(s.buf) {
		return errMore
	}
	c := s.buf[s.pos]
	if c < 0x20 || c >= 0x7f {
		return s.syntaxf("byte 0x%02x %s", c, what)
	}
	return s.syntaxf("%q %s", c, what)
}

// peek skips white space and returns the next byte without taking it.
func (s *jsonScanner) peek() (byte, error) {
	for s.pos < len(s.buf) {
		switch c := s.buf[s.pos]; c {
		case ' ', '\n', '\r', '\t':
			s.pos++
		default:
			return c, nil
		}
	}
	return 0, errMore
}

// next is peek and take.
func (s *jsonScanner) next() (byte, error) {
	c, err := s.peek()
	if err == nil {
		s.pos++
	}
	return c, err
}

// objectNext is called after an object's member: true when another
// member follows (the comma taken), false at the closing brace.
func (s *jsonScanner) objectNext() (bool, error) {
	c, err := s.next()
	switch {
	case err != nil:
		return false, err
	case c == ',':
		return true, nil
	case c == '}':
		return false, nil
	}
	s.pos--
	return false, s.unexpected("after an object member, want ',' or '}'")
}

// arrayNext is objectNext for arrays.
func (s *jsonScanner) arrayNext() (bool, error) {
	c, err := s.next()
	switch {
	case err != nil:
		return false, err
	case c == ',':
		return true, nil
	case c == ']':
		return false, nil
	}
	s.pos--
	return false, s.unexpected("after an array element, want ',' or ']'")
}

// objectStart is called after '{': false for an empty object; otherwise
// the parse stands at the first key.
func (s *jsonScanner) objectStart() (bool, error) {
	c, err := s.peek()
	if err != nil {
		return false, err
	}
	if c == '}' {
		s.pos++
		return false, nil
	}
	return true, nil
}

// arrayStart is objectStart for arrays.
func (s *jsonScanner) arrayStart() (bool, error) {
	c, err := s.peek()
	if err != nil {
		return false, err
	}
	if c == ']' {
		s.pos++
		return false, nil
	}
	return true, nil
}

// key reads an object key and its colon. The key is a slice of the buffer
// or of the scratch space: valid until the next string is read; high is
// str's.
func (s *jsonScanner) key() (k []byte, high bool, err error) {
	c, err := s.peek()
	if err != nil {
		return nil, false, err
	}
	if c != '"' {
		return nil, false, s.unexpected("where an object key should be")
	}
	if k, high, err = s.str(); err != nil {
		return nil, false, err
	}
	if c, err = s.next(); err != nil {
		return nil, false, err
	}
	if c != ':' {
		s.pos--
		return nil, false, s.unexpected("after an object key, want ':'")
	}
	return k, high, nil
}

// str reads a string at '"' and returns its contents, unescaped, and
// whether they hold bytes outside ASCII (to be checked for UTF-8 by the
// caller that keeps them).
func (s *jsonScanner) str() ([]byte, bool, error) {
	start := s.pos + 1
	high := false
	for i := start; i < len(s.buf); i++ {
		switch c := s.buf[i]; {
		case c == '"':
			s.pos = i + 1
			return s.buf[start:i], high, nil
		case c == '\\':
			return s.strEscaped(start, i)
		case c < 0x20:
			s.pos = i
			return nil, false, s.syntaxf("control character 0x%02x in a string", c)
		case c >= 0x80:
			high = true
		}
	}
	return nil, false, errMore
}

// strEscaped finishes str for a string with escapes, from i, the first
// backslash; it unescapes as encoding/json does (an unpaired surrogate
// becomes U+FFFD).
func (s *jsonScanner) strEscaped(start, i int) ([]byte, bool, error) {
	b := append(s.unq[:0], s.buf[start:i]...)
	high := false
	for _, c := range b {
		high = high || c >= 0x80
	}
	for i < len(s.buf) {
		c := s.buf[i]
		switch {
		case c == '"':
			s.pos = i + 1
			s.unq = b
			return b, high, nil
		case c < 0x20:
			s.pos = i
			return nil, false, s.syntaxf("control character 0x%02x in a string", c)
		case c != '\\':
			high = high || c >= 0x80
			b = append(b, c)
			i++
			continue
		}
		if i+1 >= len(s.buf) {
			return nil, false, errMore
		}
		switch e := s.buf[i+1]; e {
		case '"', '\\', '/':
			b = append(b, e)
		case 'b':
			b = append(b, '\b')
		case 'f':
			b = append(b, '\f')
		case 'n':
			b = append(b, '\n')
		case 'r':
			b = append(b, '\r')
		case 't':
			b = append(b, '\t')
		case 'u':
			r, err := s.hex4(i + 2)
			if err != nil {
				return nil, false, err
			}
			i += 6
			if utf16.IsSurrogate(r) {
				if i+1 >= len(s.buf) {
					return nil, false, errMore
				}
				r2 := utf8.RuneError
				if s.buf[i] == '\\' && s.buf[i+1] == 'u' {
					if r2, err = s.hex4(i + 2); err != nil {
						return nil, false, err
					}
				}
				if d := utf16.DecodeRune(r, r2); d != utf8.RuneError {
					i += 6
					r = d
				} else {
					r = utf8.RuneError
				}
			}
			high = high || r >= utf8.RuneSelf
			b = utf8.AppendRune(b, r)
			continue
		default:
			s.pos = i
			return nil, false, s.syntaxf("invalid escape \\%c in a string", e)
		}
		i += 2
	}
	s.unq = b
	return nil, false, errMore
}

// hex4 reads the four hex digits of a \u escape at i.
func (s *jsonScanner) hex4(i int) (rune, error) {
	if i+4 > len(s.buf) {
		return 0, errMore
	}
	var r rune
	for _, c := range s.buf[i : i+4] {
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c -= 'a' - 10
		case c >= 'A' && c <= 'F':
			c -= 'A' - 10
		default:
			s.pos = i
			return 0, s.syntaxf("invalid \\u escape in a string")
		}
		r = r<<4 | rune(c)
	}
	return r, nil
}

// number reads a JSON number and returns its text.
func (s *jsonScanner) number() ([]byte, error) {
	b, i := s.buf, s.pos
	start := i
	if i < len(b) && b[i] == '-' {
		i++
	}
	switch {
	case i >= len(b):
		return nil, errMore
	case b[i] == '0':
		i++
	case b[i] >= '1' && b[i] <= '9':
		for i++; i < len(b) && b[i] >= '0' && b[i] <= '9'; i++ {
		}
	default:
		s.pos = i
		return nil, s.unexpected("in a number")
	}
	if i < len(b) && b[i] == '.' {
		i++
		d := i
		for ; i < len(b) && b[i] >= '0' && b[i] <= '9'; i++ {
		}
		if i == d {
			if i >= len(b) {
				return nil, errMore
			}
			s.pos = i
			return nil, s.unexpected("in a number, want a digit after '.'")
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		d := i
		for ; i < len(b) && b[i] >= '0' && b[i] <= '9'; i++ {
		}
		if i == d {
			if i >= len(b) {
				return nil, errMore
			}
			s.pos = i
			return nil, s.unexpected("in a number, want a digit in the exponent")
		}
	}
	if i >= len(b) {
		return nil, errMore // the number may go on
	}
	s.pos = i
	return b[start:i], nil
}

// literal reads true, false or null, whichever starts at the parse
// position.
func (s *jsonScanner) literal() (byte, error) {
	var want string
	switch c := s.buf[s.pos]; c {
	case 't':
		want = "true"
	case 'f':
		want = "false"
	case 'n':
		want = "null"
	default:
		return 0, s.unexpected("where a value should be")
	}
	rest := s.buf[s.pos:]
	if len(rest) < len(want) {
		if string(rest) == want[:len(rest)] {
			return 0, errMore
		}
		return 0, s.syntaxf("invalid literal, want %s", want)
	}
	if string(rest[:len(want)]) != want {
		return 0, s.syntaxf("invalid literal, want %s", want)
	}
	s.pos += len(want)
	return want[0], nil
}

// skip reads any value and drops it; depth is that of the value.
func (s *jsonScanner) skip(depth int) error {
	c, err := s.peek()
	if err != nil {
		return err
	}
	switch {
	case c == '"':
		_, _, err := s.str()
		return err
	case c == '-' || c >= '0' && c <= '9':
		_, err := s.number()
		return err
	case c == '{' || c == '[':
		if depth >= maxJSONDepth {
			return s.syntaxf("nested deeper than %d", maxJSONDepth)
		}
		s.pos++
		var more bool
		if c == '{' {
			more, err = s.objectStart()
		} else {
			more, err = s.arrayStart()
		}
		for more && err == nil {
			if c == '{' {
				if _, _, err = s.key(); err != nil {
					return err
				}
			}
			if err = s.skip(depth + 1); err != nil {
				return err
			}
			if c == '{' {
				more, err = s.objectNext()
			} else {
				more, err = s.arrayNext()
			}
		}
		return err
	}
	_, err = s.literal()
	return err
}

// jsonNumber is the text of a number in a nested property value, kept as
// written, as encoding/json's Number keeps it.
type jsonNumber string

// nested reads any value into the model that nestedJSON writes back:
// map[string]any (duplicate keys: the last wins), []any, string,
// jsonNumber, bool, nil. It returns an error of its own, not in the
// scanner's flow, for invalid UTF-8 (bad) besides syntax errors (err).
func (s *jsonScanner) nested(depth int, bad *error) (any, error) {
	c, err := s.peek()
	if err != nil {
		return nil, err
	}
	switch {
	case c == '"':
		b, high, err := s.str()
		if err != nil {
			return nil, err
		}
		if high && !utf8.Valid(b) && *bad == nil {
			*bad = errors.New("invalid UTF-8 in a string")
		}
		return string(b), nil
	case c == '-' || c >= '0' && c <= '9':
		b, err := s.number()
		return jsonNumber(b), err
	case c == '{':
		if depth >= maxJSONDepth {
			return nil, s.syntaxf("nested deeper than %d", maxJSONDepth)
		}
		s.pos++
		m := map[string]any{}
		more, err := s.objectStart()
		for more && err == nil {
			var k []byte
			var high bool
			if k, high, err = s.key(); err != nil {
				return nil, err
			}
			if high && !utf8.Valid(k) && *bad == nil {
				*bad = errors.New("invalid UTF-8 in a key")
			}
			key := string(k)
			var v any
			if v, err = s.nested(depth+1, bad); err != nil {
				return nil, err
			}
			m[key] = v
			more, err = s.objectNext()
		}
		return m, err
	case c == '[':
		if depth >= maxJSONDepth {
			return nil, s.syntaxf("nested deeper than %d", maxJSONDepth)
		}
		s.pos++
		a := []any{}
		more, err := s.arrayStart()
		for more && err == nil {
			var v any
			if v, err = s.nested(depth+1, bad); err != nil {
				return nil, err
			}
			a = append(a, v)
			more, err = s.arrayNext()
		}
		return a, err
	}
	l, err := s.literal()
	switch {
	case err != nil:
		return nil, err
	case l == 'n':
		return nil, nil
	}
	return l == 't', nil
}

// appendNestedJSON writes v, as read by nested, as encoding/json.Marshal
// writes the same value decoded with UseNumber: object keys sorted, <, >
// and & escaped; so a nested property keeps the text it has always had.
func appendNestedJSON(dst []byte, v any) []byte {
	switch v := v.(type) {
	case nil:
		return append(dst, "null"...)
	case bool:
		return strconv.AppendBool(dst, v)
	case jsonNumber:
		return append(dst, v...)
	case string:
		return jsonw.AppendString(dst, v, true)
	case []any:
		dst = append(dst, '[')
		for i, e := range v {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = appendNestedJSON(dst, e)
		}
		return append(dst, ']')
	case map[string]any:
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		dst = append(dst, '{')
		for i, k := range keys {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = jsonw.AppendString(dst, k, true)
			dst = append(dst, ':')
			dst = appendNestedJSON(dst, v[k])
		}
		return append(dst, '}')
	}
	panic(fmt.Sprintf("appendNestedJSON: %T", v)) // nested makes no other type
}

// pow10 are the powers of ten that a float64 holds exactly.
var pow10 = [...]float64{1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10,
	1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22}

// upow10 are the powers of ten that a uint64 holds.
var upow10 = [...]uint64{1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10,
	1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19}

// parseJSONFloat converts the text of a JSON number, correctly rounded as
// strconv.ParseFloat does, which it is about twice as fast as on
// coordinates: most have no exponent and at most 19 significant digits,
// so they are an integer m over 10^k, both exact in a uint64. At most 15
// digits, one float64 division is exact (Clinger's fast path); above,
// divDecimal divides in integers. The rest go to strconv. ok is false for
// a number out of float64's range.
func parseJSONFloat(b []byte) (float64, bool) {
	i, neg := 0, false
	if len(b) > 0 && b[0] == '-' {
		neg, i = true, 1
	}
	var m uint64
	digits, k := 0, 0
	for ; i < len(b) && b[i] >= '0' && b[i] <= '9'; i++ {
		m = m*10 + uint64(b[i]-'0')
		if digits > 0 || b[i] != '0' {
			digits++ // significant digits, so leading zeros do not count
		}
	}
	if i < len(b) && b[i] == '.' {
		for i++; i < len(b) && b[i] >= '0' && b[i] <= '9'; i++ {
			m = m*10 + uint64(b[i]-'0')
			if digits > 0 || b[i] != '0' {
				digits++
			}
			k++
		}
	}
	if i == len(b) && digits <= 19 && k <= 19 {
		var f float64
		switch {
		case m == 0:
		case digits <= 15:
			f = float64(m) / pow10[k]
		default:
			f = divDecimal(m, upow10[k])
		}
		if neg {
			f = -f
		}
		return f, true
	}
	f, err := strconv.ParseFloat(string(b), 64)
	return f, err == nil
}

// divDecimal is m/d correctly rounded (to nearest, ties to even), for m,
// d > 0 and m/d within 1e-19..1e20: the quotient is taken to 63 or 64
// bits in integers, then rounded to 53 with the remainder as sticky bit.
func divDecimal(m, d uint64) float64 {
	s := 63 - bits.Len64(m) + bits.Len64(d) // 0..126: m<<s / d has 63 or 64 bits
	var hi, lo uint64
	switch {
	case s == 0:
		lo = m
	case s < 64:
		hi, lo = m>>(64-s), m<<s
	default:
		hi = m << (s - 64)
	}
	q, r := bits.Div64(hi, lo, d) // hi < d, as m < 2^Len(m)
	shift := bits.Len64(q) - 53
	mant := q >> shift
	rest, half := q&(1<<shift-1), uint64(1)<<(shift-1)
	if rest > half || rest == half && (r != 0 || mant&1 == 1) {
		mant++
		if mant == 1<<53 {
			mant >>= 1
			shift++
		}
	}
	// m/d = mant * 2^(shift-s), mant in [2^52, 2^53).
	e := 52 + shift - s
	return math.Float64frombits(uint64(e+1023)<<52 | mant&(1<<52-1))
}

// parseIntText converts the text of a JSON number written as an integer;
// ok is false for other numbers and those out of int64's range.
func parseIntText(b []byte) (int64, bool) {
	if bytes.IndexAny(b, ".eE") >= 0 {
		return 0, false
	}
	if len(b) <= 18 {
		// Fits without overflow checks.
		i, neg := 0, false
		if b[0] == '-' {
			neg, i = true, 1
		}
		var n int64
		for ; i < len(b); i++ {
			n = n*10 + int64(b[i]-'0')
		}
		if neg {
			n = -n
		}
		return n, true
	}
	n, err := strconv.ParseInt(string(b), 10, 64)
	return n, err == nil
}

// finite reports whether f is a finite number.
func finite(f float64) bool { return !math.IsInf(f, 0) && !math.IsNaN(f) }
