package features

import (
	"bytes"
	"encoding/json"
	"math"
	"testing"
	"time"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geojson"

	"github.com/csdi-hk/csdi/catalog"
	"github.com/csdi-hk/csdi/geo"
)

// jsonOf is the reference: what encoding/json writes, HTML escaping off.
func jsonOf(t *testing.T, v any) string {
	t.Helper()
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		t.Fatalf("encoding/json %v: %v", v, err)
	}
	return string(bytes.TrimSuffix(b.Bytes(), []byte("\n")))
}

func TestAppendGeometry(t *testing.T) {
	ring := orb.Ring{{114.1, 22.3}, {114.2, 22.3}, {114.2, 22.4}, {114.1, 22.3}}
	tests := []orb.Geometry{
		nil,
		orb.Point{114.17, 22.32},
		orb.Point{-0.000000123, 1e22},
		orb.MultiPoint{{1, 2}, {3, 4}},
		orb.MultiPoint{},
		orb.LineString{{1, 2}, {3, 4.5}},
		orb.LineString(nil),
		orb.MultiLineString{{{1, 2}, {3, 4}}, {{5, 6}, {7, 8}}},
		ring,
		orb.Polygon{ring, ring},
		orb.Polygon{},
		orb.MultiPolygon{{ring}, {ring, ring}},
		orb.MultiPolygon{},
		orb.Bound{Min: orb.Point{114, 22}, Max: orb.Point{115, 23}},
		orb.Collection{orb.Point{1, 2}, orb.LineString{{1, 2}, {3, 4}}, nil, orb.Collection{}, orb.Collection{orb.Point{5, 6}}},
		orb.Collection{},
	}
	for _, g := range tests {
		got, err := appendGeometry(nil, g)
		if err != nil {
			t.Errorf("appendGeometry(%v): %v", g, err)
			continue
		}
		if want := jsonOf(t, geojson.NewGeometry(g)); string(got) != want {
			t.Errorf("appendGeometry(%#v)\n got %s\nwant %s", g, got, want)
		}
	}
	for _, g := range []orb.Geometry{orb.Point{math.NaN(), 1}, orb.LineString{{1, 2}, {math.Inf(1), 3}}, orb.MultiPolygon{{{{1, math.NaN()}}}}} {
		if got, err := appendGeometry(nil, g); err == nil {
			t.Errorf("appendGeometry(%v) = %s, want an error", g, got)
		}
	}
}

func TestAppendValue(t *testing.T) {
	day := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	moment := time.Date(2026, 3, 1, 8, 30, 15, 123456789, time.FixedZone("HKT", 8*3600))
	tests := []struct {
		v    any
		t    geo.FieldType
		want any // what encoding/json is given for the same value
	}{
		{nil, geo.String, nil},
		{"彌敦道\n\"700\"", geo.String, "彌敦道\n\"700\""},
		{int64(-9007199254740993), geo.Integer, int64(-9007199254740993)},
		{int64(math.MaxInt64), geo.Integer, int64(math.MaxInt64)},
		{3.25, geo.Number, 3.25},
		{1e-9, geo.Number, 1e-9},
		{math.NaN(), geo.Number, nil},
		{math.Inf(-1), geo.Number, nil},
		{true, geo.Boolean, true},
		{false, geo.Boolean, false},
		{day, geo.Date, "2026-03-01"},
		{moment, geo.DateTime, "2026-03-01T08:30:15.123456789+08:00"},
		{day, geo.DateTime, "2026-03-01T00:00:00Z"},
		{[]int{1, 2}, geo.String, []int{1, 2}},
	}
	for _, tc := range tests {
		got, err := appendValue(nil, catalog.ScalarOf(tc.v), tc.t)
		if err != nil {
			t.Errorf("appendValue(%v, %s): %v", tc.v, tc.t, err)
			continue
		}
		if want := jsonOf(t, tc.want); string(got) != want {
			t.Errorf("appendValue(%v, %s) = %s, want %s", tc.v, tc.t, got, want)
		}
	}
}
