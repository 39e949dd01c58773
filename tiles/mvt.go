package tiles

import (
	"encoding/binary"
	"math"

	"github.com/paulmach/orb"

	"github.com/csdi-hk/csdi/catalog"
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
// shared by the features of the layer, each written once. One encoder is
// reused from layer to layer and tile to tile (reset), keeping its buffers.
type layerEncoder struct {
	name   string
	extent uint32

	features []byte // Feature messages, each with its field tag
	count    int

	// The layer's property names (catalog.Layer Keys) and values
	// (catalog.Layer TileValue), which the tags of features index, and
	// for each the index it has in this tile's keys and values: keyAt is
	// -1 before a key's first use and skipKey for a property left out of
	// the tile; valueAt is one more than the index, 0 before first use.
	// valueAt is reset through used, the values it has set, so that a
	// tile does not pay for the size of the layer.
	layer   *catalog.Layer
	keyAt   []int32
	valueAt []uint32
	used    []uint32

	keys    []string
	values  []byte // Value messages, each with its field tag
	nvalues uint32

	// Scratch space reused from feature to feature. geom and tags are
	// the feature's packed fields as they are written, varint by varint:
	// every count is known before its command is written, so nothing is
	// patched, and finish copies them once.
	geom []byte
	tags []byte
	pts  []ipoint
	body []byte
	cur  ipoint // the geometry cursor, which runs on across rings and parts

	// The rings of the polygon being written, as loops (simple.go), and
	// the scratch space of their repair.
	loop     []ipoint
	loopEnd  []int
	loopArea []int64
	loopRole []uint8
	split    []ipoint
	path     []ipoint
	lo, hi   int32 // the clip box's border, where clipped rings run (ringShape)
}

const skipKey = -2

type ipoint [2]int32

func newLayerEncoder(name string, extent uint32) *layerEncoder {
	e := new(layerEncoder)
	e.reset(name, extent)
	return e
}

// reset empties the encoder for a new layer, keeping its buffers.
func (e *layerEncoder) reset(name string, extent uint32) {
	for _, v := range e.used {
		e.valueAt[v] = 0
	}
	*e = layerEncoder{
		name:     name,
		extent:   extent,
		features: e.features[:0],
		keyAt:    e.keyAt[:0],
		valueAt:  e.valueAt,
		used:     e.used[:0],
		keys:     e.keys[:0],
		values:   e.values[:0],
		geom:     e.geom[:0],
		tags:     e.tags[:0],
		pts:      e.pts[:0],
		body:     e.body[:0],
		loop:     e.loop[:0],
		loopEnd:  e.loopEnd[:0],
		loopArea: e.loopArea[:0],
		loopRole: e.loopRole[:0],
		split:    e.split[:0],
		path:     e.path[:0],
		lo:       e.lo,
		hi:       e.hi,
	}
}

// setLayer gives the encoder the layer whose features follow, and which
// properties go into the tile (keep, nil for all).
func (e *layerEncoder) setLayer(l *catalog.Layer, keep map[string]bool) {
	e.layer = l
	for _, k := range l.Keys() {
		at := int32(-1)
		if keep != nil && !keep[k] {
			at = skipKey
		}
		e.keyAt = append(e.keyAt, at)
	}
	if len(e.valueAt) < l.NumValues() {
		e.valueAt = make([]uint32, l.NumValues())
	}
}

// add encodes one feature whose geometry is in tile coordinates, with its
// properties as catalog.Layer.SlotTags gives them. It reports false, and writes
// nothing, when nothing of the geometry is left once rounded to the integer
// grid.
func (e *layerEncoder) add(id uint64, g orb.Geometry, tags catalog.Tags) bool {
	return e.finish(id, e.geometry(g), tags)
}

// addShape is add for a geometry as tileBuilder makes it.
func (e *layerEncoder) addShape(id uint64, sh *shape, tags catalog.Tags) bool {
	return e.finish(id, e.shapeGeometry(sh), tags)
}

// finish writes the feature whose geometry of type typ is in e.geom,
// straight into the layer's features: its length is known from its parts.
func (e *layerEncoder) finish(id uint64, typ uint32, tags catalog.Tags) bool {
	if typ == 0 {
		return false
	}
	e.properties(tags)
	n := 1 + uvarintLen(id) + 2 + fieldLen(len(e.geom))
	if len(e.tags) > 0 {
		n += fieldLen(len(e.tags))
	}
	b := binary.AppendUvarint(appendTag(e.features, 2, 2), uint64(n))
	b = appendVarintField(b, 1, id)
	if len(e.tags) > 0 {
		b = appendBytesField(b, 2, e.tags)
	}
	b = appendVarintField(b, 3, uint64(typ))
	e.features = appendBytesField(b, 4, e.geom)
	e.count++
	return true
}

// fieldLen is the length of a length-delimited field of n bytes with a
// one-byte tag.
func fieldLen(n int) int { return 1 + uvarintLen(uint64(n)) + n }

// appendLayer appends the layer to an encoded tile; a layer without features
// is left out.
func (e *layerEncoder) appendLayer(tile []byte) []byte {
	if e.count == 0 {
		return tile
	}
	head := appendStringField(e.body[:0], 1, e.name)
	n := len(head) + len(e.features) + len(e.values)
	for _, k := range e.keys {
		n += 1 + uvarintLen(uint64(len(k))) + len(k)
	}
	tail := appendVarintField(head[len(head):], 5, uint64(e.extent))
	// Version 2 is written although it is the default of nothing: readers
	// treat a missing version as 1.
	tail = appendVarintField(tail, 15, 2)
	e.body = tail
	n += len(tail)
	tile = appendTag(tile, 3, 2)
	tile = binary.AppendUvarint(tile, uint64(n))
	tile = append(tile, head...)
	tile = append(tile, e.features...)
	for _, k := range e.keys {
		tile = appendStringField(tile, 3, k)
	}
	tile = append(tile, e.values...)
	return append(tile, tail...)
}

// properties fills e.tags with the key and value indexes in the tile of the
// feature's tags, which come in key order: the same data always gives the
// same bytes.
func (e *layerEncoder) properties(tags catalog.Tags) {
	e.tags = e.tags[:0]
	for j, lk := range tags.Keys {
		k := e.keyAt[lk]
		if k == skipKey {
			continue
		}
		if k < 0 {
			k = int32(len(e.keys))
			e.keys = append(e.keys, e.layer.Keys()[lk])
			e.keyAt[lk] = k
		}
		vi := tags.Values[j]
		v := e.valueAt[vi]
		if v == 0 {
			tv, msg := e.layer.TileValue(vi)
			if v = e.valueAt[tv]; v == 0 {
				e.values = appendBytesField(e.values, 4, msg)
				e.nvalues++
				v = e.nvalues
				e.setValueAt(tv, v)
			}
			if tv != vi {
				e.setValueAt(vi, v)
			}
		}
		e.tags = binary.AppendUvarint(binary.AppendUvarint(e.tags, uint64(k)), uint64(v-1))
	}
}

func (e *layerEncoder) setValueAt(vi, v uint32) {
	e.valueAt[vi] = v
	e.used = append(e.used, vi)
}

// geometry fills e.geom with the commands of g rounded to the integer grid
// and returns its MVT type, or 0 when nothing is left of it. Polygons come
// out valid as far as rounding allows: the first ring of each polygon is the
// exterior, wound with positive area in tile coordinates (clockwise with y
// down), its holes follow it with negative area; rings and lines that
// collapse are dropped, and no segment has zero length.
func (e *layerEncoder) geometry(g orb.Geometry) uint32 {
	var sh shape
	switch g := g.(type) {
	case orb.Point:
		sh = shape{kind: geomPoint, points: orb.MultiPoint{g}}
	case orb.MultiPoint:
		sh = shape{kind: geomPoint, points: g}
	case orb.LineString:
		sh = shape{kind: geomLineString, lines: orb.MultiLineString{g}}
	case orb.MultiLineString:
		sh = shape{kind: geomLineString, lines: g}
	case orb.Polygon:
		sh = shape{kind: geomPolygon, polys: orb.MultiPolygon{g}}
	case orb.MultiPolygon:
		sh = shape{kind: geomPolygon, polys: g}
	case orb.Ring:
		sh = shape{kind: geomPolygon, polys: orb.MultiPolygon{{g}}}
	case orb.Bound:
		sh = shape{kind: geomPolygon, polys: orb.MultiPolygon{g.ToPolygon()}}
	}
	return e.shapeGeometry(&sh)
}

// shapeGeometry is geometry for a shape, as tileBuilder makes it.
func (e *layerEncoder) shapeGeometry(sh *shape) uint32 {
	e.geom = e.geom[:0]
	e.cur = ipoint{}
	switch sh.kind {
	case geomPoint:
		if len(sh.points) == 0 {
			return 0
		}
		e.command(cmdMoveTo, len(sh.points))
		for _, p := range sh.points {
			e.appendPoint(roundPoint(p))
		}
	case geomLineString:
		for _, ls := range sh.lines {
			e.line(ls)
		}
	case geomPolygon:
		for _, p := range sh.polys {
			e.polygon(p)
		}
	}
	if len(e.geom) == 0 {
		return 0
	}
	return sh.kind
}

func (e *layerEncoder) line(ls orb.LineString) {
	pts := e.round(ls)
	if len(pts) < 2 {
		return
	}
	e.moveTo(pts[0])
	e.command(cmdLineTo, len(pts)-1)
	for _, p := range pts[1:] {
		e.appendPoint(p)
	}
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
	e.command(cmdMoveTo, 1)
	e.appendPoint(p)
}

func (e *layerEncoder) command(id uint32, count int) {
	e.geom = binary.AppendUvarint(e.geom, uint64(id&7|uint32(count)<<3))
}

func (e *layerEncoder) appendPoint(p ipoint) {
	e.geom = binary.AppendUvarint(e.geom, uint64(zigzag(p[0]-e.cur[0])))
	e.geom = binary.AppendUvarint(e.geom, uint64(zigzag(p[1]-e.cur[1])))
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

func uvarintLen(v uint64) int {
	n := 1
	for v >= 0x80 {
		v >>= 7
		n++
	}
	return n
}
