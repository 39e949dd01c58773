package gpkg

import (
	"bytes"
	"encoding/binary"
	"math"
	"reflect"
	"testing"

	"github.com/paulmach/orb"
)

var samples = []orb.Geometry{
	orb.Point{114.1694567891, 22.3193012345},
	orb.MultiPoint{{114, 22}, {114.5, 22.5}},
	orb.LineString{{113.9, 22.2}, {114.0123456789, 22.3456789012}},
	orb.MultiLineString{{{114.1, 22.2}, {114.2, 22.3}}, {{114.15, 22.25}, {114.16, 22.26}}},
	orb.Polygon{
		{{114, 22.2}, {114.3, 22.2}, {114.3, 22.5}, {114, 22.5}, {114, 22.2}},
		{{114.1, 22.3}, {114.1, 22.4}, {114.2, 22.4}, {114.1, 22.3}},
	},
	orb.MultiPolygon{{{{113.8, 22.1}, {113.85, 22.1}, {113.85, 22.15}, {113.8, 22.1}}}},
	orb.Collection{orb.Point{1, 2}, orb.LineString{{1, 2}, {3, 4}}},
	orb.LineString{},
}

func TestGeometryHeader(t *testing.T) {
	for _, g := range samples {
		b, err := encodeGeometry(g)
		if err != nil {
			t.Fatalf("encode %v: %v", g, err)
		}
		if string(b[:3]) != "GP\x00" || binary.LittleEndian.Uint32(b[4:8]) != 4326 {
			t.Errorf("%T: header % x", g, b[:8])
		}
		wkbAt := 8
		if isEmpty(g) {
			if b[3] != 0x11 {
				t.Errorf("%T: flags %#x, want 0x11 (little-endian, empty, no envelope)", g, b[3])
			}
		} else {
			if b[3] != 0x03 {
				t.Errorf("%T: flags %#x, want 0x03 (little-endian, xy envelope)", g, b[3])
			}
			var env [4]float64
			for i := range env {
				env[i] = math.Float64frombits(binary.LittleEndian.Uint64(b[8+8*i:]))
			}
			bd := g.Bound()
			if env != [4]float64{bd.Min[0], bd.Max[0], bd.Min[1], bd.Max[1]} {
				t.Errorf("%T: envelope %v, want minx maxx miny maxy of %v", g, env, bd)
			}
			wkbAt = 40
		}
		if b[wkbAt] != 1 {
			t.Errorf("%T: WKB byte order %d, want 1 (little-endian)", g, b[wkbAt])
		}
		got, err := decodeGeometry(b)
		if err != nil {
			t.Fatalf("decode %T: %v", g, err)
		}
		if !reflect.DeepEqual(got, g) && !(isEmpty(g) && isEmpty(got)) {
			t.Errorf("round trip of %T: got %v, want %v", g, got, g)
		}
	}
}

func TestDecodeGeometryRefuses(t *testing.T) {
	good, _ := encodeGeometry(orb.Point{1, 2})
	for name, b := range map[string][]byte{
		"nil":                nil,
		"short":              []byte("GP"),
		"no magic":           append([]byte("XP"), good[2:]...),
		"version 1":          append([]byte("GP\x01"), good[3:]...),
		"extended":           append([]byte("GP\x00\x21"), good[4:]...),
		"bad envelope code":  append([]byte("GP\x00\x0b"), good[4:]...),
		"envelope truncated": good[:20],
		"no wkb":             good[:40],
		"wkb truncated":      good[:len(good)-3],
	} {
		if g, err := decodeGeometry(b); err == nil {
			t.Errorf("%s: decoded %v, want an error", name, g)
		}
	}
}

// FuzzDecodeGeometry feeds the decoder arbitrary blobs: it must never panic,
// and what it decodes must encode and decode to the same geometry.
func FuzzDecodeGeometry(f *testing.F) {
	for _, g := range samples {
		b, err := encodeGeometry(g)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
		f.Add(b[:len(b)/2])
	}
	// GDAL's shape for a point: big-endian header, no envelope.
	f.Add([]byte("GP\x00\x00\x00\x00\x10\xe6\x00\x00\x00\x00\x01@\x00\x00\x00\x00\x00\x00\x00@\x08\x00\x00\x00\x00\x00\x00"))
	// An xyz envelope (code 2) before a 2D point.
	f.Add(append([]byte("GP\x00\x05\xe6\x10\x00\x00"), make([]byte, 48+21)...))
	f.Fuzz(func(t *testing.T, b []byte) {
		g, err := decodeGeometry(b)
		if err != nil {
			return
		}
		again, err := encodeGeometry(g)
		if err != nil {
			return // orb refuses to write some shapes it reads, such as an empty point
		}
		g2, err := decodeGeometry(again)
		if err != nil {
			t.Fatalf("re-encoded %v does not decode: %v", g, err)
		}
		// Compared as bytes, where NaN equals NaN and nil equals empty.
		third, err := encodeGeometry(g2)
		if err != nil || !bytes.Equal(third, again) {
			t.Fatalf("round trip changed %#v into %#v (%v)", g, g2, err)
		}
	})
}
