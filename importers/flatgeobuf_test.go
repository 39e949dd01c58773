package importers

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/csdi-hk/csdi/geo"
	"github.com/csdi-hk/csdi/geo/crs"
)

// shapesGeoJSON has the geometry types the sample layers lack.
const shapesGeoJSON = `{"type":"FeatureCollection","features":[
{"type":"Feature","id":1,"properties":{"kind":"multipoint"},"geometry":{"type":"MultiPoint","coordinates":[[114.1,22.3],[114.2,22.4]]}},
{"type":"Feature","id":2,"properties":{"kind":"multilinestring"},"geometry":{"type":"MultiLineString","coordinates":[[[114.1,22.3],[114.2,22.4]],[[114.3,22.3],[114.31,22.35],[114.32,22.3]]]}},
{"type":"Feature","id":3,"properties":{"kind":"polygon with a hole"},"geometry":{"type":"Polygon","coordinates":[[[114,22],[114.1,22],[114.1,22.1],[114,22.1],[114,22]],[[114.02,22.02],[114.02,22.05],[114.05,22.05],[114.02,22.02]]]}},
{"type":"Feature","id":4,"properties":{"kind":"collection"},"geometry":{"type":"GeometryCollection","geometries":[{"type":"Point","coordinates":[114.1,22.3]},{"type":"LineString","coordinates":[[114.1,22.3],[114.2,22.4]]}]}}
]}`

// The shapes round-trip through FlatGeobuf and GeoPackage, whose encodings
// of multi-part geometries and collections differ.
func TestShapesFromOGR(t *testing.T) {
	dir := t.TempDir()
	src := writeFile(t, filepath.Join(dir, "shapes.geojson"), shapesGeoJSON)
	_, want := openOne(t, src, Options{})
	for format, ext := range map[string]string{"FlatGeobuf": ".fgb", "GPKG": ".gpkg"} {
		t.Run(format, func(t *testing.T) {
			p := filepath.Join(dir, "shapes"+ext)
			ogr2ogr(t, "-f", format, p, src, "-lco", "SPATIAL_INDEX=NO") // keeps the order
			_, got := openOne(t, p, Options{})
			compareFeatures(t, got, want, match{})
		})
	}
}

func TestFlatGeobufFromOGR(t *testing.T) {
	dir := t.TempDir()
	for _, srs := range []string{"EPSG:4326", "EPSG:2326"} {
		want, _ := crs.Lookup(srs)
		for _, index := range []string{"NO", "YES"} {
			for _, name := range sampleLayers {
				t.Run(fmt.Sprintf("%s/index %s/%s", srs, index, name), func(t *testing.T) {
					p := filepath.Join(dir, fmt.Sprintf("%s-%s-%s.fgb", name, want.Code()[5:], index))
					ogr2ogr(t, "-f", "FlatGeobuf", p, samplePath(name), "-t_srs", srs, "-lco", "SPATIAL_INDEX="+index)
					src, got := openOne(t, p, Options{})
					if src.Format != FormatFlatGeobuf || src.CRS != want {
						t.Errorf("format %s, CRS %v; want flatgeobuf, %v", src.Format, src.CRS, want)
					}
					orig := original(t, name)
					if index == "YES" {
						// The index puts the features in Hilbert order; they
						// are numbered in file order.
						got = inOrderOf(t, got, orig)
					}
					compareFeatures(t, got, orig, match{tol: coordTolerance, ids: func(i int) uint64 { return got[i].ID }})
				})
			}
		}
	}
}

// inOrderOf puts got in the order of want, matching features by their
// properties, and checks that got's ids are 1..n.
func inOrderOf(t *testing.T, got, want []geo.Feature) []geo.Feature {
	t.Helper()
	key := func(f geo.Feature) string {
		var ks []string
		for k, v := range f.Properties {
			ks = append(ks, fmt.Sprintf("%s=%v", k, v))
		}
		slices.Sort(ks)
		return strings.Join(ks, ";")
	}
	byKey := map[string]geo.Feature{}
	var ids []uint64
	for _, f := range got {
		byKey[key(f)] = f
		ids = append(ids, f.ID)
	}
	slices.Sort(ids)
	for i, id := range ids {
		if id != uint64(i+1) {
			t.Fatalf("ids %v are not 1..%d", ids, len(ids))
		}
	}
	out := make([]geo.Feature, 0, len(want))
	for _, w := range want {
		f, ok := byKey[key(w)]
		if !ok {
			t.Fatalf("no feature with the properties of feature %d: %s", w.ID, key(w))
		}
		out = append(out, f)
	}
	return out
}

func TestFlatGeobufErrors(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.fgb")
	ogr2ogr(t, "-f", "FlatGeobuf", good, samplePath("public_toilets"))
	b, err := os.ReadFile(good)
	if err != nil {
		t.Fatal(err)
	}
	headerEnd := 12 + int(binary.LittleEndian.Uint32(b[8:]))
	h, err := parseFGBHeader(b[12:headerEnd])
	if err != nil {
		t.Fatal(err)
	}
	firstFeature := headerEnd + int(h.indexSize)
	second := firstFeature + 4 + int(binary.LittleEndian.Uint32(b[firstFeature:]))
	patch := func(off int, v ...byte) []byte {
		c := slices.Clone(b)
		copy(c[off:], v)
		return c
	}
	noCRS := filepath.Join(dir, "nocrs.fgb")
	ogr2ogr(t, "-f", "FlatGeobuf", noCRS, samplePath("public_toilets"), "-a_srs", "None")
	grid, gridAsDegrees := filepath.Join(dir, "grid.fgb"), filepath.Join(dir, "grid-as-degrees.fgb")
	ogr2ogr(t, "-f", "FlatGeobuf", grid, samplePath("public_toilets"), "-t_srs", "EPSG:2326")
	ogr2ogr(t, "-f", "FlatGeobuf", gridAsDegrees, grid, "-a_srs", "EPSG:4326")

	tests := []struct {
		name    string
		content []byte
		path    string
		opts    Options
		openErr string
		want    string
		row     int
		read    int
	}{
		{name: "version 2", content: patch(3, 2), openErr: "FlatGeobuf version 2"},
		{name: "truncated header", content: b[:headerEnd-10], openErr: "truncated FlatGeobuf header"},
		{name: "huge header", content: patch(8, 0xff, 0xff, 0xff, 0x7f), openErr: "FlatGeobuf header of 2147483647 bytes"},
		{name: "truncated index", content: b[:headerEnd+100], want: "truncated in the spatial index"},
		{name: "truncated feature", content: b[:second+10], want: "truncated in feature 2", read: 1},
		{name: "missing features", content: b[:second], want: "truncated after feature 1: the header promises 95 features", read: 1},
		{name: "huge feature", content: patch(second, 0xff, 0xff, 0xff, 0xff), want: "feature 2: size 4294967295", read: 1},
		{name: "corrupt feature", content: patch(second+4, 0xff, 0xff, 0xff, 0x7f), want: "row 2: corrupt flatbuffer", row: 2, read: 94},
		{name: "no CRS", path: noCRS, openErr: "cannot determine the CRS of"},
		{name: "no CRS with --crs", path: noCRS, opts: Options{CRS: "EPSG:4326"}, read: 95},
		{name: "grid metres as degrees", path: gridAsDegrees, want: "EPSG:2326", row: 1},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := tt.path
			if p == "" {
				p = filepath.Join(dir, fmt.Sprint(i, ".fgb"))
				if err := os.WriteFile(p, tt.content, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			srcs, _, err := readFlatGeobuf(p, tt.opts)
			if tt.openErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.openErr) || !strings.Contains(err.Error(), p) {
					t.Fatalf("open error = %v, want one naming the file, containing %q", err, tt.openErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got, errs := featureErrors(srcs[0])
			if tt.want != "" {
				checkFirstError(t, p, got, errs, tt.want, tt.row, tt.read)
				return
			}
			if len(errs) > 0 {
				t.Fatal(errs)
			}
			if len(got) != tt.read {
				t.Errorf("%d features read, want %d", len(got), tt.read)
			}
		})
	}
}

func FuzzFlatGeobuf(f *testing.F) {
	f.Add([]byte("fgb\x03fgb\x00\x00\x00\x00\x00"))
	f.Fuzz(func(t *testing.T, b []byte) {
		h, err := readFGBHeader(bytes.NewReader(b))
		if err != nil {
			return
		}
		c := h.crs
		if c == 0 {
			c = crs.CRS84
		}
		for feat, err := range fgbFeatures(bufio.NewReader(bytes.NewReader(b)), "in.fgb", c) {
			if err != nil {
				if !strings.HasPrefix(err.Error(), "in.fgb") {
					t.Fatalf("error does not name the file: %v", err)
				}
				continue
			}
			if feat.ID == 0 || feat.Geometry == nil {
				t.Fatalf("feature without id or geometry: %+v", feat)
			}
			if err := CheckLonLat(feat.Geometry); err != nil {
				t.Fatalf("yielded a feature with bad coordinates: %v", err)
			}
		}
	})
}
