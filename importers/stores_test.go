package importers

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/paulmach/orb"

	"github.com/csdi-hk/csdi/catalog"
	"github.com/csdi-hk/csdi/catalog/postgis"
	"github.com/csdi-hk/csdi/geo"
	"github.com/csdi-hk/csdi/geo/crs"
	"github.com/csdi-hk/csdi/internal/testenv"
)

// formatVariant is one way ogr2ogr writes a sample layer.
type formatVariant struct {
	name string
	// write has ogr2ogr write the sample layer name into dir and returns
	// the file to import.
	write  func(t *testing.T, dir, name string) string
	points bool // coordinate columns hold points only
	format string
	crs    crs.CRS
	m      match
	// reorder: the file holds the features in another order than the
	// GeoJSON (a FlatGeobuf's spatial index), and numbers them in it.
	reorder bool
}

func pointLayer(name string) bool { return name == "public_toilets" || name == "smart_lampposts" }

// formatVariants are the files of the Done-when list: every format, in
// WGS 84 and, where the format can say so, in the HK1980 Grid.
func formatVariants() []formatVariant {
	grid := []string{"-t_srs", "EPSG:2326"}
	shp := func(zipped bool, args ...string) func(t *testing.T, dir, name string) string {
		return func(t *testing.T, dir, name string) string {
			p := writeShapefile(t, dir, name, name, append(args, "-lco", "ENCODING=UTF-8")...)
			if !zipped {
				return p
			}
			z := filepath.Join(dir, name+".zip")
			zipShapefile(t, p, z)
			return z
		}
	}
	simple := func(driver, ext string, args ...string) func(t *testing.T, dir, name string) string {
		return func(t *testing.T, dir, name string) string {
			p := filepath.Join(dir, name+ext)
			ogr2ogr(t, append([]string{"-f", driver, p, samplePath(name)}, args...)...)
			return p
		}
	}
	// csvXY writes the points as coordinate columns named x and y, as
	// people name them (ogr2ogr calls them X and Y).
	csvXY := func(x, y string, args ...string) func(t *testing.T, dir, name string) string {
		return func(t *testing.T, dir, name string) string {
			p := simple("CSV", ".csv", append([]string{"-lco", "GEOMETRY=AS_XY", "-lco", "CREATE_CSVT=YES"}, args...)...)(t, dir, name)
			b, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			head, rest, _ := strings.Cut(string(b), "\n")
			if !strings.HasPrefix(head, "X,Y,") {
				t.Fatalf("ogr2ogr's CSV header %q does not start with X,Y", head)
			}
			writeFile(t, p, x+","+y+","+strings.TrimPrefix(head, "X,Y,")+"\n"+rest)
			return p
		}
	}
	wfs := func(args ...string) func(t *testing.T, dir, name string) string {
		return func(t *testing.T, dir, name string) string {
			p := simple("GML", ".gml", append([]string{"-dsco", "FORMAT=GML3.2"}, args...)...)(t, dir, name)
			return wfsResponse(t, p, filepath.Join(dir, name+".xml"))
		}
	}
	return []formatVariant{
		{name: "shapefile", write: shp(false), format: FormatShapefile, crs: crs.WGS84, m: shapefileMatch},
		{name: "shapefile zip", write: shp(true), format: FormatShapefile, crs: crs.WGS84, m: shapefileMatch},
		{name: "shapefile EPSG:2326", write: shp(false, grid...), format: FormatShapefile, crs: crs.HK1980Grid, m: shapefileMatch},
		{name: "shapefile zip EPSG:2326", write: shp(true, grid...), format: FormatShapefile, crs: crs.HK1980Grid, m: shapefileMatch},
		{name: "geopackage", write: simple("GPKG", ".gpkg"), format: FormatGeoPackage, crs: crs.WGS84},
		{name: "geopackage EPSG:2326", write: simple("GPKG", ".gpkg", grid...), format: FormatGeoPackage, crs: crs.HK1980Grid},
		{name: "csv lon/lat", write: csvXY("lon", "lat"), points: true, format: FormatCSV, crs: crs.CRS84},
		{name: "csv easting/northing EPSG:2326", write: csvXY("Easting", "Northing", grid...), points: true, format: FormatCSV, crs: crs.HK1980Grid},
		{name: "csv wkt", write: simple("CSV", ".csv", "-lco", "GEOMETRY=AS_WKT", "-lco", "CREATE_CSVT=YES"), format: FormatCSV, crs: crs.CRS84},
		{name: "csv wkt EPSG:2326", write: simple("CSV", ".csv", append([]string{"-lco", "GEOMETRY=AS_WKT", "-lco", "CREATE_CSVT=YES"}, grid...)...), format: FormatCSV, crs: crs.HK1980Grid},
		{name: "kml", write: simple("KML", ".kml"), format: FormatKML, crs: crs.CRS84, m: kmlMatch},
		{name: "kmz", write: simple("LIBKML", ".kmz"), format: FormatKML, crs: crs.CRS84, m: kmlMatch},
		{name: "gml 3.2 wfs", write: wfs(), format: FormatGML, crs: crs.WGS84},
		{name: "gml 3.2 wfs EPSG:2326", write: wfs(grid...), format: FormatGML, crs: crs.HK1980Grid},
		{name: "flatgeobuf", write: simple("FlatGeobuf", ".fgb"), format: FormatFlatGeobuf, crs: crs.WGS84, reorder: true},
		{name: "flatgeobuf EPSG:2326", write: simple("FlatGeobuf", ".fgb", grid...), format: FormatFlatGeobuf, crs: crs.HK1980Grid, reorder: true},
	}
}

// wfsResponse rewrites the GML 3.2 file that ogr2ogr wrote at src as the
// WFS 2.0 GetFeature response a server returns for the same features
// (wfs:FeatureCollection of wfs:member, no .xsd beside it) at dst.
func wfsResponse(t *testing.T, src, dst string) string {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	n := strings.Count(doc, "<ogr:featureMember>")
	root := regexp.MustCompile(`(?s)<ogr:FeatureCollection.*?>`)
	if !root.MatchString(doc) || n == 0 {
		t.Fatalf("%s is not the GML ogr2ogr writes:\n%.500s", src, doc)
	}
	doc = root.ReplaceAllLiteralString(doc, fmt.Sprintf(`<wfs:FeatureCollection xmlns:wfs="http://www.opengis.net/wfs/2.0"
	xmlns:gml="http://www.opengis.net/gml/3.2" xmlns:ogr="http://ogr.maptools.org/"
	timeStamp="2026-01-01T00:00:00Z" numberMatched="%d" numberReturned="%d">`, n, n))
	// The collection's own envelope is wfs:boundedBy in WFS 2.0.
	doc = regexp.MustCompile(`(?s)^(.*?>)\s*<gml:boundedBy>(.*?)</gml:boundedBy>`).ReplaceAllString(doc, "$1<wfs:boundedBy>$2</wfs:boundedBy>")
	doc = strings.NewReplacer("<ogr:featureMember>", "<wfs:member>", "</ogr:featureMember>", "</wfs:member>",
		"</ogr:FeatureCollection>", "</wfs:FeatureCollection>").Replace(doc)
	return writeFile(t, dst, doc)
}

// storeUnderTest opens an empty store.
type storeUnderTest struct {
	name string
	open func(t *testing.T) catalog.Store
}

func storesUnderTest() []storeUnderTest {
	return []storeUnderTest{
		{"gpkg", func(t *testing.T) catalog.Store { return openStore(t) }},
		{"postgis", func(t *testing.T) catalog.Store {
			st, err := postgis.Open(context.Background(), testenv.PostGIS(t))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { st.Close() })
			return st
		}},
	}
}

// importInto imports path as layer id through the pipeline into st, as
// `csdi import` does, and reads the stored layer back in id order.
func importInto(t *testing.T, st catalog.Store, id, path string) (catalog.LayerInfo, []geo.Feature) {
	t.Helper()
	ctx := context.Background()
	reports, err := Import(ctx, st.ReplaceLayer, catalog.LayerInfo{ID: id, Title: id}, path, ImportOptions{})
	if err != nil {
		t.Fatalf("import %s: %v", path, err)
	}
	if len(reports) != 1 || reports[0].Rejected != 0 || reports[0].Repaired != 0 {
		t.Fatalf("import %s: reports %+v, want one with nothing rejected or repaired", path, reports)
	}
	var feats []geo.Feature
	info, err := st.ReadLayer(ctx, id, func(f geo.Feature) error {
		feats = append(feats, f)
		return nil
	})
	if err != nil {
		t.Fatalf("read back layer %s: %v", id, err)
	}
	slices.SortFunc(feats, func(a, b geo.Feature) int { return cmp.Compare(a.ID, b.ID) })
	return info, feats
}

// maxMetres is how far apart two coordinates of the same feature may be
// after a format's round trip and the CRS transforms: 1 mm.
const maxMetres = 1e-3

// withinMillimetre reports the first point of got farther than maxMetres
// from its twin in want; geomClose has checked that they have the same
// structure.
func withinMillimetre(got, want orb.Geometry) error {
	var pg, pw []orb.Point
	forEachPoint(got, func(p orb.Point) bool { pg = append(pg, p); return true })
	forEachPoint(want, func(p orb.Point) bool { pw = append(pw, p); return true })
	for i := range pw {
		// Metres on a sphere of the WGS 84 semi-major axis: longer than on
		// the ellipsoid at Hong Kong's latitude, so on the safe side.
		const r = 6378137.0
		lat := pw[i][1] * math.Pi / 180
		dx := (pg[i][0] - pw[i][0]) * math.Pi / 180 * r * math.Cos(lat)
		dy := (pg[i][1] - pw[i][1]) * math.Pi / 180 * r
		if d := math.Hypot(dx, dy); !(d <= maxMetres) {
			return fmt.Errorf("point %d is %v, want %v: %.2f mm away", i, pg[i], pw[i], d*1e3)
		}
	}
	return nil
}

// The Done-when test for formats: for each format, the file ogr2ogr wrote
// from a sample layer imports, on the embedded store and on PostGIS, with
// the feature count, attribute values and coordinates (within 1 mm after
// the CRS transform) of the GeoJSON original imported the same way, and
// the layer keeps the file's CRS as its source CRS.
func TestFormatsThroughStores(t *testing.T) {
	testenv.Command(t, "ogr2ogr")
	variants := formatVariants()
	for _, sut := range storesUnderTest() {
		t.Run(sut.name, func(t *testing.T) {
			st := sut.open(t)
			for _, name := range sampleLayers {
				t.Run(name, func(t *testing.T) {
					wantInfo, want := importInto(t, st, name, samplePath(name))
					if wantInfo.SourceCRS != crs.CRS84.Code() || len(want) != len(original(t, name)) {
						t.Fatalf("GeoJSON original: source CRS %q, %d features stored", wantInfo.SourceCRS, len(want))
					}
					for i, v := range variants {
						if v.points && !pointLayer(name) {
							continue
						}
						t.Run(v.name, func(t *testing.T) {
							path := v.write(t, t.TempDir(), name)
							if src, _ := openOne(t, path, Options{}); src.Format != v.format {
								t.Errorf("%s read as %s, want %s", filepath.Base(path), src.Format, v.format)
							}
							id := fmt.Sprintf("%s_%d", name, i)
							info, got := importInto(t, st, id, path)
							if info.SourceCRS != v.crs.Code() {
								t.Errorf("source CRS %q, want %q", info.SourceCRS, v.crs.Code())
							}
							if info.FeatureCount != wantInfo.FeatureCount || info.GeometryType != wantInfo.GeometryType {
								t.Errorf("%d features of %s, want %d of %s", info.FeatureCount, info.GeometryType, wantInfo.FeatureCount, wantInfo.GeometryType)
							}
							m := v.m
							if v.reorder {
								got = inOrderOf(t, got, want)
								m.ids = func(i int) uint64 { return got[i].ID }
							}
							// Structure and attributes here; coordinates in metres below.
							m.tol = math.Inf(1)
							compareFeatures(t, got, want, m)
							for i := range want {
								if err := withinMillimetre(got[i].Geometry, want[i].Geometry); err != nil {
									t.Errorf("feature %d (id %d): %v", i+1, want[i].ID, err)
								}
							}
						})
					}
				})
			}
		})
	}
}
