package importers

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"iter"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"strings"
	"unicode/utf8"

	"github.com/paulmach/orb"

	"github.com/csdi-hk/csdi/geo"
	"github.com/csdi-hk/csdi/geo/crs"
)

// Options are the flags of `csdi import` that steer reading.
type Options struct {
	CRS         string // --crs: overrides/declares the source CRS ("EPSG:2326", ...)
	SourceLayer string // --source-layer: a GeoPackage table / KML folder / shapefile in a zip to read
	Encoding    string // --encoding: text encoding of .dbf and CSV files ("utf-8", "big5", "big5-hkscs")

	// CSV: names of the x/lon, y/lat, or WKT columns when the header names
	// do not say.
	X, Y, Geometry string

	// MaxUncompressed is the total number of bytes a zip archive may
	// uncompress to; 0 means DefaultMaxUncompressed.
	MaxUncompressed int64
}

// DefaultMaxUncompressed is the zip limit when Options.MaxUncompressed is 0.
const DefaultMaxUncompressed = 4 << 30

// Source is one layer read from a file: its format, its CRS, and its
// features, already in WGS84.
type Source struct {
	Name     string                        // the source layer/table name ("" for single-layer formats)
	Format   string                        // "geojson", "shapefile", "geopackage", "csv", "kml", "gml", "flatgeobuf"
	CRS      crs.CRS                       // the CRS the file's coordinates are in (kept in the layer's metadata)
	Features iter.Seq2[geo.Feature, error] // streamed; errors name the file and the row/feature number
}

// The formats Open recognises.
const (
	FormatGeoJSON    = "geojson"
	FormatShapefile  = "shapefile"
	FormatGeoPackage = "geopackage"
	FormatCSV        = "csv"
	FormatKML        = "kml"
	FormatGML        = "gml"
	FormatFlatGeobuf = "flatgeobuf"
)

// Open sniffs the format of the file from its content, so a wrong extension
// does no harm, and returns its layers: usually one; a GeoPackage, or a zip
// of several shapefiles, may hold more unless Options.SourceLayer names one.
// The features are read when the Sources' iterators run, which must happen
// before close is called; close releases the files.
func Open(path string, opts Options) (sources []Source, close func() error, err error) {
	format, err := sniff(path)
	if err != nil {
		return nil, nil, err
	}
	var read func(string, Options) ([]Source, func() error, error)
	switch format {
	case FormatGeoJSON:
		read = readGeoJSON
	case FormatShapefile:
		read = readShapefile
	case FormatCSV:
		read = readCSV
	case FormatGeoPackage:
		read = readGeoPackage
	case FormatKML:
		read = readKML
	case FormatGML:
		read = readGML
	case FormatFlatGeobuf:
		read = readFlatGeobuf
	}
	return read(path, opts)
}

// sniffLen is how much of a file sniff reads: enough for an XML prolog with
// comments and namespace declarations before the root element.
const sniffLen = 8 << 10

// sniff names the format of the file at path from its first bytes.
func sniff(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("open %s: %w", path, err)
	}
	defer f.Close()
	head := make([]byte, sniffLen)
	n, err := io.ReadFull(f, head)
	if err != nil && err != io.ErrUnexpectedEOF && err != io.EOF {
		return "", fmt.Errorf("read %s: %w", path, err)
	}
	head = head[:n]
	if n == 0 {
		return "", fmt.Errorf("%s: the file is empty", path)
	}
	if hasSiblingShp(path) {
		// The user pointed at the .dbf (or .shx, .prj) of a shapefile.
		return FormatShapefile, nil
	}
	format := sniffBytes(head)
	if format == "zip" {
		return sniffZip(path)
	}
	if format == "" {
		return "", fmt.Errorf("%s: unrecognised file format: not GeoJSON, a shapefile (or a zip of one), GeoPackage, CSV, KML/KMZ, GML or FlatGeobuf", path)
	}
	return format, nil
}

// sniffBytes names the format of a file from its first bytes: "zip" for
// any zip archive, "" when nothing fits.
func sniffBytes(head []byte) string {
	switch {
	case bytes.HasPrefix(head, []byte("PK\x03\x04")):
		return "zip"
	case len(head) >= 4 && binary.BigEndian.Uint32(head) == shpFileCode && hasShpHeader(head):
		return FormatShapefile
	case bytes.HasPrefix(head, []byte("fgb\x03fgb")):
		return FormatFlatGeobuf
	case bytes.HasPrefix(head, []byte("SQLite format 3\x00")):
		if len(head) >= 72 {
			switch string(head[68:72]) {
			case "GPKG", "GP10", "GP11":
				return FormatGeoPackage
			}
		}
		return ""
	}
	text := bytes.TrimPrefix(head, []byte("\xef\xbb\xbf"))
	text = bytes.TrimLeft(text, " \t\r\n")
	switch {
	case len(text) == 0:
		return ""
	case text[0] == '{':
		return FormatGeoJSON
	case text[0] == '<':
		return sniffXML(text)
	case isText(head):
		return FormatCSV
	}
	return ""
}

// hasShpHeader checks more of the 100-byte shapefile header than the file
// code, so that a CSV file can never be taken for one: bytes 4-23 are zero
// and the version is 1000.
func hasShpHeader(head []byte) bool {
	if len(head) < 32 {
		return len(head) >= 4 // a truncated shapefile still gets a shapefile error
	}
	for _, b := range head[4:24] {
		if b != 0 {
			return false
		}
	}
	return binary.LittleEndian.Uint32(head[28:]) == 1000
}

// sniffXML tells KML from GML by the root element and its namespaces.
func sniffXML(text []byte) string {
	s := string(text)
	switch {
	case strings.Contains(s, "<kml") || strings.Contains(s, "opengis.net/kml"):
		return FormatKML
	case strings.Contains(s, "opengis.net/gml") || strings.Contains(s, "<wfs:FeatureCollection") || strings.Contains(s, "<gml:"):
		return FormatGML
	}
	return ""
}

// isText reports whether head looks like text: no NUL or other C0 control
// bytes but tabs and line ends. Big5 text passes, as it should for CSV.
func isText(head []byte) bool {
	for _, b := range head {
		if b < 0x20 && b != '\t' && b != '\n' && b != '\r' && b != '\f' {
			return false
		}
	}
	return true
}

// sniffZip names the format of a zip archive by the entries it holds: a
// shapefile or KMZ.
func sniffZip(path string) (string, error) {
	z, err := openZip(path, Options{})
	if err != nil {
		return "", err
	}
	defer z.Close()
	switch {
	case len(z.find(".shp")) > 0:
		return FormatShapefile, nil
	case len(z.find(".kml")) > 0:
		return FormatKML, nil
	}
	return "", fmt.Errorf("%s: a zip archive without a shapefile (.shp) or KML (.kml) in it; it holds %s", path, z.names())
}

func hasSiblingShp(path string) bool {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".dbf", ".shx", ".prj", ".cpg":
	default:
		return false
	}
	_, err := findSibling(path, ".shp")
	return err == nil
}

// findSibling finds the file next to path with the same base name and the
// extension ext in any case (DATA.SHP next to data.dbf), as Windows and
// ArcGIS users name them.
func findSibling(path, ext string) (string, error) {
	dir := filepath.Dir(path)
	base := strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))
	want := strings.ToLower(base + ext)
	exact := filepath.Join(dir, base+ext)
	if _, err := os.Stat(exact); err == nil {
		return exact, nil
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return "", fmt.Errorf("look for %s next to %s: %w", ext, path, err)
	}
	for _, e := range entries {
		if strings.ToLower(e.Name()) == want && !e.IsDir() {
			return filepath.Join(dir, e.Name()), nil
		}
	}
	return "", fmt.Errorf("%s: no %s file next to it: %w", path, ext, os.ErrNotExist)
}

// sourceCRS settles the CRS of a file: --crs when given, which overrides
// the file's own so that a wrong .prj can be corrected, else the file's,
// else an error. fromFile is 0 when the file does not say.
func sourceCRS(file string, fromFile crs.CRS, opts Options) (crs.CRS, error) {
	if opts.CRS != "" {
		c, err := crs.Lookup(opts.CRS)
		if err != nil {
			return 0, fmt.Errorf("--crs: %w", err)
		}
		if fromFile != 0 && fromFile != c && !(isLonLat(fromFile) && isLonLat(c)) {
			slog.Warn("--crs overrides the CRS the file declares", "file", file, "declared", fromFile.Code(), "crs", c.Code())
		}
		return c, nil
	}
	if fromFile == 0 {
		return 0, fmt.Errorf("cannot determine the CRS of %s; pass --crs (e.g. --crs EPSG:2326 for Hong Kong 1980 Grid, --crs EPSG:4326 for longitude/latitude)", file)
	}
	return fromFile, nil
}

func isLonLat(c crs.CRS) bool { return c == crs.CRS84 || c == crs.WGS84 }

// toWGS84 converts g from c to WGS84 in place and checks the result, as
// every reader must: HK1980 Grid coordinates that are plainly longitude and
// latitude, and longitudes and latitudes that are plainly HK1980 Grid
// metres, get errors that name the likely CRS.
func toWGS84(c crs.CRS, g orb.Geometry) (orb.Geometry, error) {
	if g == nil {
		return nil, errors.New("no geometry")
	}
	if c == crs.HK1980Grid {
		var bad error
		forEachPoint(g, func(p orb.Point) bool {
			if math.Abs(p[0]) <= 180 && math.Abs(p[1]) <= 90 {
				bad = fmt.Errorf("coordinate (%g, %g) is not Hong Kong 1980 Grid metres (EPSG:2326): it looks like longitude/latitude (EPSG:4326)", p[0], p[1])
			}
			return bad == nil
		})
		if bad != nil {
			return nil, bad
		}
	}
	if c != 0 && !isLonLat(c) {
		// Non-finite input would come out of the transform as garbage
		// that might pass the range check.
		var bad error
		forEachPoint(g, func(p orb.Point) bool {
			if math.IsNaN(p[0]) || math.IsNaN(p[1]) || math.IsInf(p[0], 0) || math.IsInf(p[1], 0) {
				bad = fmt.Errorf("coordinate (%g, %g) is not a finite number", p[0], p[1])
			}
			return bad == nil
		})
		if bad != nil {
			return nil, bad
		}
		g = crs.ToWGS84(c, g)
	}
	if err := CheckLonLat(g); err != nil {
		return nil, err
	}
	return g, nil
}

// FeatureError is a problem with one feature (its geometry or a value)
// that leaves the rest of the file readable. Readers that can go on yield
// it and continue with the next feature if yield returns true, so an import
// can reject the feature and report it; any other error ends the stream.
type FeatureError struct {
	File string // the file, as given to Open
	Row  int    // the feature's position in the file, from 1 (a CSV's data rows, a shapefile's records)
	Err  error
}

func (e *FeatureError) Error() string { return fmt.Sprintf("%s: row %d: %v", e.File, e.Row, e.Err) }
func (e *FeatureError) Unwrap() error { return e.Err }

// validUTF8 returns an error naming the first invalid byte of s.
func validUTF8(s string) error {
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			return fmt.Errorf("invalid UTF-8 (byte 0x%02x at offset %d of %.40q)", s[i], i, s)
		}
		i += size
	}
	return nil
}
