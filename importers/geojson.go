package importers

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"iter"
	"math"
	"os"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/paulmach/orb"

	"github.com/csdi-hk/csdi/geo"
	"github.com/csdi-hk/csdi/geo/crs"
)

// GeoJSON streams the features of an RFC 7946 document: a FeatureCollection
// (its features array is read one feature at a time, so the file's size does
// not matter), a single Feature, or newline-delimited Features. name labels
// errors.
//
// Ids: when the first feature has a positive integer "id", every feature
// must have a distinct one and they are kept; otherwise features are numbered
// 1, 2, 3... in file order, so re-importing the same file gives the same ids.
//
// A feature that is well-formed JSON but not a usable feature (no or a bad
// geometry, a number out of range, invalid UTF-8, a missing id) is yielded
// as a *FeatureError and the read goes on; JSON that is not well-formed
// ends the read with an error naming the feature and the byte offset.
func GeoJSON(r io.Reader, name string) iter.Seq2[geo.Feature, error] {
	return geojsonFeatures(r, name, 0)
}

// geojsonFeatures is GeoJSON for coordinates in c, converted to WGS84; 0
// means longitude/latitude.
func geojsonFeatures(r io.Reader, name string, c crs.CRS) iter.Seq2[geo.Feature, error] {
	return func(yield func(geo.Feature, error) bool) {
		g := geojsonReader{s: newJSONScanner(r), name: name, crs: c, yield: yield}
		g.run()
	}
}

// geojsonReader parses GeoJSON in one pass with its own tokenizer
// (geojson_scan.go, geojson_geometry.go), building orb geometries and
// property maps as it goes, without reflection: decoding each feature with
// encoding/json and its geometry a second time with orb/geojson took 12 us
// a building against under 2 (BenchmarkGeoJSONRead), and the reader sets
// the pace of an import. The old reader is kept in geojson_ref_test.go:
// the differential test and fuzz target hold this one to it.
type geojsonReader struct {
	s     *jsonScanner
	name  string
	crs   crs.CRS // of the coordinates; 0 for longitude/latitude
	n     int     // features read
	keep  bool    // use the source ids
	yield func(geo.Feature, error) bool

	// names holds the property names seen, so that the features of a
	// file share one copy of each; bounded, as a file may have a
	// different name in every feature.
	names map[string]string
}

func (g *geojsonReader) intern(b []byte) string {
	if s, ok := g.names[string(b)]; ok {
		return s
	}
	s := string(b)
	if len(g.names) < 4096 {
		if g.names == nil {
			g.names = map[string]string{}
		}
		g.names[s] = s
	}
	return s
}

func (g *geojsonReader) errf(format string, a ...any) error {
	return fmt.Errorf("%s: "+format, append([]any{g.name}, a...)...)
}

// fail yields an error that ends the read; the caller returns.
func (g *geojsonReader) fail(err error) {
	g.yield(geo.Feature{}, err)
}

// unit runs parse from the parse position, reading more input and
// starting parse over whenever it runs out.
func (g *geojsonReader) unit(parse func() error) error {
	for {
		start := g.s.pos
		err := parse()
		if err != errMore {
			return err
		}
		g.s.pos = start
		if !g.s.more(start) {
			return g.s.endErr()
		}
	}
}

// peekEOF is the next byte after white space; eof when the input ends
// first.
func (g *geojsonReader) peekEOF() (c byte, eof bool, err error) {
	for {
		c, err := g.s.peek()
		if err == nil {
			return c, false, nil
		}
		if !g.s.more(g.s.pos) {
			if g.s.err != nil {
				return 0, false, g.s.endErr()
			}
			return 0, true, nil
		}
	}
}

func (g *geojsonReader) run() {
	s := g.s
	for len(s.buf) < 3 && s.more(0) {
	}
	if bytes.HasPrefix(s.buf, []byte("\xef\xbb\xbf")) {
		s.pos = 3 // a byte order mark, as Windows editors write
	}
	c, eof, err := g.peekEOF()
	switch {
	case err != nil:
		g.fail(g.errf("not JSON: %w", err))
		return
	case eof:
		g.fail(g.errf("not JSON: the file is empty"))
		return
	case c == '[' || c == '"' || c == '-' || c >= '0' && c <= '9' || c == 't' || c == 'f' || c == 'n':
		g.fail(g.errf("not GeoJSON: the document must be a JSON object"))
		return
	case c != '{':
		g.fail(g.errf("not JSON: %w", s.unexpected("at the start")))
		return
	}
	s.pos++
	// The top level is read member by member, so that a "features" array
	// is streamed wherever it stands; "id", "geometry" and "properties"
	// are parsed in case the object turns out to be a single Feature.
	var typ string
	var top featureParse
	sawFeatures := false
	more := false
	if err := g.unit(func() (err error) { more, err = s.objectStart(); return err }); err != nil {
		g.fail(g.errf("reading the top-level object: %w", err))
		return
	}
	for more {
		var key string
		err := g.unit(func() error {
			k, _, err := s.key()
			key = string(k)
			return err
		})
		if err != nil {
			g.fail(g.errf("reading the top-level object: %w", err))
			return
		}
		switch key {
		case "features":
			sawFeatures = true
			if !g.streamFeatures() {
				return
			}
		case "type":
			err = g.unit(func() error {
				c, err := s.peek()
				switch {
				case err != nil:
					return err
				case c == '"':
					b, _, err := s.str()
					typ = string(b)
					return err
				case c == 'n':
					_, err = s.literal()
					return err
				}
				if err := s.skip(1); err != nil {
					return err
				}
				return errors.New("not a string")
			})
			if err != nil {
				g.fail(g.errf("reading \"type\": %w", err))
				return
			}
		case "id", "geometry", "properties":
			err = g.unit(func() error { return g.member(key, &top, true, 1) })
		default:
			err = g.unit(func() error { return s.skip(1) })
		}
		if err != nil {
			g.fail(g.errf("reading %q: %w", key, err))
			return
		}
		if err := g.unit(func() (err error) { more, err = s.objectNext(); return err }); err != nil {
			g.fail(g.errf("reading the top-level object: %w", err))
			return
		}
	}
	switch {
	case typ == "FeatureCollection" && sawFeatures:
	case typ == "FeatureCollection":
		g.fail(g.errf("FeatureCollection without a \"features\" array"))
		return
	case typ == "Feature":
		top.typ = "Feature"
		if !g.emit(&top) {
			return
		}
		// Newline-delimited GeoJSON: more Features follow the first.
		for {
			c, eof, err := g.peekEOF()
			if err != nil {
				g.fail(g.errf("after feature %d: %w", g.n, err))
				return
			}
			if eof || c == '}' || c == ']' {
				break
			}
			var f featureParse
			if err := g.unit(func() error { f = featureParse{}; return g.feature(&f, 1) }); err != nil {
				g.fail(g.errf("feature %d: %w", g.n+1, err))
				return
			}
			if !g.emit(&f) {
				return
			}
		}
	case typ == "":
		g.fail(g.errf("not GeoJSON: no \"type\" member"))
		return
	default:
		g.fail(g.errf("GeoJSON type %q is not a Feature or FeatureCollection", typ))
		return
	}
	if _, eof, err := g.peekEOF(); err != nil || !eof {
		g.fail(g.errf("unexpected data after the GeoJSON document (byte %d)", s.base+int64(s.pos)))
	}
}

// streamFeatures reads the value of "features"; false means stop.
func (g *geojsonReader) streamFeatures() bool {
	s := g.s
	more := false
	err := g.unit(func() error {
		c, err := s.next()
		switch {
		case err != nil:
			return err
		case c != '[':
			return errNotArray
		}
		more, err = s.arrayStart()
		return err
	})
	if err == errNotArray {
		g.fail(g.errf("\"features\" must be an array"))
		return false
	}
	if err != nil {
		g.fail(g.errf("reading \"features\": %w", err))
		return false
	}
	var f featureParse
	for more {
		if err := g.unit(func() error { f = featureParse{}; return g.feature(&f, 1) }); err != nil {
			g.fail(g.errf("feature %d: %w", g.n+1, err))
			return false
		}
		if !g.emit(&f) {
			return false
		}
		if err := g.unit(func() (err error) { more, err = s.arrayNext(); return err }); err != nil {
			g.fail(g.errf("truncated or broken \"features\" array after feature %d: %w", g.n, err))
			return false
		}
	}
	return true
}

var errNotArray = errors.New("not an array")

// featureMember names the member of a feature that key stands for, ""
// for one to skip; like encoding/json, it disregards case.
func featureMember(key []byte) string {
	switch string(key) {
	case "type":
		return "type"
	case "id":
		return "id"
	case "geometry":
		return "geometry"
	case "properties":
		return "properties"
	}
	for _, m := range [...]string{"type", "id", "geometry", "properties"} {
		if bytes.EqualFold(key, []byte(m)) {
			return m
		}
	}
	return ""
}

// featureParse is one feature as read, before it is checked.
type featureParse struct {
	typ       string
	idSet     bool   // an "id" member was read
	id        uint64 // when the id is a positive integer
	idText    string // the id as written, when it is not
	geomSet   bool
	geom      orb.Geometry
	geomErr   error
	props     map[string]any
	bad       int   // values in props that are badValues
	decodeErr error // a member of the wrong JSON type
}

// badValue stands in props for a value that cannot be used, until a later
// member of the same name replaces it (as encoding/json would have let it).
type badValue struct{ err error }

// feature reads one feature object at depth.
func (g *geojsonReader) feature(f *featureParse, depth int) error {
	s := g.s
	c, err := s.peek()
	if err != nil {
		return err
	}
	if c != '{' {
		if c == 'n' {
			_, err := s.literal()
			return err // no type: rejected as such
		}
		f.decodeErr = errors.New("not a JSON object")
		return s.skip(depth)
	}
	s.pos++
	more, err := s.objectStart()
	for more && err == nil {
		var k []byte
		if k, _, err = s.key(); err != nil {
			return err
		}
		name := featureMember(k)
		if name == "" {
			err = s.skip(depth + 1)
		} else {
			err = g.member(name, f, false, depth)
		}
		if err != nil {
			return err
		}
		more, err = s.objectNext()
	}
	return err
}

// member reads the value of the member name of a feature object at
// depth; top is for the members of the top-level object, which replace
// rather than merge "properties".
func (g *geojsonReader) member(name string, f *featureParse, top bool, depth int) error {
	s := g.s
	c, err := s.peek()
	if err != nil {
		return err
	}
	switch name {
	case "type":
		switch c {
		case '"':
			b, _, err := s.str()
			if string(b) == "Feature" {
				f.typ = "Feature"
			} else {
				f.typ = string(b)
			}
			return err
		case 'n':
			_, err := s.literal()
			return err
		}
		if f.decodeErr == nil {
			f.decodeErr = errors.New("\"type\" is not a string")
		}
		return s.skip(depth + 1)
	case "id":
		f.idSet, f.id, f.idText = true, 0, ""
		if c == '-' || c >= '0' && c <= '9' {
			b, err := s.number()
			if err != nil {
				return err
			}
			if id, ok := parseUintText(b); ok && id > 0 {
				f.id = id
			} else {
				f.idText = string(b)
			}
			return nil
		}
		start := s.pos
		if err := s.skip(depth + 1); err != nil {
			return err
		}
		f.idText = string(s.buf[start:s.pos])
		return nil
	case "geometry":
		f.geomSet = true
		geom, bad, err := g.geometry(depth + 1)
		f.geom, f.geomErr = geom, bad
		return err
	}
	if top {
		f.props, f.bad = nil, 0
	}
	switch c {
	case '{':
	case 'n':
		f.props, f.bad = nil, 0
		_, err := s.literal()
		return err
	default:
		if f.decodeErr == nil {
			f.decodeErr = errors.New("\"properties\" is not an object")
		}
		return s.skip(depth + 1)
	}
	s.pos++
	if f.props == nil {
		f.props = make(map[string]any, 8)
	}
	more, err := s.objectStart()
	for more && err == nil {
		var k []byte
		var high bool
		if k, high, err = s.key(); err != nil {
			return err
		}
		key := g.intern(k)
		var v any
		if v, err = g.property(key, depth+2); err != nil {
			return err
		}
		if high && !utf8.ValidString(key) {
			v = badValue{fmt.Errorf("property name %q is not valid UTF-8", key)}
		}
		if f.bad > 0 {
			if _, ok := f.props[key].(badValue); ok {
				f.bad--
			}
		}
		if _, ok := v.(badValue); ok {
			f.bad++
		}
		f.props[key] = v
		more, err = s.objectNext()
	}
	return err
}

// property reads one property value and maps it onto the feature model:
// integral numbers that fit become int64, other numbers float64, ISO 8601
// dates and date-times time.Time, nested objects and arrays their JSON
// text; a value that cannot be used is a badValue.
func (g *geojsonReader) property(key string, depth int) (any, error) {
	s := g.s
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
		if high && !utf8.Valid(b) {
			return badValue{fmt.Errorf("property %q: %w", key, validUTF8(string(b)))}, nil
		}
		return parseTime(string(b)), nil
	case c == '-' || c >= '0' && c <= '9':
		b, err := s.number()
		if err != nil {
			return nil, err
		}
		if i, ok := parseIntText(b); ok {
			return i, nil
		}
		if f, ok := parseJSONFloat(b); ok && finite(f) {
			return f, nil
		}
		return badValue{fmt.Errorf("property %q: number %s out of range", key, b)}, nil
	case c == '{' || c == '[':
		var bad error
		v, err := s.nested(depth, &bad)
		if err != nil {
			return nil, err
		}
		if bad != nil {
			return badValue{fmt.Errorf("property %q: %w", key, bad)}, nil
		}
		return string(appendNestedJSON(nil, v)), nil
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

// parseUintText converts the text of a JSON number written as a
// non-negative integer; ok is false for any other.
func parseUintText(b []byte) (uint64, bool) {
	if len(b) == 0 || len(b) > 19 {
		n, err := strconv.ParseUint(string(b), 10, 64)
		return n, err == nil
	}
	var n uint64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + uint64(c-'0')
	}
	return n, true
}

// emit checks one feature read and yields it, or its problem as a
// FeatureError; false means stop.
func (g *geojsonReader) emit(f *featureParse) bool {
	g.n++
	feat, err := g.convert(f)
	if err != nil {
		return g.yield(geo.Feature{}, &FeatureError{File: g.name, Row: g.n, Err: err})
	}
	return g.yield(feat, nil)
}

func (g *geojsonReader) convert(f *featureParse) (geo.Feature, error) {
	if f.decodeErr != nil {
		return geo.Feature{}, f.decodeErr
	}
	if f.typ != "Feature" {
		return geo.Feature{}, fmt.Errorf("type is %q, want \"Feature\"", f.typ)
	}
	id, hasID := f.id, f.id > 0
	if g.n == 1 {
		g.keep = hasID
	}
	switch {
	case g.keep && !hasID:
		text := f.idText
		if !f.idSet {
			text = "(none)"
		}
		return geo.Feature{}, fmt.Errorf("\"id\" %s is not a positive integer, but the first feature's id was (all or none must have one)", text)
	case !g.keep:
		id = uint64(g.n)
	}
	if !f.geomSet || f.geom == nil && f.geomErr == nil {
		return geo.Feature{}, errors.New("no geometry")
	}
	if f.geomErr != nil {
		return geo.Feature{}, fmt.Errorf("geometry: %w", f.geomErr)
	}
	geom, err := toWGS84(g.crs, f.geom)
	if err != nil {
		return geo.Feature{}, err
	}
	if f.bad > 0 {
		for _, v := range f.props {
			if b, ok := v.(badValue); ok {
				return geo.Feature{}, b.err
			}
		}
	}
	props := f.props
	if props == nil {
		props = map[string]any{}
	}
	return geo.Feature{ID: id, Geometry: geom, Properties: props}, nil
}

// CheckLonLat refuses coordinates that are not finite WGS84 longitudes and
// latitudes. Hong Kong 1980 Grid metres passed off as degrees are the common
// mistake, so the error names that CRS when the numbers look like it.
func CheckLonLat(g orb.Geometry) error {
	var bad error
	forEachPoint(g, func(p orb.Point) bool {
		x, y := p[0], p[1]
		switch {
		case math.IsNaN(x) || math.IsNaN(y) || math.IsInf(x, 0) || math.IsInf(y, 0):
			bad = fmt.Errorf("coordinate (%g, %g) is not a finite number", x, y)
		case x >= 800000 && x <= 870000 && y >= 800000 && y <= 850000:
			bad = fmt.Errorf("coordinate (%g, %g) is not longitude/latitude: it looks like Hong Kong 1980 Grid metres (EPSG:2326)", x, y)
		case x < -180 || x > 180 || y < -90 || y > 90:
			bad = fmt.Errorf("coordinate (%g, %g) is outside longitude -180..180, latitude -90..90", x, y)
		}
		return bad == nil
	})
	return bad
}

func forEachPoint(g orb.Geometry, fn func(orb.Point) bool) bool {
	switch g := g.(type) {
	case orb.Point:
		return fn(g)
	case orb.MultiPoint:
		for _, p := range g {
			if !fn(p) {
				return false
			}
		}
	case orb.LineString:
		return forEachPoint(orb.MultiPoint(g), fn)
	case orb.Ring:
		return forEachPoint(orb.MultiPoint(g), fn)
	case orb.MultiLineString:
		for _, l := range g {
			if !forEachPoint(orb.MultiPoint(l), fn) {
				return false
			}
		}
	case orb.Polygon:
		for _, r := range g {
			if !forEachPoint(orb.MultiPoint(r), fn) {
				return false
			}
		}
	case orb.MultiPolygon:
		for _, p := range g {
			if !forEachPoint(p, fn) {
				return false
			}
		}
	case orb.Collection:
		for _, c := range g {
			if !forEachPoint(c, fn) {
				return false
			}
		}
	}
	return true
}

// parseTime turns strictly formatted ISO 8601 dates and RFC 3339 date-times
// into time.Time and leaves every other string alone.
func parseTime(s string) any {
	switch {
	case len(s) == 10 && s[4] == '-' && s[7] == '-':
		if t, err := time.Parse(time.DateOnly, s); err == nil {
			return t
		}
	case len(s) >= 20 && s[4] == '-' && s[10] == 'T':
		if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
			return t
		}
	}
	return s
}

// readGeoJSON opens a GeoJSON file for Open. RFC 7946 GeoJSON is always
// longitude/latitude; the "crs" member of the 2008 specification, which
// GDAL still writes for other CRSs ("urn:ogc:def:crs:EPSG::2326"), is
// honoured when it comes before "features", as GDAL writes it.
func readGeoJSON(path string, opts Options) ([]Source, func() error, error) {
	declared, err := geojsonCRS(path)
	if err != nil && opts.CRS == "" {
		return nil, nil, err
	}
	c := crs.CRS84
	if declared != 0 || opts.CRS != "" {
		if c, err = sourceCRS(path, declared, opts); err != nil {
			return nil, nil, err
		}
	}
	var conv crs.CRS // longitude/latitude needs no conversion
	if !isLonLat(c) {
		conv = c
	}
	features := func(yield func(geo.Feature, error) bool) {
		f, err := os.Open(path)
		if err != nil {
			yield(geo.Feature{}, fmt.Errorf("open %s: %w", path, err))
			return
		}
		defer f.Close()
		geojsonFeatures(f, path, conv)(yield)
	}
	return []Source{{Format: FormatGeoJSON, CRS: c, Features: features}}, func() error { return nil }, nil
}

// geojsonCRS reads the top-level members of a GeoJSON file up to
// "features" for a legacy "crs" member: 0 when there is none.
func geojsonCRS(path string) (crs.CRS, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, fmt.Errorf("open %s: %w", path, err)
	}
	defer f.Close()
	dec := json.NewDecoder(bufio.NewReaderSize(f, 1<<16))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return 0, nil // GeoJSON's own errors are clearer
	}
	for dec.More() {
		key, err := dec.Token()
		if err != nil || key == "features" {
			return 0, nil
		}
		if key != "crs" {
			var skip json.RawMessage
			if err := dec.Decode(&skip); err != nil {
				return 0, nil
			}
			continue
		}
		var member struct {
			Type       string
			Properties struct {
				Name string
				Code json.Number
			}
		}
		if err := dec.Decode(&member); err != nil {
			return 0, fmt.Errorf("%s: the \"crs\" member: %w", path, err)
		}
		name := member.Properties.Name
		if name == "" && member.Properties.Code != "" {
			name = "EPSG:" + member.Properties.Code.String()
		}
		c, err := crs.Lookup(name)
		if err != nil {
			return 0, fmt.Errorf("%s: the \"crs\" member: %w", path, err)
		}
		return c, nil
	}
	return 0, nil
}
