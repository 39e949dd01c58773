package importers

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/paulmach/orb"

	"github.com/csdi-hk/csdi/geo"
	"github.com/csdi-hk/csdi/geo/crs"
)

// GDAL's KML drivers write booleans as integers: KML has a "bool" type,
// but OGR's Integer(Boolean) goes out as "int".
var kmlMatch = match{tol: coordTolerance, boolAsInt: true}

func TestKMLFromOGR(t *testing.T) {
	dir := t.TempDir()
	for _, driver := range []string{"KML", "LIBKML"} {
		for _, name := range sampleLayers {
			t.Run(driver+"/"+name, func(t *testing.T) {
				p := filepath.Join(dir, driver+"-"+name+".kml")
				ogr2ogr(t, "-f", driver, p, samplePath(name))
				src, got := openOne(t, p, Options{})
				if src.Format != FormatKML || src.CRS != crs.CRS84 {
					t.Errorf("format %s, CRS %v; want kml, CRS84", src.Format, src.CRS)
				}
				compareFeatures(t, got, original(t, name), kmlMatch)
			})
		}
	}
	t.Run("KMZ from LIBKML", func(t *testing.T) {
		p := filepath.Join(dir, "roads.kmz")
		ogr2ogr(t, "-f", "LIBKML", p, samplePath("roads"))
		_, got := openOne(t, p, Options{})
		compareFeatures(t, got, original(t, "roads"), kmlMatch)
	})
	t.Run("KMZ zipped by hand", func(t *testing.T) {
		kml, err := os.ReadFile(filepath.Join(dir, "KML-districts.kml"))
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, "districts.zip") // the extension does not matter
		writeZip(t, p, map[string][]byte{"districts/doc.kml": kml, "districts/other.kml": []byte("<kml/>"), "files/icon.png": {0x89, 'P'}})
		_, got := openOne(t, p, Options{})
		compareFeatures(t, got, original(t, "districts"), kmlMatch)
	})
	t.Run("folders", func(t *testing.T) {
		gpkg := filepath.Join(dir, "two.gpkg")
		ogr2ogr(t, "-f", "GPKG", gpkg, samplePath("roads"), "-nln", "roads")
		ogr2ogr(t, "-f", "GPKG", "-update", gpkg, samplePath("public_toilets"), "-nln", "toilets")
		p := filepath.Join(dir, "two.kml")
		ogr2ogr(t, "-f", "KML", p, gpkg)
		src, got := openOne(t, p, Options{SourceLayer: "toilets"})
		if src.Name != "toilets" {
			t.Errorf("source name %q", src.Name)
		}
		compareFeatures(t, got, original(t, "public_toilets"), kmlMatch)
		_, all := openOne(t, p, Options{})
		if want := len(original(t, "roads")) + len(got); len(all) != want {
			t.Errorf("%d placemarks in both folders, want %d", len(all), want)
		}
		srcs, _, err := Open(p, Options{SourceLayer: "lampposts"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := readUntilError(srcs[0]); err == nil || !strings.Contains(err.Error(), `no Folder or Document named "lampposts" (--source-layer); it has roads, toilets`) {
			t.Errorf("unknown folder: %v", err)
		}
	})
}

// kmlFromString is a KML reader over a string.
func kmlFromString(doc string, opts Options) *kmlFile {
	return &kmlFile{path: "in.kml", opts: opts, crs: crs.CRS84, open: func(string) (io.ReadCloser, error) {
		return io.NopCloser(strings.NewReader(doc)), nil
	}}
}

func collectKML(doc string, opts Options) ([]geo.Feature, []error) {
	return featureErrors(Source{Features: kmlFromString(doc, opts).features})
}

const kmlHead = `<?xml version="1.0" encoding="UTF-8"?><kml xmlns="http://www.opengis.net/kml/2.2" xmlns:gx="http://www.google.com/kml/ext/2.2"><Document>`

func TestKML(t *testing.T) {
	tests := []struct {
		name  string
		body  string
		opts  Options
		ids   []uint64
		geoms []orb.Geometry
		props []map[string]any
	}{
		{
			name: "Data values typed by inference over all placemarks",
			body: `<Placemark><name>維多利亞公園</name><description><![CDATA[<b>park</b>]]></description>
				<ExtendedData><Data name="n"><value>1</value></Data><Data name="x"><value>2</value></Data><Data name="code"><value>007</value></Data><Data name="d"><value>2021-06-30</value></Data></ExtendedData>
				<Point><coordinates>114.188, 22.282 ,0</coordinates></Point></Placemark>
				<Placemark><ExtendedData><Data name="n"><value>2</value></Data><Data name="x"><value>2.5</value></Data><Data name="code"><value>12</value></Data><Data name="d"><value></value></Data></ExtendedData>
				<Point><coordinates>
					114.1,22.3
				</coordinates></Point></Placemark>`,
			ids:   []uint64{1, 2},
			geoms: []orb.Geometry{orb.Point{114.188, 22.282}, orb.Point{114.1, 22.3}},
			props: []map[string]any{
				{"name": "維多利亞公園", "description": "<b>park</b>", "n": int64(1), "x": 2.0, "code": "007", "d": time.Date(2021, 6, 30, 0, 0, 0, 0, time.UTC)},
				{"n": int64(2), "x": 2.5, "code": "12", "d": nil},
			},
		},
		{
			name: "Schema types, string dates, numeric ids kept",
			body: `<Schema name="s" id="s1"><SimpleField name="a" type="string"/><SimpleField name="b" type="double"/><SimpleField name="ok" type="bool"/><SimpleField name="on" type="string"/></Schema>
				<Folder><name>x</name><Placemark id="p.7"><ExtendedData><SchemaData schemaUrl="#s1"><SimpleData name="a">12</SimpleData><SimpleData name="b">3</SimpleData><SimpleData name="ok">1</SimpleData><SimpleData name="on">2021/06/30</SimpleData></SchemaData></ExtendedData>
				<LineString><coordinates>114,22 114.1,22.1</coordinates></LineString></Placemark>
				<Placemark id="p.9"><ExtendedData><SchemaData schemaUrl="#s1"><SimpleData name="a"></SimpleData><SimpleData name="ok">false</SimpleData><SimpleData name="on">2021-07-01</SimpleData></SchemaData></ExtendedData>
				<LinearRing><coordinates>114,22 114.1,22 114.1,22.1 114,22</coordinates></LinearRing></Placemark></Folder>`,
			ids:   []uint64{7, 9},
			geoms: []orb.Geometry{orb.LineString{{114, 22}, {114.1, 22.1}}, orb.LineString{{114, 22}, {114.1, 22}, {114.1, 22.1}, {114, 22}}},
			props: []map[string]any{
				{"a": "12", "b": 3.0, "ok": true, "on": time.Date(2021, 6, 30, 0, 0, 0, 0, time.UTC)},
				{"a": "", "ok": false, "on": time.Date(2021, 7, 1, 0, 0, 0, 0, time.UTC)},
			},
		},
		{
			name: "polygons, multi-geometries, ids not rising",
			body: `<Placemark id="3"><Polygon><outerBoundaryIs><LinearRing><coordinates>114,22 114.1,22 114.1,22.1 114,22</coordinates></LinearRing></outerBoundaryIs>
					<innerBoundaryIs><LinearRing><coordinates>114.05,22.01 114.06,22.01 114.06,22.02 114.05,22.01</coordinates></LinearRing></innerBoundaryIs></Polygon></Placemark>
				<Placemark id="2"><MultiGeometry><Point><coordinates>114,22</coordinates></Point><MultiGeometry><Point><coordinates>114.1,22</coordinates></Point></MultiGeometry></MultiGeometry></Placemark>
				<Placemark><MultiGeometry><Point><coordinates>114,22</coordinates></Point><LineString><coordinates>114,22 114.1,22</coordinates></LineString><gx:Track><gx:coord>114 22 0</gx:coord></gx:Track></MultiGeometry></Placemark>`,
			ids: []uint64{1, 2, 3},
			geoms: []orb.Geometry{
				orb.Polygon{{{114, 22}, {114.1, 22}, {114.1, 22.1}, {114, 22}}, {{114.05, 22.01}, {114.06, 22.01}, {114.06, 22.02}, {114.05, 22.01}}},
				orb.MultiPoint{{114, 22}, {114.1, 22}},
				orb.Collection{orb.Point{114, 22}, orb.LineString{{114, 22}, {114.1, 22}}},
			},
			props: []map[string]any{{}, {}, {}},
		},
		{
			name: "source layer picks a nested folder",
			opts: Options{SourceLayer: "Toilets"},
			body: `<name>doc</name><Folder><name>roads</name><Placemark><Point><coordinates>114,22</coordinates></Point></Placemark></Folder>
				<Folder><name>toilets</name><Folder><name>wan chai</name><Placemark><Point><coordinates>114.2,22.2</coordinates></Point></Placemark></Folder>
				<Placemark><name>x</name><Point><coordinates>114.3,22.3</coordinates></Point></Placemark></Folder>`,
			ids:   []uint64{1, 2},
			geoms: []orb.Geometry{orb.Point{114.2, 22.2}, orb.Point{114.3, 22.3}},
			props: []map[string]any{{}, {"name": "x"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, errs := collectKML(kmlHead+tt.body+`</Document></kml>`, tt.opts)
			if len(errs) > 0 {
				t.Fatal(errs)
			}
			checkFeatures(t, got, tt.ids, tt.geoms, tt.props)
		})
	}
}

func TestKMLErrors(t *testing.T) {
	point := `<Placemark><Point><coordinates>114,22</coordinates></Point></Placemark>`
	tests := []struct {
		name, doc, want string
		row             int // of a FeatureError; 0 for an error that ends the stream
		read            int // features read
	}{
		{"truncated", kmlHead + point + point + `<Placemark><Point><coordi`, "in.kml: <Placemark> after placemark 2: the file is truncated", 0, 2},
		{"not closed", kmlHead + point, "in.kml: after placemark 1: the file is truncated: XML syntax error on line 1: unexpected EOF", 0, 1},
		{"invalid UTF-8", kmlHead + point + "<Placemark><name>\xff</name>" + point[11:], "invalid UTF-8", 0, 1},
		{"not a number", kmlHead + `<Placemark><Point><coordinates>114,abc</coordinates></Point></Placemark>` + point + `</Document></kml>`, `row 1: <Point>: coordinate "114,abc" is not a number`, 1, 1},
		{"huge number", kmlHead + point + `<Placemark><Point><coordinates>1e400,22</coordinates></Point></Placemark></Document></kml>`, "row 2: <Point>: coordinate", 2, 1},
		{"grid metres", kmlHead + `<Placemark><Point><coordinates>836694.05,819069.80</coordinates></Point></Placemark></Document></kml>`, "EPSG:2326", 1, 0},
		{"out of range", kmlHead + `<Placemark><Point><coordinates>114,95</coordinates></Point></Placemark></Document></kml>`, "outside longitude", 1, 0},
		{"no geometry", kmlHead + `<Placemark><gx:Track><gx:coord>114 22 0</gx:coord></gx:Track></Placemark></Document></kml>`, "row 1: no geometry", 1, 0},
		{"four values", kmlHead + `<Placemark><Point><coordinates>114,22,0,1</coordinates></Point></Placemark></Document></kml>`, "is not lon,lat or lon,lat,alt", 1, 0},
		{"inner ring first", kmlHead + `<Placemark><Polygon><innerBoundaryIs><LinearRing><coordinates>114,22 114.1,22 114,22.1 114,22</coordinates></LinearRing></innerBoundaryIs></Polygon></Placemark></Document></kml>`, "one outerBoundaryIs, before", 1, 0},
		{"deep", kmlHead + `<Placemark>` + strings.Repeat("<a>", 100) + strings.Repeat("</a>", 100) + `</Placemark></Document></kml>`, "nested more than 64", 0, 0},
		{"unknown encoding", `<?xml version="1.0" encoding="x-nope"?><kml><Placemark/></kml>`, `unsupported XML encoding "x-nope"`, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, errs := collectKML(tt.doc, Options{})
			checkFirstError(t, "in.kml", got, errs, tt.want, tt.row, tt.read)
		})
	}
}

// Latin-1 KML, rare but legal, reads through the declared encoding; a
// byte order mark and HTML entities outside CDATA do no harm.
func TestKMLEncoding(t *testing.T) {
	for doc, want := range map[string]string{
		"<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><kml><Placemark><name>Caf\xe9</name><Point><coordinates>114,22</coordinates></Point></Placemark></kml>": "Café",
		"\ufeff<?xml version=\"1.0\"?><kml><Placemark><name>a&nbsp;b &amp; c</name><Point><coordinates>114,22</coordinates></Point></Placemark></kml>":          "a\u00a0b & c",
	} {
		got, errs := collectKML(doc, Options{})
		if len(errs) > 0 || len(got) != 1 || got[0].Properties["name"] != want {
			t.Errorf("%q: got %v, %v; want name %q", doc, got, errs, want)
		}
	}
}

func TestKMZErrors(t *testing.T) {
	dir := t.TempDir()
	doc := []byte(kmlHead + `<Placemark><Point><coordinates>114,22</coordinates></Point></Placemark></Document></kml>`)
	tests := []struct {
		name  string
		files map[string][]byte
		want  string
	}{
		{"escaping entry", map[string][]byte{"../doc.kml": doc}, `".." element`},
		{"absolute entry", map[string][]byte{"/tmp/doc.kml": doc}, "absolute path"},
		{"no kml", map[string][]byte{"doc.txt": doc}, "no .kml file in the KMZ archive; it holds doc.txt"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := filepath.Join(dir, strings.ReplaceAll(tt.name, " ", "-")+".kmz")
			writeZip(t, p, tt.files)
			_, _, err := readKML(p, Options{})
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), p) {
				t.Fatalf("err = %v, want one naming the file and containing %q", err, tt.want)
			}
		})
	}
	t.Run("bomb", func(t *testing.T) {
		p := filepath.Join(dir, "bomb.kmz")
		big := append(append([]byte(kmlHead), bytes.Repeat([]byte("<!-- -->"), 1<<20)...), doc[len(kmlHead):]...)
		writeZip(t, p, map[string][]byte{"doc.kml": big})
		srcs, _, err := readKML(p, Options{MaxUncompressed: 1 << 20})
		if err == nil {
			_, err = readUntilError(srcs[0])
		}
		if err == nil || !strings.Contains(err.Error(), "zip bomb") {
			t.Fatalf("err = %v, want the zip bomb error", err)
		}
	})
}

func FuzzKML(f *testing.F) {
	f.Add([]byte(kmlHead + `<Schema id="s"><SimpleField name="a" type="int"/></Schema><Folder><name>f</name><Placemark id="a1"><name>x</name><ExtendedData><SchemaData schemaUrl="#s"><SimpleData name="a">1</SimpleData></SchemaData><Data name="b"><value>2021-01-01</value></Data></ExtendedData>
		<MultiGeometry><Polygon><outerBoundaryIs><LinearRing><coordinates>114,22 114.1,22 114,22.1 114,22</coordinates></LinearRing></outerBoundaryIs></Polygon><Point><coordinates>114,22</coordinates></Point></MultiGeometry></Placemark></Folder></Document></kml>`))
	f.Add([]byte(kmlHead + `<Placemark><LineString><coordinates>114,22 114.1,22.1</coordinates></LineString></Placemark>`))
	f.Fuzz(func(t *testing.T, doc []byte) {
		k := kmlFromString(string(doc), Options{SourceLayer: "f"})
		for _, opts := range []Options{{}, {SourceLayer: "f"}} {
			k.opts = opts
			for feat, err := range k.features {
				if err != nil {
					if !strings.HasPrefix(err.Error(), "in.kml") {
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
		}
	})
}
