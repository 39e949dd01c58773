package importers

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"iter"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/paulmach/orb"

	"github.com/csdi-hk/csdi/geo"
)

// readItem is one thing a reader yielded.
type readItem struct {
	f   geo.Feature
	err error
}

// readItems collects what seq yields, going on after a FeatureError as an
// import does. panicked is what a panicking reader panicked with.
func readItems(seq iter.Seq2[geo.Feature, error]) (items []readItem, panicked any) {
	defer func() { panicked = recover() }()
	for f, err := range seq {
		items = append(items, readItem{f, err})
	}
	return items, nil
}

// stricter reports whether err is one of the problems the new reader
// rejects where the old one made up a value: a null or missing coordinate
// became 0, invalid UTF-8 became U+FFFD.
func stricter(err error) bool {
	var fe *FeatureError
	if !errors.As(err, &fe) {
		return false
	}
	msg := fe.Err.Error()
	return strings.Contains(msg, "null") || strings.Contains(msg, "fewer than 2") || strings.Contains(msg, "UTF-8")
}

// diffGeoJSON reads doc with the old reader (encoding/json and
// orb/geojson) and with GeoJSON over the reader that wrap makes, and
// describes the first difference: "" when they agree. Up to the old
// reader's first error, both yield the same features (id, geometry,
// properties); at it, the new one yields an error too (where the new one
// may go on). The new reader may reject more, for the reasons stricter
// allows.
func diffGeoJSON(doc []byte, wrap func(io.Reader) io.Reader) string {
	want, panicked := readItems(refGeoJSON(bytes.NewReader(doc), "d"))
	if panicked != nil {
		return "" // the old reader's own bug (a null in "geometries")
	}
	got, panicked := readItems(GeoJSON(wrap(bytes.NewReader(doc)), "d"))
	if panicked != nil {
		return fmt.Sprintf("panic: %v", panicked)
	}
	for i, w := range want {
		if i >= len(got) {
			return fmt.Sprintf("item %d: the read ended; want %v", i+1, describe(w))
		}
		g := got[i]
		switch {
		case w.err != nil && g.err != nil:
			return ""
		case w.err != nil:
			return fmt.Sprintf("item %d: %v; want the error %v", i+1, describe(g), w.err)
		case g.err != nil && stricter(g.err):
			continue
		case g.err != nil:
			return fmt.Sprintf("item %d: %v; want %v", i+1, g.err, describe(w))
		}
		if msg := sameFeature(g.f, w.f); msg != "" {
			return fmt.Sprintf("item %d: %s", i+1, msg)
		}
	}
	if len(got) > len(want) {
		return fmt.Sprintf("item %d: %v after the end", len(want)+1, describe(got[len(want)]))
	}
	return ""
}

func describe(it readItem) string {
	if it.err != nil {
		return "error " + it.err.Error()
	}
	return fmt.Sprintf("feature %d %v %v", it.f.ID, it.f.Geometry, it.f.Properties)
}

func sameFeature(got, want geo.Feature) string {
	if got.ID != want.ID {
		return fmt.Sprintf("id %d, want %d", got.ID, want.ID)
	}
	if !orb.Equal(got.Geometry, want.Geometry) {
		return fmt.Sprintf("geometry %#v, want %#v", got.Geometry, want.Geometry)
	}
	if len(got.Properties) != len(want.Properties) {
		return fmt.Sprintf("properties %#v, want %#v", got.Properties, want.Properties)
	}
	for k, w := range want.Properties {
		g, ok := got.Properties[k]
		if wt, isTime := w.(time.Time); isTime {
			if gt, isTime := g.(time.Time); !isTime || !gt.Equal(wt) {
				return fmt.Sprintf("property %q = %#v, want %#v", k, g, w)
			}
			continue
		}
		if !ok || g != w {
			return fmt.Sprintf("property %q = %#v, want %#v", k, g, w)
		}
	}
	return ""
}

// chunked reads at most n bytes at a time, so that features straddle
// buffer refills everywhere.
type chunked struct {
	r io.Reader
	n int
}

func (c chunked) Read(p []byte) (int, error) { return c.r.Read(p[:min(len(p), c.n)]) }

// geojsonDiffSeeds are the differential test's cases and its fuzz seeds:
// valid GeoJSON with the features the reader must get right, and some
// invalid documents whose errors must come at the same feature.
var geojsonDiffSeeds = []struct{ name, doc string }{
	{"collection", `{"type":"FeatureCollection","features":[{"type":"Feature","id":1,"geometry":{"type":"Point","coordinates":[114,22]},"properties":{"a":"b"}}]}`},
	{"features before type, members in any order", `{"features":[{"properties":{"n":1},"geometry":{"coordinates":[[114,22],[114.5,22.5]],"type":"LineString"},"type":"Feature"}],"bbox":[1,2,3,4],"type":"FeatureCollection"}`},
	{"every geometry type", `{"type":"FeatureCollection","features":[
		{"type":"Feature","geometry":{"type":"MultiPoint","coordinates":[[114,22],[114.1,22.1]]},"properties":null},
		{"type":"Feature","geometry":{"type":"MultiLineString","coordinates":[[[114,22],[114.1,22.1]],[]]},"properties":{}},
		{"type":"Feature","geometry":{"type":"Polygon","coordinates":[[[114,22],[114.1,22],[114.1,22.1],[114,22]],[[114.01,22.01],[114.02,22.01],[114.02,22.02],[114.01,22.01]]]},"properties":{}},
		{"type":"Feature","geometry":{"type":"MultiPolygon","coordinates":[[[[114,22],[114.1,22],[114.1,22.1],[114,22]]],[]]},"properties":{}},
		{"type":"Feature","geometry":{"type":"GeometryCollection","geometries":[{"type":"Point","coordinates":[114,22]},{"type":"GeometryCollection","geometries":[]}]},"properties":{}},
		{"type":"Feature","geometry":{"type":"LineString","coordinates":[]},"properties":{}}]}`},
	{"3D and 4D positions, extras of any kind", `{"type":"Feature","geometry":{"type":"LineString","coordinates":[[114,22,5],[114.1,22.1,5,6],[114.2,22.2,"z",{"m":[1]}]]},"properties":{}}`},
	{"numbers", `{"type":"FeatureCollection","features":[{"type":"Feature","geometry":{"type":"Point","coordinates":[-1.5e2,2.2E+1]},"properties":{"i":-0,"big":9223372036854775807,"bigger":9223372036854775808,"f":1.0,"e":1e3,"tiny":1e-400,"p":114.17234567891234,"q":0.1,"r":22.300000000000001,"s":-123456789012345678901234567890}},
		{"type":"Feature","geometry":{"type":"Point","coordinates":[114.123456789012345678,22.000000000000000001]},"properties":{"x":5e-324,"y":1.7976931348623157e308}}]}`},
	{"strings and escapes", `{"type":"Feature","geometry":{"type":"Point","coordinates":[114,22]},"properties":{"\u540d\u7a31":"\u7dad\"\\\/\b\f\n\r\t","pair":"\ud83d\ude00","lone":"\ud800x","lone2":"\udc00\ud800","名稱":"維多利亞公園","html":"<a&b>","ls":"\u2028"}}`},
	{"dates", `{"type":"Feature","geometry":{"type":"Point","coordinates":[114,22]},"properties":{"d":"2021-06-30","t":"2021-06-30T08:00:00+08:00","bad":"2021-13-45","tz":"2021-06-30T08:00:00.123456789Z","not":"2021-06-30 08:00"}}`},
	{"nested values", `{"type":"Feature","geometry":{"type":"Point","coordinates":[114,22]},"properties":{"o":{"b":[1,2.50,{"z":null,"a":true}],"a":"<x>","a":"dup"},"e":[],"eo":{},"s":["\u2029\u0001",1E5]}}`},
	{"duplicate members", `{"type":"FeatureCollection","features":[{"type":"Feature","geometry":null,"properties":{"a":1e400,"b":2},"properties":{"a":1},"geometry":{"type":"Point","coordinates":[114,22]},"id":"x","id":3},
		{"type":"Feature","id":4,"properties":{"a":1},"properties":null,"geometry":{"coordinates":[1,2],"type":"LineString","coordinates":[[114,22],[114,23]],"type":"LineString"}}]}`},
	{"keys in another case", `{"type":"FeatureCollection","features":[{"TYPE":"Feature","Geometry":{"Type":"Point","COORDINATES":[114,22]},"Properties":{"A":1},"ID":2}]}`},
	{"string and absent ids", `{"type":"FeatureCollection","features":[{"type":"Feature","id":"a","geometry":{"type":"Point","coordinates":[114,22]}},{"type":"Feature","id":0,"geometry":{"type":"Point","coordinates":[114,22]}},{"type":"Feature","id":-1,"geometry":{"type":"Point","coordinates":[114,22]}},{"type":"Feature","id":2.0,"geometry":{"type":"Point","coordinates":[114,22]}}]}`},
	{"source ids", `{"type":"FeatureCollection","features":[{"type":"Feature","id":18446744073709551615,"geometry":{"type":"Point","coordinates":[114,22]}},{"type":"Feature","id":7,"geometry":{"type":"Point","coordinates":[114,22]}}]}`},
	{"single feature with other members", `{"bbox":[0,0,1,1],"type":"Feature","properties":{"a":[1]},"crs":{"type":"name","properties":{"name":"urn:ogc:def:crs:OGC:1.3:CRS84"}},"geometry":{"type":"Point","coordinates":[114,22]},"id":5}`},
	{"newline-delimited", "{\"type\":\"Feature\",\"properties\":{\"a\":1},\"geometry\":{\"type\":\"Point\",\"coordinates\":[114,22]}}\n{\"type\":\"Feature\",\"properties\":{\"a\":2},\"geometry\":{\"type\":\"Point\",\"coordinates\":[114.2,22.2]}}\r\n\t{\"type\":\"Feature\",\"properties\":{},\"geometry\":{\"type\":\"Point\",\"coordinates\":[114.2,22.2]}}\n"},
	{"white space everywhere", " \n{ \"type\" : \"FeatureCollection\" , \"features\" : [ { \"type\" : \"Feature\" , \"geometry\" : { \"type\" : \"Point\" , \"coordinates\" : [ 114 , 22 ] } , \"properties\" : { \"a\" : [ 1 , { } ] } } ] } \n "},
	{"empty collection", `{"type":"FeatureCollection","features":[]}`},
	// Errors: at the same feature in both.
	{"bad features then good", `{"type":"FeatureCollection","features":[{"type":"Feature","geometry":{"type":"Pt","coordinates":[1,2]}},{"type":"Feature","geometry":{"type":"Point","coordinates":[114,22]}}]}`},
	{"hk1980 metres", `{"type":"FeatureCollection","features":[{"type":"Feature","geometry":{"type":"Point","coordinates":[835411.431,817266.016]},"properties":{}}]}`},
	{"coordinate out of range", `{"type":"Feature","geometry":{"type":"Point","coordinates":[1e400,22]},"properties":{}}`},
	{"property out of range", `{"type":"Feature","geometry":{"type":"Point","coordinates":[114,22]},"properties":{"a":-1e400}}`},
	{"wrong shapes", `{"type":"FeatureCollection","features":[{"type":"Feature","geometry":{"type":"Point","coordinates":[[114,22]]}},{"type":"Feature","geometry":{"type":"Polygon","coordinates":[[114,22]]}},{"type":"Feature","geometry":{"type":"LineString","coordinates":{}}},{"type":"Feature","geometry":{"type":"Point"}},{"type":"Feature","geometry":5},{"type":"Feature","geometry":{}}]}`},
	{"wrong member types", `{"type":"FeatureCollection","features":[{"type":"Feature","geometry":{"type":"Point","coordinates":[114,22]},"properties":[1]},{"type":5},{"type":"Feature","geometry":{"type":["Point"],"coordinates":[114,22]}},5,null,"x"]}`},
	{"not a feature", `{"type":"FeatureCollection","features":[{"type":"feature","geometry":{"type":"Point","coordinates":[114,22]}}]}`},
	{"truncated", `{"type":"FeatureCollection","features":[{"type":"Feature","geometry":{"type":"Point","coordinates":[114,22]},"properties":{}},{"type":"Feature","geometry":{"type":"Point","coordinates":[114.`},
	{"broken", `{"type":"FeatureCollection","features":[{"type":"Feature","geometry":{"type":"Point","coordinates":[114,22]},"properties":{}},{"type":"Feature",}]}`},
	{"trailing data", `{"type":"FeatureCollection","features":[]} {}`},
	{"no features member", `{"type":"FeatureCollection"}`},
	{"features not an array", `{"type":"FeatureCollection","features":{}}`},
}

// TestGeoJSONAgreesWithEncodingJSON is the guard of the hand-written
// parser: on every case, and on the sample layers, it agrees with the
// reader built on encoding/json and orb/geojson, read whole and one byte
// at a time (every possible restart after a refill).
func TestGeoJSONAgreesWithEncodingJSON(t *testing.T) {
	wraps := map[string]func(io.Reader) io.Reader{
		"whole":    func(r io.Reader) io.Reader { return r },
		"one byte": iotest.OneByteReader,
		"7 bytes":  func(r io.Reader) io.Reader { return chunked{r, 7} },
	}
	for _, tt := range geojsonDiffSeeds {
		for wname, wrap := range wraps {
			t.Run(tt.name+"/"+wname, func(t *testing.T) {
				if msg := diffGeoJSON([]byte(tt.doc), wrap); msg != "" {
					t.Error(msg)
				}
			})
		}
	}
	samples, err := filepath.Glob(filepath.Join("..", "testdata", "sample", "*.geojson"))
	if err != nil || len(samples) == 0 {
		t.Fatalf("no sample layers: %v", err)
	}
	var buildings bytes.Buffer
	if err := writeBuildings(&buildings, 500); err != nil {
		t.Fatal(err)
	}
	docs := map[string][]byte{"synth buildings": buildings.Bytes()}
	for _, p := range samples {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		docs[filepath.Base(p)] = b
	}
	for name, doc := range docs {
		t.Run(name, func(t *testing.T) {
			if msg := diffGeoJSON(doc, func(r io.Reader) io.Reader { return chunked{r, 4093} }); msg != "" {
				t.Error(msg)
			}
		})
	}
}

// FuzzGeoJSONDiff runs the differential check on fuzzed documents, read
// in chunks of a size that varies with the input.
func FuzzGeoJSONDiff(f *testing.F) {
	for _, tt := range geojsonDiffSeeds {
		f.Add(tt.doc)
	}
	f.Fuzz(func(t *testing.T, doc string) {
		if strings.HasPrefix(doc, "\ufeff") {
			return // the old reader refused a byte order mark
		}
		n := 1 + len(doc)%13
		if msg := diffGeoJSON([]byte(doc), func(r io.Reader) io.Reader { return chunked{r, n} }); msg != "" {
			t.Fatal(msg)
		}
	})
}

// BenchmarkGeoJSONRead reads 20,000 synth buildings (the import
// benchmark's features) from memory, with the reader and with the old one
// built on encoding/json for comparison.
func BenchmarkGeoJSONRead(b *testing.B) {
	const n = 20_000
	var buf bytes.Buffer
	if err := writeBuildings(&buf, n); err != nil {
		b.Fatal(err)
	}
	doc := buf.Bytes()
	for _, r := range []struct {
		name string
		read func(io.Reader, string) iter.Seq2[geo.Feature, error]
	}{{"hand-written", GeoJSON}, {"encoding-json", refGeoJSON}} {
		b.Run(r.name, func(b *testing.B) {
			b.SetBytes(int64(len(doc)))
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			for b.Loop() {
				count := 0
				for _, err := range r.read(bytes.NewReader(doc), "bench") {
					if err != nil {
						b.Fatal(err)
					}
					count++
				}
				if count != n {
					b.Fatalf("%d features, want %d", count, n)
				}
			}
			runtime.ReadMemStats(&after)
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/feature")
			b.ReportMetric(float64(after.Mallocs-before.Mallocs)/float64(b.N*n), "allocs/feature")
		})
	}
}

// TestParseJSONFloat holds the coordinate parser to strconv.ParseFloat on
// the numbers its fast paths take (up to 19 digits, up to 19 after the
// point), written as Go writes float64s and as random digit strings, and
// on ties and extremes.
func TestParseJSONFloat(t *testing.T) {
	cases := []string{"0", "-0", "0.0", "1", "-1", "114.17234567891234", "22.300000000000001", "9007199254740993",
		"18446744073709551615", "18446744073709551616", "0.1000000000000000055511151231257827", "1234567890123456789.5",
		"0.0000000000000000001", "9999999999999999999", "9007199254740992.5", "9007199254740993.5", "4503599627370496.25",
		"0.00000000000000000000000001", "1e5", "-2.5E-3", "1e400", "-1e400", "1e-400", "123456789012345678901234567890"}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 300_000 {
		f := math.Float64frombits(rng.Uint64())
		if !finite(f) {
			continue
		}
		cases = append(cases, strconv.FormatFloat(f, 'f', -1, 64))
		cases = append(cases, strconv.FormatFloat(114+rng.Float64(), 'f', -1, 64))
		var b []byte
		if rng.IntN(4) == 0 {
			b = append(b, '-')
		}
		intDigits, fracDigits := rng.IntN(20), rng.IntN(20)
		for j := range intDigits {
			d := byte('0' + rng.IntN(10))
			if j == 0 && d == '0' {
				d = '1'
			}
			b = append(b, d)
		}
		if intDigits == 0 {
			b = append(b, '0')
		}
		if fracDigits > 0 {
			b = append(b, '.')
			for range fracDigits {
				b = append(b, byte('0'+rng.IntN(10)))
			}
		}
		cases = append(cases, string(b))
	}
	for _, c := range cases {
		want, err := strconv.ParseFloat(c, 64)
		got, ok := parseJSONFloat([]byte(c))
		if ok != (err == nil) || math.Float64bits(got) != math.Float64bits(want) && ok {
			t.Fatalf("parseJSONFloat(%s) = %v, %v; want %v, %v", c, got, ok, want, err)
		}
	}
}
