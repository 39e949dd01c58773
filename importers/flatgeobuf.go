package importers

// FlatGeobuf (https://flatgeobuf.org/) is read here with a small flatbuffers
// reader that checks every offset against the buffer: the generated Go code
// of the flatgeobuf and flatbuffers modules trusts its input and panics on a
// corrupt file.

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"strconv"
	"unicode/utf8"

	"github.com/paulmach/orb"

	"github.com/csdi-hk/csdi/geo"
	"github.com/csdi-hk/csdi/geo/crs"
)

const (
	// maxFGBHeader and maxFGBFeature bound what one size prefix may make
	// the reader allocate: a header is a schema and a CRS, a feature one
	// geometry and its attributes.
	maxFGBHeader  = 64 << 20
	maxFGBFeature = 1 << 30
	// fgbNodeSize is the size of an R-tree node: a bounding box and an
	// offset.
	fgbNodeSize = 40
)

// FlatGeobuf geometry types, as in WKB.
const (
	fgbUnknown = iota
	fgbPoint
	fgbLineString
	fgbPolygon
	fgbMultiPoint
	fgbMultiLineString
	fgbMultiPolygon
	fgbCollection
)

// FlatGeobuf column types.
const (
	fgbByte = iota
	fgbUByte
	fgbBool
	fgbShort
	fgbUShort
	fgbInt
	fgbUInt
	fgbLong
	fgbULong
	fgbFloat
	fgbDouble
	fgbString
	fgbJSON
	fgbDateTime
	fgbBinary
)

type fgbColumn struct {
	name string
	typ  byte
}

// fgbHeader is what the reader needs of a FlatGeobuf header.
type fgbHeader struct {
	geometryType byte
	columns      []fgbColumn
	count        uint64 // features; 0 when unknown
	nodeSize     uint16 // of the spatial index; 0 when there is none
	crs          crs.CRS
	indexSize    uint64
}

// readFlatGeobuf opens a FlatGeobuf file for Open: its header names the
// CRS (an EPSG code, else WKT) and the columns; the optional spatial index
// is skipped; features are numbered from 1 in file order.
func readFlatGeobuf(path string, opts Options) ([]Source, func() error, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, fmt.Errorf("open %s: %w", path, err)
	}
	defer f.Close()
	h, err := readFGBHeader(bufio.NewReader(f))
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	c, err := sourceCRS(path, h.crs, opts)
	if err != nil {
		return nil, nil, err
	}
	features := func(yield func(geo.Feature, error) bool) {
		f, err := os.Open(path)
		if err != nil {
			yield(geo.Feature{}, fmt.Errorf("open %s: %w", path, err))
			return
		}
		defer f.Close()
		fgbFeatures(bufio.NewReaderSize(f, 1<<16), path, c)(yield)
	}
	return []Source{{Format: FormatFlatGeobuf, CRS: c, Features: features}}, func() error { return nil }, nil
}

// readFGBHeader reads the magic bytes and the header, and leaves r at the
// spatial index or the first feature.
func readFGBHeader(r io.Reader) (*fgbHeader, error) {
	var head [12]byte
	if _, err := io.ReadFull(r, head[:]); err != nil {
		return nil, fmt.Errorf("truncated FlatGeobuf header: %w", err)
	}
	if string(head[:3]) != "fgb" || string(head[4:7]) != "fgb" {
		return nil, errors.New("not a FlatGeobuf file: wrong magic bytes")
	}
	if head[3] != 3 {
		return nil, fmt.Errorf("FlatGeobuf version %d; only version 3 is known", head[3])
	}
	size := binary.LittleEndian.Uint32(head[8:])
	if size < 8 || size > maxFGBHeader {
		return nil, fmt.Errorf("FlatGeobuf header of %d bytes", size)
	}
	buf, err := readN(r, int(size), nil)
	if err != nil {
		return nil, fmt.Errorf("truncated FlatGeobuf header: %w", err)
	}
	h, err := parseFGBHeader(buf)
	if err != nil {
		return nil, fmt.Errorf("FlatGeobuf header: %w", err)
	}
	return h, nil
}

// parseFGBHeader reads the header table (header.fbs).
func parseFGBHeader(buf []byte) (*fgbHeader, error) {
	t, err := fbRoot(buf)
	if err != nil {
		return nil, err
	}
	h := &fgbHeader{}
	// Z and M values, when hasZ or hasM say there are some, are in
	// vectors of their own, which are not read.
	h.geometryType = t.u8(2, 0)
	cols, err := t.tables(7)
	if err != nil {
		return nil, fmt.Errorf("columns: %w", err)
	}
	if h.columns, err = fgbColumns(cols); err != nil {
		return nil, err
	}
	h.count = t.u64(8, 0)
	h.nodeSize = t.u16(9, 16)
	if h.nodeSize == 1 {
		return nil, errors.New("spatial index node size 1")
	}
	if h.nodeSize > 0 && h.count > 0 {
		if h.count > 1<<56 {
			return nil, fmt.Errorf("%d features", h.count)
		}
		n, nodes := h.count, h.count
		for n != 1 {
			n = (n + uint64(h.nodeSize) - 1) / uint64(h.nodeSize)
			nodes += n
		}
		h.indexSize = nodes * fgbNodeSize
	}
	if c, ok, err := t.table(10); err != nil {
		return nil, fmt.Errorf("crs: %w", err)
	} else if ok {
		if h.crs, err = fgbCRS(c); err != nil {
			return nil, err
		}
	}
	return h, nil
}

func fgbColumns(cols []fbTable) ([]fgbColumn, error) {
	out := make([]fgbColumn, len(cols))
	for i, c := range cols {
		name, err := c.str(0)
		if err != nil || name == "" {
			return nil, fmt.Errorf("column %d: no name: %v", i, err)
		}
		if err := validUTF8(name); err != nil {
			return nil, fmt.Errorf("column %d: %w", i, err)
		}
		out[i] = fgbColumn{name: name, typ: c.u8(1, 0)}
		if out[i].typ > fgbBinary {
			return nil, fmt.Errorf("column %q: unknown type %d", name, out[i].typ)
		}
	}
	return out, nil
}

// fgbCRS reads the Crs table: org (EPSG when absent) and code, else WKT.
func fgbCRS(t fbTable) (crs.CRS, error) {
	org, err := t.str(0)
	if err != nil {
		return 0, fmt.Errorf("crs: %w", err)
	}
	if org == "" {
		org = "EPSG"
	}
	if code := int32(t.u32(1, 0)); code > 0 {
		if c, err := crs.Lookup(org + ":" + strconv.Itoa(int(code))); err == nil {
			return c, nil
		}
	}
	if cs, err := t.str(5); err == nil && cs != "" {
		if c, err := crs.Lookup(org + ":" + cs); err == nil {
			return c, nil
		}
	}
	wkt, err := t.str(4)
	if err != nil {
		return 0, fmt.Errorf("crs: %w", err)
	}
	if wkt != "" {
		return crs.FromWKT(wkt)
	}
	if code := int32(t.u32(1, 0)); code > 0 {
		return 0, fmt.Errorf("crs %s:%d is not supported", org, code)
	}
	return 0, nil
}

// fgbFeatures streams the features of a FlatGeobuf file from its start.
func fgbFeatures(r *bufio.Reader, name string, c crs.CRS) func(yield func(geo.Feature, error) bool) {
	return func(yield func(geo.Feature, error) bool) {
		h, err := readFGBHeader(r)
		if err != nil {
			yield(geo.Feature{}, fmt.Errorf("%s: %w", name, err))
			return
		}
		if err := discard(r, h.indexSize); err != nil {
			yield(geo.Feature{}, fmt.Errorf("%s: truncated in the spatial index of %d bytes: %w", name, h.indexSize, err))
			return
		}
		var buf []byte
		for n := 1; ; n++ {
			var size [4]byte
			if _, err := io.ReadFull(r, size[:]); err != nil {
				switch {
				case err == io.EOF && (h.count == 0 || uint64(n-1) == h.count):
					return
				case err == io.EOF:
					err = fmt.Errorf("the header promises %d features", h.count)
				}
				yield(geo.Feature{}, fmt.Errorf("%s: truncated after feature %d: %w", name, n-1, err))
				return
			}
			if h.count > 0 && uint64(n) > h.count {
				yield(geo.Feature{}, fmt.Errorf("%s: more features than the %d the header promises", name, h.count))
				return
			}
			m := binary.LittleEndian.Uint32(size[:])
			if m > maxFGBFeature {
				yield(geo.Feature{}, fmt.Errorf("%s: feature %d: size %d", name, n, m))
				return
			}
			if buf, err = readN(r, int(m), buf); err != nil {
				yield(geo.Feature{}, fmt.Errorf("%s: truncated in feature %d: %w", name, n, err))
				return
			}
			f, err := fgbFeature(buf, h, c)
			if err != nil {
				if !yield(geo.Feature{}, &FeatureError{File: name, Row: n, Err: err}) {
					return
				}
				continue
			}
			f.ID = uint64(n)
			if !yield(f, nil) {
				return
			}
		}
	}
}

// readN reads n bytes into buf, reusing its memory. It grows buf as the
// bytes arrive, so that a size prefix that lies about a short file cannot
// make it allocate the size first.
func readN(r io.Reader, n int, buf []byte) ([]byte, error) {
	buf = buf[:0]
	for len(buf) < n {
		k := min(n-len(buf), max(len(buf), 1<<16))
		buf = slices.Grow(buf, k)
		m, err := io.ReadFull(r, buf[len(buf):len(buf)+k])
		buf = buf[:len(buf)+m]
		if err != nil {
			return buf, err
		}
	}
	return buf, nil
}

func discard(r *bufio.Reader, n uint64) error {
	for n > 0 {
		k := int(min(n, 1<<30))
		if _, err := r.Discard(k); err != nil {
			return err
		}
		n -= uint64(k)
	}
	return nil
}

// fgbFeature reads a Feature table (feature.fbs): geometry, properties,
// and columns of its own when the header has none.
func fgbFeature(buf []byte, h *fgbHeader, c crs.CRS) (geo.Feature, error) {
	t, err := fbRoot(buf)
	if err != nil {
		return geo.Feature{}, err
	}
	cols := h.columns
	if own, err := t.tables(2); err != nil {
		return geo.Feature{}, fmt.Errorf("columns: %w", err)
	} else if len(own) > 0 {
		if cols, err = fgbColumns(own); err != nil {
			return geo.Feature{}, err
		}
	}
	gt, ok, err := t.table(0)
	if err != nil {
		return geo.Feature{}, fmt.Errorf("geometry: %w", err)
	}
	if !ok {
		return geo.Feature{}, errors.New("no geometry")
	}
	g, err := fgbGeometry(gt, h.geometryType, 0)
	if err != nil {
		return geo.Feature{}, err
	}
	if g, err = toWGS84(c, g); err != nil {
		return geo.Feature{}, err
	}
	props, err := fgbProperties(t, cols)
	if err != nil {
		return geo.Feature{}, err
	}
	return geo.Feature{Geometry: g, Properties: props}, nil
}

// fgbGeometry reads a Geometry table: xy pairs split into parts by ends,
// or parts of their own for multipolygons and collections.
func fgbGeometry(t fbTable, typ byte, depth int) (orb.Geometry, error) {
	if depth > 8 {
		return nil, errors.New("geometry collections nested too deeply")
	}
	if typ == fgbUnknown { // the header leaves the type to each feature
		typ = t.u8(6, 0)
	}
	xyPos, nxy, err := t.vector(1, 8)
	if err != nil {
		return nil, fmt.Errorf("geometry xy: %w", err)
	}
	if nxy%2 != 0 {
		return nil, fmt.Errorf("geometry xy of odd length %d", nxy)
	}
	if nxy == 0 && typ != fgbMultiPolygon && typ != fgbCollection {
		return nil, errors.New("empty geometry")
	}
	ps := make([]orb.Point, nxy/2)
	for i := range ps {
		ps[i] = orb.Point{
			math.Float64frombits(binary.LittleEndian.Uint64(t.b[xyPos+16*i:])),
			math.Float64frombits(binary.LittleEndian.Uint64(t.b[xyPos+16*i+8:])),
		}
	}
	endsPos, nends, err := t.vector(0, 4)
	if err != nil {
		return nil, fmt.Errorf("geometry ends: %w", err)
	}
	// split cuts the points at the ends, or returns them whole.
	split := func() ([][]orb.Point, error) {
		if nends == 0 {
			return [][]orb.Point{ps}, nil
		}
		parts := make([][]orb.Point, nends)
		start := uint32(0)
		for i := range parts {
			end := binary.LittleEndian.Uint32(t.b[endsPos+4*i:])
			if end < start || int(end) > len(ps) {
				return nil, fmt.Errorf("geometry ends %d after %d, beyond its %d points", end, start, len(ps))
			}
			parts[i] = ps[start:end]
			start = end
		}
		return parts, nil
	}
	switch typ {
	case fgbPoint:
		if len(ps) != 1 {
			return nil, fmt.Errorf("point with %d coordinates", len(ps))
		}
		return ps[0], nil
	case fgbMultiPoint:
		return orb.MultiPoint(ps), nil
	case fgbLineString:
		return orb.LineString(ps), nil
	case fgbMultiLineString:
		parts, err := split()
		ml := make(orb.MultiLineString, len(parts))
		for i, p := range parts {
			ml[i] = p
		}
		return ml, err
	case fgbPolygon:
		parts, err := split()
		p := make(orb.Polygon, len(parts))
		for i, r := range parts {
			p[i] = r
		}
		return p, err
	case fgbMultiPolygon, fgbCollection:
		subs, err := t.tables(7)
		if err != nil {
			return nil, fmt.Errorf("geometry parts: %w", err)
		}
		var members []orb.Geometry
		for _, s := range subs {
			want := byte(fgbPolygon)
			if typ == fgbCollection {
				want = s.u8(6, 0)
			}
			g, err := fgbGeometry(s, want, depth+1)
			if err != nil {
				return nil, err
			}
			members = append(members, g)
		}
		if typ == fgbCollection {
			return orb.Collection(members), nil
		}
		mp := make(orb.MultiPolygon, len(members))
		for i, g := range members {
			mp[i] = g.(orb.Polygon)
		}
		return mp, nil
	case fgbUnknown:
		return nil, errors.New("geometry of unknown type")
	}
	return nil, fmt.Errorf("geometry type %d (curves, surfaces, TIN) is not supported", typ)
}

// fgbProperties reads the properties buffer: a column index (uint16) and
// its value, for each column that is not null. Columns left out are null.
func fgbProperties(t fbTable, cols []fgbColumn) (map[string]any, error) {
	props := make(map[string]any, len(cols))
	for _, c := range cols {
		if c.typ != fgbBinary {
			props[c.name] = nil
		}
	}
	pos, n, err := t.vector(1, 1)
	if err != nil {
		return nil, fmt.Errorf("properties: %w", err)
	}
	b := t.b[pos : pos+n]
	for len(b) > 0 {
		if len(b) < 2 {
			return nil, errors.New("properties: truncated column index")
		}
		i := int(binary.LittleEndian.Uint16(b))
		b = b[2:]
		if i >= len(cols) {
			return nil, fmt.Errorf("properties: column %d of %d", i, len(cols))
		}
		c := cols[i]
		v, rest, err := fgbValue(b, c.typ)
		if err != nil {
			return nil, fmt.Errorf("column %q: %w", c.name, err)
		}
		b = rest
		if c.typ != fgbBinary {
			props[c.name] = v
		}
	}
	return props, nil
}

var errFGBShort = errors.New("value runs past the end of the properties")

// fgbValue reads one value of type typ from b and returns the rest.
func fgbValue(b []byte, typ byte) (any, []byte, error) {
	var size int
	switch typ {
	case fgbByte, fgbUByte, fgbBool:
		size = 1
	case fgbShort, fgbUShort:
		size = 2
	case fgbInt, fgbUInt, fgbFloat:
		size = 4
	case fgbLong, fgbULong, fgbDouble:
		size = 8
	}
	if size == 0 { // strings and binary: a uint32 length first
		if len(b) < 4 {
			return nil, nil, errFGBShort
		}
		n := binary.LittleEndian.Uint32(b)
		if uint64(n) > uint64(len(b)-4) {
			return nil, nil, errFGBShort
		}
		s := string(b[4 : 4+n])
		rest := b[4+n:]
		if typ == fgbBinary {
			return nil, rest, nil
		}
		if !utf8.ValidString(s) {
			return nil, nil, validUTF8(s)
		}
		if typ == fgbDateTime {
			if tm, ok := parseDeclaredTime(s); ok {
				return tm, rest, nil
			}
		}
		return s, rest, nil
	}
	if len(b) < size {
		return nil, nil, errFGBShort
	}
	le := binary.LittleEndian
	var v any
	switch typ {
	case fgbByte:
		v = int64(int8(b[0]))
	case fgbUByte:
		v = int64(b[0])
	case fgbBool:
		v = b[0] != 0
	case fgbShort:
		v = int64(int16(le.Uint16(b)))
	case fgbUShort:
		v = int64(le.Uint16(b))
	case fgbInt:
		v = int64(int32(le.Uint32(b)))
	case fgbUInt:
		v = int64(le.Uint32(b))
	case fgbLong:
		v = int64(le.Uint64(b))
	case fgbULong:
		u := le.Uint64(b)
		if u > math.MaxInt64 {
			v = strconv.FormatUint(u, 10) // beyond int64: kept exactly, as text
		} else {
			v = int64(u)
		}
	case fgbFloat:
		v = float64(math.Float32frombits(le.Uint32(b)))
	case fgbDouble:
		v = math.Float64frombits(le.Uint64(b))
	}
	return v, b[size:], nil
}

// fbTable is a flatbuffers table in b at pos, with its vtable checked to
// lie inside b. Every accessor checks its offsets too.
type fbTable struct {
	b      []byte
	pos    int
	vt     int
	vtSize int
}

var errFBOffset = errors.New("corrupt flatbuffer: offset outside the buffer")

// fbRoot returns the root table of a flatbuffer.
func fbRoot(b []byte) (fbTable, error) {
	if len(b) < 4 {
		return fbTable{}, errFBOffset
	}
	return fbTableAt(b, int(binary.LittleEndian.Uint32(b)))
}

func fbTableAt(b []byte, pos int) (fbTable, error) {
	if pos < 0 || pos > len(b)-4 {
		return fbTable{}, errFBOffset
	}
	vt := pos - int(int32(binary.LittleEndian.Uint32(b[pos:])))
	if vt < 0 || vt > len(b)-4 {
		return fbTable{}, errFBOffset
	}
	size := int(binary.LittleEndian.Uint16(b[vt:]))
	if size < 4 || vt+size > len(b) {
		return fbTable{}, errFBOffset
	}
	return fbTable{b: b, pos: pos, vt: vt, vtSize: size}, nil
}

// field returns the position of field i and whether it has room for n
// bytes; 0 when the field is absent.
func (t fbTable) field(i, n int) int {
	o := 4 + 2*i
	if o+2 > t.vtSize {
		return 0
	}
	off := int(binary.LittleEndian.Uint16(t.b[t.vt+o:]))
	if off == 0 || t.pos+off+n > len(t.b) {
		return 0
	}
	return t.pos + off
}

func (t fbTable) u8(i int, def byte) byte {
	if p := t.field(i, 1); p > 0 {
		return t.b[p]
	}
	return def
}

func (t fbTable) u16(i int, def uint16) uint16 {
	if p := t.field(i, 2); p > 0 {
		return binary.LittleEndian.Uint16(t.b[p:])
	}
	return def
}

func (t fbTable) u32(i int, def uint32) uint32 {
	if p := t.field(i, 4); p > 0 {
		return binary.LittleEndian.Uint32(t.b[p:])
	}
	return def
}

func (t fbTable) u64(i int, def uint64) uint64 {
	if p := t.field(i, 8); p > 0 {
		return binary.LittleEndian.Uint64(t.b[p:])
	}
	return def
}

// indirect follows the offset in field i; 0 when the field is absent.
func (t fbTable) indirect(i int) (int, error) {
	p := t.field(i, 4)
	if p == 0 {
		return 0, nil
	}
	target := uint64(p) + uint64(binary.LittleEndian.Uint32(t.b[p:]))
	if target > uint64(len(t.b)-4) {
		return 0, errFBOffset
	}
	return int(target), nil
}

// vector returns the position and length of the vector in field i, whose
// elements are size bytes each.
func (t fbTable) vector(i, size int) (pos, n int, err error) {
	p, err := t.indirect(i)
	if err != nil || p == 0 {
		return 0, 0, err
	}
	m := uint64(binary.LittleEndian.Uint32(t.b[p:]))
	if m*uint64(size) > uint64(len(t.b)-p-4) {
		return 0, 0, errFBOffset
	}
	return p + 4, int(m), nil
}

func (t fbTable) str(i int) (string, error) {
	p, n, err := t.vector(i, 1)
	if err != nil {
		return "", err
	}
	return string(t.b[p : p+n]), nil
}

func (t fbTable) table(i int) (fbTable, bool, error) {
	p, err := t.indirect(i)
	if err != nil || p == 0 {
		return fbTable{}, false, err
	}
	s, err := fbTableAt(t.b, p)
	return s, err == nil, err
}

// tables returns the tables of a vector of tables in field i.
func (t fbTable) tables(i int) ([]fbTable, error) {
	p, n, err := t.vector(i, 4)
	if err != nil {
		return nil, err
	}
	out := make([]fbTable, n)
	for j := range out {
		e := p + 4*j
		if out[j], err = fbTableAt(t.b, e+int(binary.LittleEndian.Uint32(t.b[e:]))); err != nil {
			return nil, err
		}
	}
	return out, nil
}
