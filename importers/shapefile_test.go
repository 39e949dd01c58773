package importers

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/paulmach/orb"

	"github.com/csdi-hk/csdi/geo"
	"github.com/csdi-hk/csdi/geo/crs"
)

// writeShapefile has ogr2ogr write the sample layer name as a shapefile
// dir/base.shp with the layer creation options, and returns its path.
func writeShapefile(t *testing.T, dir, base, name string, args ...string) string {
	t.Helper()
	p := filepath.Join(dir, base+".shp")
	ogr2ogr(t, append(append([]string{"-f", "ESRI Shapefile"}, args...), p, samplePath(name))...)
	return p
}

// zipShapefile puts the parts of the shapefile at shp into a zip archive,
// in a folder as users' archives often have them.
func zipShapefile(t *testing.T, shp, zipPath string) {
	t.Helper()
	files := map[string][]byte{}
	base := strings.TrimSuffix(shp, ".shp")
	for _, ext := range []string{".shp", ".shx", ".dbf", ".prj", ".cpg"} {
		b, err := os.ReadFile(base + ext)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		files["layer/"+filepath.Base(base)+ext] = b
	}
	writeZip(t, zipPath, files)
}

var shapefileMatch = match{rename: dbfName, boolAsInt: true}

// The Done-when test: ogr2ogr's shapefiles of the sample layers, loose and
// zipped, in WGS 84 and in the HK1980 Grid, read as the GeoJSON does.
// Shapefiles have no booleans (GDAL writes 1 and 0) and cut field names
// to 10 bytes; everything else must come back unchanged.
func TestShapefileMatchesGeoJSON(t *testing.T) {
	for _, name := range sampleLayers {
		for _, grid := range []bool{false, true} {
			var args []string
			m, wantCRS, label := shapefileMatch, crs.WGS84, name
			if grid {
				args = []string{"-t_srs", "EPSG:2326"}
				m.tol, wantCRS, label = 1e-8, crs.HK1980Grid, name+" in EPSG:2326"
			}
			t.Run(label, func(t *testing.T) {
				dir := t.TempDir()
				shp := writeShapefile(t, dir, name, name, append(args, "-lco", "ENCODING=UTF-8")...)
				want := original(t, name)
				src, got := openOne(t, shp, Options{})
				if src.Format != FormatShapefile || src.CRS != wantCRS || src.Name != "" {
					t.Errorf("format %s, CRS %v, name %q; want shapefile, %v, no name", src.Format, src.CRS, src.Name, wantCRS)
				}
				compareFeatures(t, got, want, m)

				zipPath := filepath.Join(dir, name+".zip")
				zipShapefile(t, shp, zipPath)
				src, got = openOne(t, zipPath, Options{})
				if src.Format != FormatShapefile || src.CRS != wantCRS {
					t.Errorf("zip: format %s, CRS %v", src.Format, src.CRS)
				}
				compareFeatures(t, got, want, m)
			})
		}
	}
}

// An HK1980 Grid shapefile lands where its WGS 84 twin does, within 1 mm.
func TestShapefileGridLandsOnTwin(t *testing.T) {
	dir := t.TempDir()
	_, wgs := openOne(t, writeShapefile(t, dir, "wgs", "districts", "-lco", "ENCODING=UTF-8"), Options{})
	_, grid := openOne(t, writeShapefile(t, dir, "grid", "districts", "-lco", "ENCODING=UTF-8", "-t_srs", "EPSG:2326"), Options{})
	compareFeatures(t, grid, wgs, match{tol: 1e-8})
}

func TestShapefileBig5(t *testing.T) {
	dir := t.TempDir()
	// iconv's BIG5 lacks HKSCS characters such as 埗 (深水埗), which the
	// lampposts have, so they are written as BIG5-HKSCS; the roads fit
	// plain BIG5.
	for _, tt := range []struct{ name, enc string }{{"roads", "BIG5"}, {"smart_lampposts", "BIG5-HKSCS"}} {
		t.Run(tt.enc, func(t *testing.T) {
			shp := writeShapefile(t, dir, tt.name, tt.name, "-lco", "ENCODING="+tt.enc)
			_, got := openOne(t, shp, Options{})
			compareFeatures(t, got, original(t, tt.name), shapefileMatch)

			// Without the .cpg the text is taken for UTF-8 and fails,
			// naming the record and the field; --encoding fixes it.
			if err := os.Remove(strings.TrimSuffix(shp, ".shp") + ".cpg"); err != nil {
				t.Fatal(err)
			}
			srcs, closeFn, err := Open(shp, Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer closeFn()
			_, err = readUntilError(srcs[0])
			var fe *FeatureError
			if !errors.As(err, &fe) || fe.Row != 1 || !strings.Contains(err.Error(), "--encoding big5") || !strings.Contains(err.Error(), `field "`) {
				t.Errorf("without .cpg: %v, want a row 1 error naming the field and --encoding big5", err)
			}
			_, got = openOne(t, shp, Options{Encoding: strings.ToLower(tt.enc)})
			compareFeatures(t, got, original(t, tt.name), shapefileMatch)
		})
	}
}

// Polygons with holes and multipolygons: shapefile rings are clockwise
// outside and counter-clockwise inside, with no marker of which ring
// belongs to which polygon.
func TestShapefileHoles(t *testing.T) {
	dir := t.TempDir()
	src := writeFile(t, filepath.Join(dir, "holes.geojson"), `{"type":"FeatureCollection","features":[
{"type":"Feature","id":1,"properties":{"n":1},"geometry":{"type":"Polygon","coordinates":[
  [[114,22],[114.1,22],[114.1,22.1],[114,22.1],[114,22]],
  [[114.02,22.02],[114.02,22.04],[114.04,22.04],[114.04,22.02],[114.02,22.02]],
  [[114.06,22.06],[114.06,22.08],[114.08,22.08],[114.08,22.06],[114.06,22.06]]]}},
{"type":"Feature","id":2,"properties":{"n":2},"geometry":{"type":"MultiPolygon","coordinates":[
  [[[114,22],[114.1,22],[114.1,22.1],[114,22.1],[114,22]],
   [[114.02,22.02],[114.02,22.08],[114.08,22.08],[114.08,22.02],[114.02,22.02]]],
  [[[114.04,22.04],[114.06,22.04],[114.06,22.06],[114.04,22.06],[114.04,22.04]]],
  [[[114.2,22],[114.3,22],[114.3,22.1],[114.2,22]]]]}}]}`)
	shp := filepath.Join(dir, "holes.shp")
	ogr2ogr(t, "-f", "ESRI Shapefile", shp, src)
	_, got := openOne(t, shp, Options{})
	f, err := os.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var want []geo.Feature
	for feat, err := range GeoJSON(f, src) {
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, feat)
	}
	compareFeatures(t, got, want, match{})
}

func TestShapefileDeletedRecord(t *testing.T) {
	dir := t.TempDir()
	shp := writeShapefile(t, dir, "roads", "roads", "-lco", "ENCODING=UTF-8")
	dbf := strings.TrimSuffix(shp, ".shp") + ".dbf"
	b, err := os.ReadFile(dbf)
	if err != nil {
		t.Fatal(err)
	}
	headerLen := int(binary.LittleEndian.Uint16(b[8:]))
	recordLen := int(binary.LittleEndian.Uint16(b[10:]))
	b[headerLen+recordLen] = '*' // the second record
	writeFile(t, dbf, string(b))
	_, got := openOne(t, shp, Options{})
	want := original(t, "roads")
	want = append(want[:1], want[2:]...)
	compareFeatures(t, got, want, shapefileMatch)
}

// Parts are found in any case, and the path may name any of them.
func TestShapefileSiblings(t *testing.T) {
	dir := t.TempDir()
	shp := writeShapefile(t, dir, "toilets", "public_toilets", "-lco", "ENCODING=UTF-8")
	base := strings.TrimSuffix(shp, ".shp")
	for _, ext := range []string{".dbf", ".prj", ".cpg"} {
		if err := os.Rename(base+ext, base+strings.ToUpper(ext)); err != nil {
			t.Fatal(err)
		}
	}
	for _, p := range []string{shp, base + ".DBF", base + ".shx", base + ".PRJ"} {
		_, got := openOne(t, p, Options{})
		compareFeatures(t, got, original(t, "public_toilets"), shapefileMatch)
	}
}

func TestShapefileZipLayers(t *testing.T) {
	dir := t.TempDir()
	files := map[string][]byte{}
	for _, name := range []string{"roads", "districts"} {
		shp := writeShapefile(t, dir, name, name, "-lco", "ENCODING=UTF-8")
		for _, ext := range []string{".shp", ".shx", ".dbf", ".prj", ".cpg"} {
			b, err := os.ReadFile(strings.TrimSuffix(shp, ".shp") + ext)
			if err != nil {
				t.Fatal(err)
			}
			files[name+ext] = b
		}
	}
	files["__MACOSX/._roads.shp"] = []byte("resource fork")
	zipPath := filepath.Join(dir, "both.zip")
	writeZip(t, zipPath, files)

	srcs, closeFn, err := Open(zipPath, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(srcs) != 2 || srcs[0].Name != "districts" || srcs[1].Name != "roads" {
		t.Fatalf("sources %+v, want districts and roads", srcs)
	}
	compareFeatures(t, readAll(t, srcs[1]), original(t, "roads"), shapefileMatch)
	closeFn()

	src, got := openOne(t, zipPath, Options{SourceLayer: "DISTRICTS"})
	if src.Name != "districts" {
		t.Errorf("name %q, want districts", src.Name)
	}
	compareFeatures(t, got, original(t, "districts"), shapefileMatch)

	if _, _, err := Open(zipPath, Options{SourceLayer: "lakes"}); err == nil || !strings.Contains(err.Error(), "districts, roads") {
		t.Errorf("unknown --source-layer: %v, want an error listing the layers", err)
	}
}

func TestShapefileErrors(t *testing.T) {
	dir := t.TempDir()
	shp := writeShapefile(t, dir, "roads", "roads", "-lco", "ENCODING=UTF-8")
	base := strings.TrimSuffix(shp, ".shp")
	read := func(ext string) []byte {
		b, err := os.ReadFile(base + ext)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	shpBytes, dbfBytes, prj := read(".shp"), read(".dbf"), read(".prj")

	// copyWith writes the shapefile under a new name with parts replaced
	// (nil: left out).
	copyWith := func(name string, parts map[string][]byte) string {
		all := map[string][]byte{".shp": shpBytes, ".dbf": dbfBytes, ".prj": prj, ".shx": read(".shx")}
		for k, v := range parts {
			all[k] = v
		}
		for ext, b := range all {
			if b != nil {
				writeFile(t, filepath.Join(dir, name+ext), string(b))
			}
		}
		return filepath.Join(dir, name+".shp")
	}

	tests := []struct {
		name   string
		parts  map[string][]byte
		opts   Options
		open   string // the error of Open contains this
		stream string // or the error of the stream does
		before int    // features read before the stream's error
	}{
		{name: "no prj", parts: map[string][]byte{".prj": nil}, open: "cannot determine the CRS"},
		{name: "unsupported prj", parts: map[string][]byte{".prj": []byte(`PROJCS["WGS_1984_UTM_Zone_50N",GEOGCS["GCS_WGS_1984",DATUM["D_WGS_1984",SPHEROID["WGS_1984",6378137.0,298.257223563]],PRIMEM["Greenwich",0.0],UNIT["Degree",0.0174532925199433]],PROJECTION["Transverse_Mercator"],PARAMETER["False_Easting",500000.0],PARAMETER["False_Northing",0.0],PARAMETER["Central_Meridian",117.0],PARAMETER["Scale_Factor",0.9996],PARAMETER["Latitude_Of_Origin",0.0],UNIT["Meter",1.0]]`)}, open: ".prj file"},
		{name: "no dbf", parts: map[string][]byte{".dbf": nil}, open: ".dbf"},
		{name: "bad encoding", opts: Options{Encoding: "klingon"}, open: "--encoding"},
		{name: "truncated shp", parts: map[string][]byte{".shp": shpBytes[:len(shpBytes)-50]}, stream: "truncated", before: 21},
		{name: "truncated header", parts: map[string][]byte{".shp": shpBytes[:60]}, open: "truncated .shp header"},
		{name: "truncated dbf", parts: map[string][]byte{".dbf": dbfBytes[:len(dbfBytes)-300]}, stream: "truncated"},
		{name: "grid declared wrongly", opts: Options{CRS: "EPSG:2326"}, stream: "looks like longitude/latitude"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := copyWith("case"+string(rune('a'+i)), tt.parts)
			srcs, closeFn, err := Open(p, tt.opts)
			if tt.open != "" {
				named := strings.HasPrefix(tt.open, "--") || (err != nil && strings.Contains(err.Error(), filepath.Base(p)))
				if err == nil || !strings.Contains(err.Error(), tt.open) || !named {
					t.Fatalf("Open: %v, want an error naming the file and containing %q", err, tt.open)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer closeFn()
			got, err := readUntilError(srcs[0])
			if err == nil || !strings.Contains(err.Error(), tt.stream) {
				t.Fatalf("stream: %v, want an error containing %q", err, tt.stream)
			}
			if tt.before > 0 && len(got) != tt.before {
				t.Errorf("%d features before the error, want %d", len(got), tt.before)
			}
		})
	}
}

// Hand-made records for what ogr2ogr does not write: Z and M shapes, null
// shapes, bad part indexes, an unknown type.
func TestParseShape(t *testing.T) {
	le := binary.LittleEndian
	rec := func(typ uint32, rest ...any) []byte {
		var b bytes.Buffer
		binary.Write(&b, le, typ)
		for _, r := range rest {
			binary.Write(&b, le, r)
		}
		return b.Bytes()
	}
	box := []float64{0, 0, 0, 0}
	tests := []struct {
		name string
		b    []byte
		want orb.Geometry
		err  string
	}{
		{name: "null", b: rec(shpNull)},
		{name: "pointZ", b: rec(shpPointZ, 114.1, 22.3, 5.0, 0.0), want: orb.Point{114.1, 22.3}},
		{name: "multipointM", b: rec(shpMultiPointM, box, uint32(2), []float64{1, 2, 3, 4}, []float64{0, 0, 0, 0}), want: orb.MultiPoint{{1, 2}, {3, 4}}},
		{name: "polylineZ two parts", b: rec(shpPolyLineZ, box, uint32(2), uint32(4), []uint32{0, 2}, []float64{0, 0, 1, 1, 2, 2, 3, 3}, []float64{0, 0}, []float64{0, 0, 0, 0}),
			want: orb.MultiLineString{{{0, 0}, {1, 1}}, {{2, 2}, {3, 3}}}},
		{name: "single ring counter-clockwise", b: rec(shpPolygon, box, uint32(1), uint32(4), []uint32{0}, []float64{0, 0, 1, 0, 0, 1, 0, 0}),
			want: orb.Polygon{{{0, 0}, {1, 0}, {0, 1}, {0, 0}}}},
		{name: "orphan hole", b: rec(shpPolygon, box, uint32(2), uint32(8), []uint32{0, 4}, []float64{0, 0, 0, 1, 1, 0, 0, 0, 5, 5, 6, 5, 5, 6, 5, 5}),
			want: orb.MultiPolygon{{{{0, 0}, {1, 0}, {0, 1}, {0, 0}}}, {{{5, 5}, {6, 5}, {5, 6}, {5, 5}}}}},
		{name: "part out of range", b: rec(shpPolyLine, box, uint32(2), uint32(2), []uint32{0, 3}, []float64{0, 0, 1, 1}), err: "part 1"},
		{name: "first part not 0", b: rec(shpPolyLine, box, uint32(1), uint32(2), []uint32{1}, []float64{0, 0, 1, 1}), err: "part 1"},
		{name: "too many points", b: rec(shpPolyLine, box, uint32(1), uint32(1<<30), []uint32{0}), err: "do not fit"},
		{name: "empty", b: rec(shpPolygon, box, uint32(0), uint32(0)), err: "empty"},
		{name: "short point", b: rec(shpPoint, 1.0), err: "too short"},
		{name: "multipatch", b: rec(shpMultiPatch, box), err: "MultiPatch"},
		{name: "unknown", b: rec(99), err: "unknown shape type 99"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g, err := parseShape(tt.b)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("err = %v, want one containing %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !orb.Equal(g, tt.want) && !(g == nil && tt.want == nil) {
				t.Errorf("got %v, want %v", g, tt.want)
			}
		})
	}
}

// shapefileFromBytes is a shapefile whose .shp and .dbf are in memory.
func shapefileFromBytes(shp, dbf []byte, c crs.CRS) shapefile {
	open := func(ext string) (io.ReadCloser, int64, error) {
		switch ext {
		case ".shp":
			return io.NopCloser(bytes.NewReader(shp)), int64(len(shp)), nil
		case ".dbf":
			return io.NopCloser(bytes.NewReader(dbf)), int64(len(dbf)), nil
		}
		return nil, 0, os.ErrNotExist
	}
	return shapefile{label: "fuzz.shp", open: open, crs: c}
}

func FuzzShapefile(f *testing.F) {
	f.Add(tinyShp(), tinyDBF())
	f.Fuzz(func(t *testing.T, shp, dbf []byte) {
		n := 0
		for feat, err := range shapefileFromBytes(shp, dbf, crs.CRS84).features {
			if err != nil {
				if !strings.HasPrefix(err.Error(), "fuzz.") {
					t.Fatalf("error does not name the file: %v", err)
				}
				var fe *FeatureError
				if errors.As(err, &fe) {
					continue
				}
				break
			}
			n++
			if feat.ID == 0 || feat.Geometry == nil {
				t.Fatalf("feature %d: id %d, geometry %v", n, feat.ID, feat.Geometry)
			}
			if err := CheckLonLat(feat.Geometry); err != nil {
				t.Fatalf("feature %d: %v", n, err)
			}
		}
	})
}

func FuzzDBF(f *testing.F) {
	f.Add(tinyDBF(), "")
	f.Add(tinyDBF(), "big5")
	f.Fuzz(func(t *testing.T, dbf []byte, encoding string) {
		enc, err := lookupEncoding(encoding)
		if err != nil {
			enc = textEncoding{}
		}
		d, err := newDBFReader(bytes.NewReader(dbf), "fuzz.dbf", enc)
		if err != nil {
			return
		}
		for {
			props, _, err := d.next()
			if err == io.EOF {
				return
			}
			var fe *FeatureError
			if errors.As(err, &fe) {
				continue
			}
			if err != nil {
				return
			}
			for k, v := range props {
				if _, ok := geo.TypeOf(v); !ok && v != nil {
					t.Fatalf("%s: value %#v outside the feature model", k, v)
				}
			}
		}
	})
}

// tinyShp is a .shp of two records: a point and a polygon.
func tinyShp() []byte {
	le, be := binary.LittleEndian, binary.BigEndian
	var recs bytes.Buffer
	for i, content := range [][]any{
		{uint32(shpPoint), 114.1, 22.3},
		{uint32(shpPolygon), []float64{114, 22, 114.1, 22.1}, uint32(1), uint32(4), uint32(0), []float64{114, 22, 114, 22.1, 114.1, 22, 114, 22}},
	} {
		var c bytes.Buffer
		for _, v := range content {
			binary.Write(&c, le, v)
		}
		binary.Write(&recs, be, uint32(i+1))
		binary.Write(&recs, be, uint32(c.Len()/2))
		recs.Write(c.Bytes())
	}
	head := make([]byte, shpHeaderLen)
	be.PutUint32(head, shpFileCode)
	be.PutUint32(head[24:], uint32((shpHeaderLen+recs.Len())/2))
	le.PutUint32(head[28:], 1000)
	le.PutUint32(head[32:], shpPolygon)
	return append(head, recs.Bytes()...)
}

// tinyDBF is a .dbf of two records with a field of each common type.
func tinyDBF() []byte {
	fields := []struct {
		name      string
		typ       byte
		len, decs int
	}{{"NAME", 'C', 12, 0}, {"N", 'N', 5, 0}, {"X", 'N', 8, 3}, {"OK", 'L', 1, 0}, {"D", 'D', 8, 0}}
	recLen := 1
	for _, f := range fields {
		recLen += f.len
	}
	var b bytes.Buffer
	head := make([]byte, 32)
	head[0] = 3
	binary.LittleEndian.PutUint32(head[4:], 2)
	binary.LittleEndian.PutUint16(head[8:], uint16(32+32*len(fields)+1))
	binary.LittleEndian.PutUint16(head[10:], uint16(recLen))
	b.Write(head)
	for _, f := range fields {
		d := make([]byte, 32)
		copy(d, f.name)
		d[11], d[16], d[17] = f.typ, byte(f.len), byte(f.decs)
		b.Write(d)
	}
	b.WriteByte(0x0d)
	b.WriteString(" 維園      " + "   12" + "   1.500" + "T" + "20210630")
	b.WriteString("*deleted     " + "    1" + "   2.000" + "F" + "        ")
	b.WriteByte(0x1a)
	return b.Bytes()
}
