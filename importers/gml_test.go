package importers

import (
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

// Files that ogr2ogr writes in each GML version, CRS and srsName form read
// back as the GeoJSON originals, with their .xsd and without it. The axis
// order is the test's point: GDAL writes EPSG:4326 and EPSG:2326 north
// first under URNs and URLs, east first under "EPSG:...".
func TestGMLFromOGR(t *testing.T) {
	dir := t.TempDir()
	variants := []struct {
		name string
		crs  crs.CRS
		args []string
	}{
		{"GML3.2 URN EPSG:4326", crs.WGS84, []string{"-dsco", "FORMAT=GML3.2"}},
		{"GML3.2 URN EPSG:2326", crs.HK1980Grid, []string{"-dsco", "FORMAT=GML3.2", "-t_srs", "EPSG:2326"}},
		{"GML3.2 URL EPSG:2326", crs.HK1980Grid, []string{"-dsco", "FORMAT=GML3.2", "-dsco", "SRSNAME_FORMAT=OGC_URL", "-t_srs", "EPSG:2326"}},
		{"GML3.2 short EPSG:2326", crs.HK1980Grid, []string{"-dsco", "FORMAT=GML3.2", "-dsco", "SRSNAME_FORMAT=SHORT", "-t_srs", "EPSG:2326"}},
		{"GML3.2 short EPSG:4326", crs.WGS84, []string{"-dsco", "FORMAT=GML3.2", "-dsco", "SRSNAME_FORMAT=SHORT"}},
		{"GML3.1 URN EPSG:4326", crs.WGS84, []string{"-dsco", "FORMAT=GML3"}},
		{"GML3.1 URN EPSG:2326", crs.HK1980Grid, []string{"-dsco", "FORMAT=GML3", "-t_srs", "EPSG:2326"}},
	}
	for i, v := range variants {
		for _, name := range sampleLayers {
			t.Run(v.name+"/"+name, func(t *testing.T) {
				p := filepath.Join(dir, name+strings.Repeat("_", i)+".gml")
				ogr2ogr(t, append([]string{"-f", "GML", p, samplePath(name)}, v.args...)...)
				want := original(t, name)
				src, got := openOne(t, p, Options{})
				if src.Format != FormatGML || src.CRS != v.crs {
					t.Errorf("format %s, CRS %v; want gml, %v", src.Format, src.CRS, v.crs)
				}
				compareFeatures(t, got, want, match{tol: coordTolerance})

				xsd := strings.TrimSuffix(p, ".gml") + ".xsd"
				if err := os.Remove(xsd); err != nil {
					t.Fatalf("ogr2ogr wrote no .xsd: %v", err)
				}
				_, got = openOne(t, p, Options{})
				compareFeatures(t, got, want, match{tol: coordTolerance})
			})
		}
	}
	// GDAL writes no srsName for OGC:CRS84, so the file needs --crs.
	t.Run("no srsName", func(t *testing.T) {
		p := filepath.Join(dir, "crs84.gml")
		ogr2ogr(t, "-f", "GML", p, samplePath("roads"), "-dsco", "FORMAT=GML3.2", "-a_srs", "OGC:CRS84")
		if _, _, err := Open(p, Options{}); err == nil || !strings.Contains(err.Error(), "cannot determine the CRS of "+p+"; pass --crs") {
			t.Fatalf("Open without --crs: %v", err)
		}
		_, got := openOne(t, p, Options{CRS: "OGC:CRS84"})
		compareFeatures(t, got, original(t, "roads"), match{tol: coordTolerance})
	})
}

// gmlFromString is a GML reader over a string, its CRS settled as readGML
// settles it.
func gmlFromString(t testing.TB, doc string, opts Options) (*gmlFile, error) {
	g := &gmlFile{path: "in.gml", opts: opts, open: func() (io.ReadCloser, error) {
		return io.NopCloser(strings.NewReader(doc)), nil
	}}
	declared, err := g.firstCRS()
	if err != nil && opts.CRS == "" {
		return nil, err
	}
	g.crs, err = sourceCRS("in.gml", declared, opts)
	return g, err
}

const wfsHead = `<?xml version="1.0" encoding="UTF-8"?>
<wfs:FeatureCollection xmlns:wfs="http://www.opengis.net/wfs/2.0" xmlns:gml="http://www.opengis.net/gml/3.2"
	xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:hk="http://csdi.example/hk" numberMatched="2" numberReturned="2">`

func TestGML(t *testing.T) {
	ring := `<gml:LinearRing><gml:posList>22 114 22 114.1 22.1 114.1 22 114</gml:posList></gml:LinearRing>`
	tests := []struct {
		name  string
		doc   string
		crs   crs.CRS
		ids   []uint64
		geoms []orb.Geometry
		props []map[string]any
	}{
		{
			name: "WFS 2.0, CRS84 URN, numeric gml:ids kept",
			doc: wfsHead + `<wfs:member><hk:park gml:id="park.12"><gml:boundedBy><gml:Envelope srsName="urn:ogc:def:crs:OGC:1.3:CRS84"/></gml:boundedBy>
				<hk:名稱>維多利亞公園</hk:名稱><hk:area>19.0</hk:area><hk:opened>1957-10-01</hk:opened><hk:note xsi:nil="true"/><hk:code>007</hk:code>
				<hk:geom><gml:Point gml:id="p1" srsName="urn:ogc:def:crs:OGC:1.3:CRS84"><gml:pos>114.188 22.282</gml:pos></gml:Point></hk:geom></hk:park></wfs:member>
				<wfs:member><hk:park gml:id="park.30"><hk:名稱></hk:名稱><hk:area>2</hk:area><hk:code>12</hk:code>
				<hk:geom><gml:Point srsName="http://www.opengis.net/def/crs/OGC/1.3/CRS84" srsDimension="3"><gml:pos>114.1 22.3 5</gml:pos></gml:Point></hk:geom></hk:park></wfs:member>
				</wfs:FeatureCollection>`,
			crs:   crs.CRS84,
			ids:   []uint64{12, 30},
			geoms: []orb.Geometry{orb.Point{114.188, 22.282}, orb.Point{114.1, 22.3}},
			props: []map[string]any{
				{"名稱": "維多利亞公園", "area": 19.0, "opened": time.Date(1957, 10, 1, 0, 0, 0, 0, time.UTC), "note": nil, "code": "007"},
				{"名稱": "", "area": 2.0, "code": "12"},
			},
		},
		{
			name: "EPSG:4326 URN is latitude first; surfaces, curves and nested collections",
			doc: wfsHead + `<wfs:member><wfs:FeatureCollection><wfs:member><hk:a gml:id="a.1">
				<hk:geom><gml:MultiSurface srsName="urn:ogc:def:crs:EPSG::4326"><gml:surfaceMember><gml:Surface><gml:patches><gml:PolygonPatch><gml:exterior>` + ring + `</gml:exterior></gml:PolygonPatch></gml:patches></gml:Surface></gml:surfaceMember>
				<gml:surfaceMembers><gml:Polygon><gml:exterior>` + ring + `</gml:exterior><gml:interior><gml:Ring><gml:curveMember><gml:Curve><gml:segments>
				<gml:LineStringSegment><gml:posList>22.01 114.05 22.01 114.06</gml:posList></gml:LineStringSegment><gml:LineStringSegment><gml:posList srsDimension="3">22.01 114.06 0 22.02 114.06 0 22.01 114.05 0</gml:posList></gml:LineStringSegment>
				</gml:segments></gml:Curve></gml:curveMember></gml:Ring></gml:interior></gml:Polygon></gml:surfaceMembers></gml:MultiSurface></hk:geom></hk:a></wfs:member></wfs:FeatureCollection></wfs:member>
				<wfs:member><hk:a gml:id="a.2"><hk:geom><gml:MultiCurve srsName="urn:ogc:def:crs:EPSG::4326"><gml:curveMember><gml:LineString><gml:pos>22 114</gml:pos><gml:pos>22.1 114.1</gml:pos></gml:LineString></gml:curveMember></gml:MultiCurve></hk:geom></hk:a></wfs:member>
				<wfs:member><hk:a gml:id="a.3"><hk:geom><gml:MultiPoint srsName="urn:ogc:def:crs:EPSG::4326"><gml:pointMembers><gml:Point><gml:pos>22 114</gml:pos></gml:Point><gml:Point><gml:pos>22.1 114.1</gml:pos></gml:Point></gml:pointMembers></gml:MultiPoint></hk:geom></hk:a></wfs:member>
				</wfs:FeatureCollection>`,
			crs: crs.WGS84,
			ids: []uint64{1, 2, 3},
			geoms: []orb.Geometry{
				orb.MultiPolygon{
					{{{114, 22}, {114.1, 22}, {114.1, 22.1}, {114, 22}}},
					{{{114, 22}, {114.1, 22}, {114.1, 22.1}, {114, 22}}, {{114.05, 22.01}, {114.06, 22.01}, {114.06, 22.02}, {114.05, 22.01}}},
				},
				orb.MultiLineString{{{114, 22}, {114.1, 22.1}}},
				orb.MultiPoint{{114, 22}, {114.1, 22.1}},
			},
			props: []map[string]any{{}, {}, {}},
		},
		{
			name: "GML 2: coordinates, fid, gml/srs/epsg.xml is east first, ids not rising",
			doc: `<wfs:FeatureCollection xmlns:wfs="http://www.opengis.net/wfs" xmlns:gml="http://www.opengis.net/gml" xmlns:hk="http://csdi.example/hk">
				<gml:featureMember><hk:b fid="b.2"><hk:n>1</hk:n><hk:geom><gml:Polygon srsName="http://www.opengis.net/gml/srs/epsg.xml#4326"><gml:outerBoundaryIs><gml:LinearRing>
				<gml:coordinates>114,22 114.1,22 114.1,22.1 114,22</gml:coordinates></gml:LinearRing></gml:outerBoundaryIs></gml:Polygon></hk:geom></hk:b></gml:featureMember>
				<gml:featureMember><hk:b fid="b.1"><hk:n>2.5</hk:n><hk:geom><gml:Point srsName="EPSG:4326"><gml:coordinates cs=";" decimal=",">114,2;22,5</gml:coordinates></gml:Point></hk:geom></hk:b></gml:featureMember>
				</wfs:FeatureCollection>`,
			crs:   crs.WGS84,
			ids:   []uint64{1, 2},
			geoms: []orb.Geometry{orb.Polygon{{{114, 22}, {114.1, 22}, {114.1, 22.1}, {114, 22}}}, orb.Point{114.2, 22.5}},
			props: []map[string]any{{"n": 1.0}, {"n": 2.5}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g, err := gmlFromString(t, tt.doc, Options{})
			if err != nil {
				t.Fatal(err)
			}
			if g.crs != tt.crs {
				t.Errorf("CRS %v, want %v", g.crs, tt.crs)
			}
			got, errs := featureErrors(Source{Features: g.features})
			if len(errs) > 0 {
				t.Fatal(errs)
			}
			checkFeatures(t, got, tt.ids, tt.geoms, tt.props)
		})
	}
}

// A WFS 2.0 response in EPSG:2326, northing first under its URN, lands
// where GDAL puts it.
func TestGMLAgreesWithGDAL(t *testing.T) {
	dir := t.TempDir()
	doc := wfsHead + `<wfs:member><hk:s gml:id="s.1"><hk:geom><gml:LineString srsName="urn:ogc:def:crs:EPSG::2326">
		<gml:posList>816000 833000 817500.5 835000.25 819069.8 836694.05</gml:posList></gml:LineString></hk:geom></hk:s></wfs:member></wfs:FeatureCollection>`
	p := writeFile(t, filepath.Join(dir, "wfs.xml"), doc)
	out := filepath.Join(dir, "wfs.geojson")
	ogr2ogr(t, "-f", "GeoJSON", "-t_srs", "OGC:CRS84", "-lco", "COORDINATE_PRECISION=12", out, p)
	_, want := openOne(t, out, Options{})
	for _, f := range want {
		delete(f.Properties, "gml_id") // GDAL keeps the gml:id as an attribute
	}
	_, got := openOne(t, p, Options{})
	compareFeatures(t, got, want, match{tol: coordTolerance})
}

func TestGMLErrors(t *testing.T) {
	point := func(id, pos string) string {
		return `<wfs:member><hk:p gml:id="` + id + `"><hk:geom><gml:Point srsName="urn:ogc:def:crs:OGC:1.3:CRS84"><gml:pos>` + pos + `</gml:pos></gml:Point></hk:geom></hk:p></wfs:member>`
	}
	tests := []struct {
		name, doc, openErr, want string
		row, read                int
	}{
		{name: "unsupported srsName", doc: wfsHead + strings.Replace(point("p.1", "1 2"), "OGC:1.3:CRS84", "EPSG::4230", 1) + `</wfs:FeatureCollection>`, openErr: `in.gml: srsName: crs: "urn:ogc:def:crs:EPSG::4230" is not a supported CRS`},
		{name: "no srsName", doc: wfsHead + `<wfs:member><hk:p><hk:geom><gml:Point><gml:pos>114 22</gml:pos></gml:Point></hk:geom></hk:p></wfs:member></wfs:FeatureCollection>`, openErr: "cannot determine the CRS of in.gml; pass --crs"},
		{name: "truncated", doc: wfsHead + point("p.1", "114 22") + point("p.2", "114 22")[:60], want: "in.gml: feature 2: the file is truncated", read: 1},
		{name: "invalid UTF-8", doc: wfsHead + point("p.1", "114 22") + `<wfs:member><hk:p><hk:n>` + "\xff" + `</hk:n></hk:p></wfs:member></wfs:FeatureCollection>`, want: "invalid UTF-8", read: 1},
		{name: "not a number", doc: wfsHead + point("p.1", "114 abc") + point("p.2", "114 22") + `</wfs:FeatureCollection>`, want: `in.gml: row 1: <geom>: coordinate "abc" is not a number`, row: 1, read: 1},
		{name: "huge", doc: wfsHead + point("p.1", "1e999 22") + `</wfs:FeatureCollection>`, want: "row 1: <geom>: coordinate", row: 1},
		{name: "grid metres as degrees", doc: wfsHead + point("p.1", "836694.05 819069.80") + `</wfs:FeatureCollection>`, want: "EPSG:2326", row: 1},
		{name: "one coordinate", doc: wfsHead + point("p.1", "114") + `</wfs:FeatureCollection>`, want: "does not hold one position", row: 1},
		{name: "odd posList", doc: wfsHead + `<wfs:member><hk:p><hk:geom><gml:LineString srsName="EPSG:4326"><gml:posList>114 22 114</gml:posList></gml:LineString></hk:geom></hk:p></wfs:member></wfs:FeatureCollection>`, want: "3 numbers do not make positions of 2", row: 1},
		{name: "arc", doc: wfsHead + `<wfs:member><hk:p><hk:geom><gml:Curve srsName="EPSG:4326"><gml:segments><gml:Arc><gml:posList>114 22 114.1 22.1 114.2 22</gml:posList></gml:Arc></gml:segments></gml:Curve></hk:geom></hk:p></wfs:member></wfs:FeatureCollection>`, want: "<Arc> in a <Curve> is not supported", row: 1},
		{name: "no geometry", doc: wfsHead + `<wfs:member><hk:p><hk:n>1</hk:n></hk:p></wfs:member>` + point("p.1", "114 22") + `</wfs:FeatureCollection>`, want: "row 1: no geometry", row: 1, read: 1},
		{name: "deep", doc: wfsHead + point("p.1", "114 22") + `<wfs:member><hk:p>` + strings.Repeat("<a>", 80) + strings.Repeat("</a>", 80) + `</hk:p></wfs:member></wfs:FeatureCollection>`, want: "nested more than 64", read: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g, err := gmlFromString(t, tt.doc, Options{})
			if tt.openErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.openErr) {
					t.Fatalf("open error = %v, want %q", err, tt.openErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got, errs := featureErrors(Source{Features: g.features})
			checkFirstError(t, "in.gml", got, errs, tt.want, tt.row, tt.read)
		})
	}
}

func TestReadXSD(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "lampposts.gml")
	ogr2ogr(t, "-f", "GML", p, samplePath("smart_lampposts"), "-dsco", "FORMAT=GML3.2")
	types, err := readXSD(strings.TrimSuffix(p, ".gml") + ".xsd")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]xsdType{
		"geometryProperty": {geometry: true},
		"LAMPPOST_ID":      {field: geo.String},
		"INSTALLED":        {field: geo.Date},
		"IN_SERVICE":       {field: geo.Boolean},
	}
	for k, w := range want {
		if types[k] != w {
			t.Errorf("%s: %+v, want %+v", k, types[k], w)
		}
	}
	// The schema, not the values, decides: "007" in an integer column
	// stays text rather than losing its zeros, and "12" in a string
	// column stays a string.
	if v, _ := xmlValue("007", geo.Integer); v != "007" {
		t.Errorf("xmlValue(007, integer) = %#v", v)
	}
	if v, _ := xmlValue("12", geo.String); v != "12" {
		t.Errorf("xmlValue(12, string) = %#v", v)
	}
}

func FuzzGML(f *testing.F) {
	f.Add([]byte(wfsHead + `<wfs:member><hk:a gml:id="a.1"><hk:n>1</hk:n><hk:geom><gml:MultiSurface srsName="urn:ogc:def:crs:EPSG::2326"><gml:surfaceMember><gml:Polygon><gml:exterior><gml:LinearRing>
		<gml:posList>816000 833000 816000 833100 816100 833100 816000 833000</gml:posList></gml:LinearRing></gml:exterior></gml:Polygon></gml:surfaceMember></gml:MultiSurface></hk:geom></hk:a></wfs:member></wfs:FeatureCollection>`))
	f.Add([]byte(`<FeatureCollection xmlns="http://www.opengis.net/gml"><featureMember><x fid="1"><g><Point srsName="EPSG:4326"><coordinates>114,22</coordinates></Point></g></x></featureMember></FeatureCollection>`))
	f.Fuzz(func(t *testing.T, doc []byte) {
		g, err := gmlFromString(t, string(doc), Options{})
		if err != nil {
			if !strings.Contains(err.Error(), "in.gml") {
				t.Fatalf("error does not name the file: %v", err)
			}
			return
		}
		for feat, err := range g.features {
			if err != nil {
				if !strings.HasPrefix(err.Error(), "in.gml") {
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
