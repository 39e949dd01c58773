// Package gpkgbin reads and writes the header of a GeoPackage binary
// geometry (GeoPackage 1.3, clause 2.1.3): "GP", a version, flags, the
// srs_id and an optional envelope, followed by standard WKB. The embedded
// store writes it and the GeoPackage importer reads files from any writer,
// so both share this one reading of the header; each decodes the WKB its
// own way (the importer's parser is hardened against hostile files).
package gpkgbin

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"

	"github.com/paulmach/orb"
)

// Header flag bits.
const (
	flagLittleEndian = 1 << 0
	flagEnvelopeXY   = 1 << 1 // envelope indicator 1: [minx, maxx, miny, maxy]
	flagEmpty        = 1 << 4
	flagExtended     = 1 << 5
)

// AppendHeader appends a little-endian header to dst: with the xy envelope
// b, or flagged empty and without an envelope. The WKB goes after it.
func AppendHeader(dst []byte, srsID int32, b orb.Bound, empty bool) []byte {
	flags := byte(flagLittleEndian | flagEnvelopeXY)
	if empty {
		flags = flagLittleEndian | flagEmpty
	}
	dst = append(dst, 'G', 'P', 0, flags)
	dst = binary.LittleEndian.AppendUint32(dst, uint32(srsID))
	if !empty {
		for _, v := range [...]float64{b.Min[0], b.Max[0], b.Min[1], b.Max[1]} {
			dst = binary.LittleEndian.AppendUint64(dst, math.Float64bits(v))
		}
	}
	return dst
}

// Split checks the header of a GeoPackage geometry, in either byte order
// and with any envelope, and returns the WKB after it and whether the
// header flags the geometry as empty. The envelope and srs_id are not
// returned: the table's srs_id is the one that counts, and the envelope is
// derived from the geometry.
func Split(b []byte) (wkb []byte, empty bool, err error) {
	if len(b) < 8 || b[0] != 'G' || b[1] != 'P' {
		return nil, false, errors.New(`not a GeoPackage geometry: no "GP" header`)
	}
	if b[2] != 0 {
		return nil, false, fmt.Errorf("GeoPackage geometry version %d; only 0 (version 1) is known", b[2])
	}
	flags := b[3]
	if flags&flagExtended != 0 {
		return nil, false, errors.New("extended GeoPackage geometry types are not supported")
	}
	var envelope int
	switch e := (flags >> 1) & 7; e {
	case 0:
	case 1:
		envelope = 32
	case 2, 3:
		envelope = 48
	case 4:
		envelope = 64
	default:
		return nil, false, fmt.Errorf("invalid envelope indicator %d in the GeoPackage geometry header", e)
	}
	if len(b) < 8+envelope {
		return nil, false, fmt.Errorf("truncated GeoPackage geometry: %d bytes, shorter than its %d-byte header", len(b), 8+envelope)
	}
	return b[8+envelope:], flags&flagEmpty != 0, nil
}
