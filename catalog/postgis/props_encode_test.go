package postgis

import (
	"encoding/json"
	"maps"
	"math"
	"testing"
	"time"
)

// TestEncodePropsAsJSONMarshal holds the hand-written encoder to the bytes
// json.Marshal wrote before it, for every type of the feature model.
func TestEncodePropsAsJSONMarshal(t *testing.T) {
	tests := []struct {
		name  string
		props map[string]any
	}{
		{"nil", nil},
		{"empty", map[string]any{}},
		{"scalars", map[string]any{"s": "維多利亞公園", "i": int64(-42), "f": 35.2, "b": true, "n": nil, "big": int64(math.MaxInt64)}},
		{"floats", map[string]any{"a": 1e21, "b": 1e20, "c": 1e-6, "d": 1e-7, "e": -0.0, "f": 5e-324, "g": math.MaxFloat64, "h": 0.1 + 0.2, "i": 123456789.125, "j": -1.5e-9}},
		{"strings", map[string]any{"<html> & \"q\"": "a\\b\n\r\t\b\f\x01\x1f", "u": "\u2028\u2029", "bad": "caf\xe9", "emoji": "😀"}},
		{"times", map[string]any{"d": time.Date(2021, 6, 30, 0, 0, 0, 0, time.UTC), "t": time.Date(2021, 6, 30, 8, 0, 0, 123, time.FixedZone("HKT", 8*3600))}},
		{"other types", map[string]any{"n": json.Number("1.50"), "a": []any{int64(1), "x"}, "i": 7}},
		{"many keys", map[string]any{"k01": 1.0, "k02": 2.0, "k03": 3.0, "k04": 4.0, "k05": 5.0, "k06": 6.0, "k07": 7.0, "k08": 8.0, "k09": 9.0,
			"k10": 10.0, "k11": 11.0, "k12": 12.0, "k13": 13.0, "k14": 14.0, "k15": 15.0, "k16": 16.0, "k17": 17.0, "k18": "x"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			old := maps.Clone(tt.props)
			for k, v := range old {
				if tv, ok := v.(time.Time); ok {
					old[k] = formatTime(tv)
				}
			}
			want := []byte("{}")
			if old != nil {
				var err error
				if want, err = json.Marshal(old); err != nil {
					t.Fatal(err)
				}
			}
			got, err := encodeProps(tt.props)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != string(want) {
				t.Errorf("encodeProps = %s\nwant           %s", got, want)
			}
		})
	}
	for _, bad := range []float64{math.NaN(), math.Inf(1)} {
		if _, err := encodeProps(map[string]any{"x": bad}); err == nil {
			t.Errorf("%v encoded without an error", bad)
		}
	}
}

func BenchmarkEncodeProps(b *testing.B) {
	props := map[string]any{"id": int64(123456), "name_en": "Kwun Tong Garden Estate Block 12", "name_tc": "觀塘花園大廈12座",
		"height_m": 35.2, "floors": int64(11), "year": int64(1987), "usage": "residential"}
	b.Run("hand-written", func(b *testing.B) {
		for b.Loop() {
			if _, err := encodeProps(props); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("json.Marshal", func(b *testing.B) {
		for b.Loop() {
			if _, err := json.Marshal(props); err != nil {
				b.Fatal(err)
			}
		}
	})
}
