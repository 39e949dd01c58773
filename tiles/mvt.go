package tiles

import (
	"encoding/binary"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/paulmach/orb"

	"github.com/csdi-hk/csdi/geo"
)

// This file is a small MVT 2.1 encoder. orb/encoding/mvt is not used because
// every geometry rule would need fixing before it (it truncates instead of
// rounding, keeps zero-length segments and collapsed rings, does not orient
// rings, defaults to version 1, encodes time.Time with String), its input is
// geojson.Feature so each feature would be converted, and its output goes
// through protobuf structs. The protobuf wire format of vector_tile.proto
// takes a few lines of varints.

// Geometry types and commands of the MVT 2.1 specification.
const (
	geomPoint      = 1
	geomLineString = 2
	geomPolygon    = 3

	cmdMoveTo    = 1
	cmdLineTo    = 2
	cmdClosePath = 7
)

// layerEncoder accumulates the features of one MVT layer. Keys and values are
// shared by the features of the layer, each written once.
type layerEncoder struct {
	name   string
	extent uint32
	// keep holds the properties that go into the tile; nil for all.
	keep map[string]bool

	features []byte // Feature messages, each with its field tag
	count    int

	keys       []string
	keyIndex   map[string]uint32
	values     []byte // Value messages, each with its field tag
	valueIndex map[valueKey]uint32

	// Scratch space reused from feature to feature.
	geom  []uint32
	tags  []uint32
	pts   []ipoint
	names []string
	body  []byte
	cur   ipoint // the geometry cursor, which runs on across rings and parts
}

// valueKey identifies a property value by type and content, so that 1 and
// 1.0 and "1" stay distinct values.
type valueKey struct {
	kind byte // the Value field number
	s    string
	n    uint64
}

type ipoint [2]int32

func newLayerEncoder(name string, extent uint32) *layerEncoder {
	return &layerEncoder{
		name:       name,
		extent:     extent,
		keyIndex:   map[string]uint32{},
		valueIndex: map[valueKey]uint32{},
	}
}

// add encodes one feature whose geometry is in tile coordinates. It reports
// false, and writes nothing, when nothing of the geometry is left once
// rounded to the integer grid.
func (e *layerEncoder) add(id uint64, g orb.Geometry, props map[string]any) bool {
	typ := e.geometry(g)
	if typ == 0 {
		return false
	}
	e.properties(props)
	b := e.body[:0]
	b = appendVarintField(b, 1, id)
	b = appendPacked(b, 2, e.tags)
	b = appendVarintField(b, 3, uint64(typ))
	b = appendPacked(b, 4, e.geom)
	e.features = appendBytesField(e.features, 2, b)
	e.body = b
	e.count++
	return true
}

// appendLayer appends the layer to an encoded tile; a layer without features
// is left out.
func (e *layerEncoder) appendLayer(tile []byte) []byte {
	if e.count == 0 {
		return tile
	}
	var head, tail []byte
	head = appendStringField(head, 1, e.name)
	for _, k := range e.keys {
		tail = appendStringField(tail, 3, k)
	}
	tail = append(tail, e.values...)
	tail = appendVarintField(tail, 5, uint64(e.extent))
	// Version 2 is written although it is the default of nothing: readers
	// treat a missing version as 1.
	tail = appendVarintField(tail, 15, 2)
	tile = appendTag(tile, 3, 2)
	tile = binary.AppendUvarint(tile, uint64(len(head)+len(e.features)+len(tail)))
	tile = append(tile, head...)
	tile = append(tile, e.features...)
	return append(tile, tail...)
}

// properties fills e.tags with the key and value indexes of props, in key
// order so that the same data always gives the same bytes. Nil values are
// left out, as MVT has no null.
func (e *layerEncoder) properties(props map[string]any) {
	e.tags = e.tags[:0]
	e.names = e.names[:0]
	for k, v := range props {
		if v != nil && (e.keep == nil || e.keep[k]) {
			e.names = append(e.names, k)
		}
	}
	slices.Sort(e.names)
	for _, k := range e.names {
		ki, ok := e.keyIndex[k]
		if !ok {
			ki = uint32(len(e.keys))
			e.keys = append(e.keys, k)
			e.keyIndex[k] = ki
		}
		e.tags = append(e.tags, ki, e.value(props[k]))
	}
}

func (e *layerEncoder) value(v any) uint32 {
	var k valueKey
	switch v := v.(type) {
	case string:
		k = valueKey{kind: 1, s: v}
	case float64:
		k = valueKey{kind: 3, n: math.Float64bits(v)}
	case int64:
		k = valueKey{kind: 4, n: uint64(v)}
	case bool:
		k = valueKey{kind: 7}
		if v {
			k.n = 1
		}
	case time.Time:
		// MVT has no date type; ISO 8601 strings sort and parse everywhere.
		if t, _ := geo.TypeOf(v); t == geo.Date {
			k = valueKey{kind: 1, s: v.Format(time.DateOnly)}
		} else {
			k = valueKey{kind: 1, s: v.Format(time.RFC3339Nano)}
		}
	default:
		// Outside the feature model; kept as text rather than lost.
		k = valueKey{kind: 1, s: fmt.Sprint(v)}
	}
	if i, ok := e.valueIndex[k]; ok {
		return i
	}
	var m []byte
	switch k.kind {
	case 1:
		m = appendStringField(m, 1, k.s)
	case 3:
		m = appendTag(m, 3, 1)
		m = binary.LittleEndian.AppendUint64(m, k.n)
	case 4:
		if n := int64(k.n); n < 0 {
			m = appendVarintField(m, 6, uint64(n<<1)^uint64(n>>63)) // sint_value, zigzag
		} else {
			m = appendVarintField(m, 4, k.n) // int_value
		}
	case 7:
		m = appendVarintField(m, 7, k.n)
	}
	i := uint32(len(e.valueIndex))
	e.valueIndex[k] = i
	e.values = appendBytesField(e.values, 4, m)
	return i
}

// geometry fills e.geom with the commands of g rounded to the integer grid
// and returns its MVT type, or 0 when nothing is left of it. Polygons come
// out valid as far as rounding allows: the first ring of each polygon is the
// exterior, wound with positive area in tile coordinates (clockwise with y
// down), its holes follow it with negative area; rings and lines that
// collapse are dropped, and no segment has zero length.
func (e *layerEncoder) geometry(g orb.Geometry) uint32 {
	e.geom = e.geom[:0]
	e.cur = ipoint{}
	var typ uint32
	switch g := g.(type) {
	case orb.Point:
		e.moveTo(roundPoint(g))
		typ = geomPoint
	case orb.MultiPoint:
		if len(g) == 0 {
			return 0
		}
		e.geom = append(e.geom, command(cmdMoveTo, len(g)))
		for _, p := range g {
			e.appendPoint(roundPoint(p))
		}
		typ = geomPoint
	case orb.LineString:
		e.line(g)
		typ = geomLineString
	case orb.MultiLineString:
		for _, ls := range g {
			e.line(ls)
		}
		typ = geomLineString
	case orb.Polygon:
		e.polygon(g)
		typ = geomPolygon
	case orb.MultiPolygon:
		for _, p := range g {
			e.polygon(p)
		}
		typ = geomPolygon
	case orb.Ring:
		e.polygon(orb.Polygon{g})
		typ = geomPolygon
	case orb.Bound:
		e.polygon(g.ToPolygon())
		typ = geomPolygon
	}
	if len(e.geom) == 0 {
		return 0
	}
	return typ
}

func (e *layerEncoder) line(ls orb.LineString) {
	pts := e.round(ls)
	if len(pts) < 2 {
		return
	}
	e.moveTo(pts[0])
	e.geom = append(e.geom, command(cmdLineTo, len(pts)-1))
	for _, p := range pts[1:] {
		e.appendPoint(p)
	}
}

func (e *layerEncoder) polygon(p orb.Polygon) {
	if len(p) == 0 || !e.ring(p[0], true) {
		return
	}
	for _, h := range p[1:] {
		e.ring(h, false)
	}
}

// ring writes one ring, wound for an exterior or a hole, and reports whether
// anything was left of it.
func (e *layerEncoder) ring(r orb.Ring, exterior bool) bool {
	pts := e.round(orb.LineString(r))
	for len(pts) > 1 && pts[len(pts)-1] == pts[0] {
		pts = pts[:len(pts)-1]
	}
	if len(pts) < 3 {
		return false
	}
	a := area2(pts)
	if a == 0 {
		return false
	}
	if (a > 0) != exterior {
		slices.Reverse(pts)
	}
	e.moveTo(pts[0])
	e.geom = append(e.geom, command(cmdLineTo, len(pts)-1))
	for _, p := range pts[1:] {
		e.appendPoint(p)
	}
	e.geom = append(e.geom, command(cmdClosePath, 1))
	return true
}

// round returns the points of ls on the integer grid without consecutive
// repeats, in scratch space valid until the next call.
func (e *layerEncoder) round(ls orb.LineString) []ipoint {
	pts := e.pts[:0]
	for _, p := range ls {
		q := roundPoint(p)
		if len(pts) == 0 || pts[len(pts)-1] != q {
			pts = append(pts, q)
		}
	}
	e.pts = pts
	return pts
}

func (e *layerEncoder) moveTo(p ipoint) {
	e.geom = append(e.geom, command(cmdMoveTo, 1))
	e.appendPoint(p)
}

func (e *layerEncoder) appendPoint(p ipoint) {
	e.geom = append(e.geom, zigzag(p[0]-e.cur[0]), zigzag(p[1]-e.cur[1]))
	e.cur = p
}

// roundPoint rounds half away from zero; truncation would pull every
// coordinate toward the tile origin by up to a unit.
func roundPoint(p orb.Point) ipoint {
	return ipoint{int32(math.Round(p[0])), int32(math.Round(p[1]))}
}

// area2 is twice the signed area by the surveyor's formula, exact in integers.
func area2(pts []ipoint) int64 {
	var a int64
	for i, p := range pts {
		q := pts[(i+1)%len(pts)]
		a += int64(p[0])*int64(q[1]) - int64(q[0])*int64(p[1])
	}
	return a
}

func command(id uint32, count int) uint32 { return id&7 | uint32(count)<<3 }

func zigzag(v int32) uint32 { return uint32(v<<1) ^ uint32(v>>31) }

// Protobuf wire format helpers.

func appendTag(b []byte, field, wire int) []byte {
	return binary.AppendUvarint(b, uint64(field<<3|wire))
}

func appendVarintField(b []byte, field int, v uint64) []byte {
	return binary.AppendUvarint(appendTag(b, field, 0), v)
}

func appendBytesField(b []byte, field int, v []byte) []byte {
	b = binary.AppendUvarint(appendTag(b, field, 2), uint64(len(v)))
	return append(b, v...)
}

func appendStringField(b []byte, field int, v string) []byte {
	b = binary.AppendUvarint(appendTag(b, field, 2), uint64(len(v)))
	return append(b, v...)
}

// appendPacked writes a packed repeated uint32 field; an empty one is left out.
func appendPacked(b []byte, field int, vs []uint32) []byte {
	if len(vs) == 0 {
		return b
	}
	n := 0
	for _, v := range vs {
		n += uvarintLen(uint64(v))
	}
	b = binary.AppendUvarint(appendTag(b, field, 2), uint64(n))
	for _, v := range vs {
		b = binary.AppendUvarint(b, uint64(v))
	}
	return b
}

func uvarintLen(v uint64) int {
	n := 1
	for v >= 0x80 {
		v >>= 7
		n++
	}
	return n
}
