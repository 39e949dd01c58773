package gpkg

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/wkb"
)

// srsID is the one spatial reference system of every layer: WGS84 lon/lat.
const srsID = 4326

// Header flag bits (GeoPackage 1.3, 2.1.3.1.1).
const (
	flagLittleEndian = 1 << 0
	flagEnvelopeXY   = 1 << 1 // envelope indicator 1: [minx, maxx, miny, maxy]
	flagEmpty        = 1 << 4
	flagExtended     = 1 << 5
)

// encodeGeometry returns the GeoPackage binary of g: the "GP" header with
// an xy envelope (none for an empty geometry), then little-endian WKB.
func encodeGeometry(g orb.Geometry) ([]byte, error) {
	empty := isEmpty(g)
	var buf bytes.Buffer
	flags := byte(flagLittleEndian | flagEnvelopeXY)
	if empty {
		flags = flagLittleEndian | flagEmpty
	}
	buf.Grow(40 + 64)
	buf.Write([]byte{'G', 'P', 0, flags})
	buf.Write(binary.LittleEndian.AppendUint32(nil, srsID))
	if !empty {
		b := g.Bound()
		for _, v := range []float64{b.Min[0], b.Max[0], b.Min[1], b.Max[1]} {
			buf.Write(binary.LittleEndian.AppendUint64(nil, math.Float64bits(v)))
		}
	}
	if err := wkb.NewEncoder(&buf).SetByteOrder(binary.LittleEndian).Encode(g); err != nil {
		return nil, fmt.Errorf("encode %T as WKB: %w", g, err)
	}
	return buf.Bytes(), nil
}

// decodeGeometry reads a GeoPackage binary geometry, from this store or any
// other writer: either byte order, any envelope, standard WKB after it.
func decodeGeometry(b []byte) (orb.Geometry, error) {
	if len(b) < 8 || b[0] != 'G' || b[1] != 'P' {
		return nil, errors.New("not a GeoPackage geometry: no GP header")
	}
	if b[2] != 0 {
		return nil, fmt.Errorf("GeoPackage geometry version %d, only 0 is known", b[2])
	}
	flags := b[3]
	if flags&flagExtended != 0 {
		return nil, errors.New("extended GeoPackage geometry is not supported")
	}
	var envelope int
	switch (flags >> 1) & 7 {
	case 0:
	case 1:
		envelope = 32
	case 2, 3:
		envelope = 48
	case 4:
		envelope = 64
	default:
		return nil, fmt.Errorf("invalid envelope indicator %d", (flags>>1)&7)
	}
	if len(b) < 8+envelope {
		return nil, fmt.Errorf("GeoPackage geometry of %d bytes is shorter than its %d-byte header", len(b), 8+envelope)
	}
	g, err := wkb.Unmarshal(b[8+envelope:])
	if err != nil {
		return nil, fmt.Errorf("decode WKB: %w", err)
	}
	return g, nil
}

func isEmpty(g orb.Geometry) bool {
	switch g := g.(type) {
	case orb.MultiPoint:
		return len(g) == 0
	case orb.LineString:
		return len(g) == 0
	case orb.MultiLineString:
		return len(g) == 0
	case orb.Ring:
		return len(g) == 0
	case orb.Polygon:
		return len(g) == 0
	case orb.MultiPolygon:
		return len(g) == 0
	case orb.Collection:
		return len(g) == 0
	}
	return false
}
