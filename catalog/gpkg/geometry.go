package gpkg

import (
	"bytes"
	"encoding/binary"
	"fmt"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/wkb"

	"github.com/csdi-hk/csdi/geo/gpkgbin"
)

// srsID is the one spatial reference system of every layer: WGS84 lon/lat.
const srsID = 4326

// encodeGeometry returns the GeoPackage binary of g: the "GP" header with
// an xy envelope (none for an empty geometry), then little-endian WKB.
func encodeGeometry(g orb.Geometry) ([]byte, error) {
	empty := isEmpty(g)
	var bound orb.Bound
	if !empty {
		bound = g.Bound()
	}
	buf := bytes.NewBuffer(gpkgbin.AppendHeader(make([]byte, 0, 40+64), srsID, bound, empty))
	if err := wkb.NewEncoder(buf).SetByteOrder(binary.LittleEndian).Encode(g); err != nil {
		return nil, fmt.Errorf("encode %T as WKB: %w", g, err)
	}
	return buf.Bytes(), nil
}

// decodeGeometry reads a GeoPackage binary geometry, from this store or any
// other writer: either byte order, any envelope, standard WKB after it.
func decodeGeometry(b []byte) (orb.Geometry, error) {
	body, _, err := gpkgbin.Split(b)
	if err != nil {
		return nil, err
	}
	g, err := wkb.Unmarshal(body)
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
