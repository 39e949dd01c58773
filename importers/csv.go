package importers

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/wkt"
	"golang.org/x/text/transform"

	"github.com/csdi-hk/csdi/geo"
	"github.com/csdi-hk/csdi/geo/crs"
)

// csvSample is how many data rows decide the columns' types. A later value
// that does not fit its column's type is kept as a string, so nothing is
// lost, and memory stays bounded whatever the length of the file.
const csvSample = 1000

// The header names that say which columns hold coordinates, after
// normalizeHeader. Chinese names are matched anywhere in the header, as
// bilingual headers ("經度 Longitude") are common.
var (
	lonNames   = []string{"lon", "lng", "long", "longitude", "經度", "经度"}
	latNames   = []string{"lat", "latitude", "緯度", "纬度"}
	eastNames  = []string{"e", "east", "easting", "eastings", "東距", "东距", "東坐標", "東座標", "东坐标", "東向坐標", "東"}
	northNames = []string{"n", "north", "northing", "northings", "北距", "北坐標", "北座標", "北坐标", "北向坐標", "北"}
	xNames     = []string{"x", "xcoord", "xcoordinate", "coordx", "pointx", "x坐標", "x座標", "x坐标"}
	yNames     = []string{"y", "ycoord", "ycoordinate", "coordy", "pointy", "y坐標", "y座標", "y坐标"}
	wktNames   = []string{"wkt", "geometry", "geom", "thegeom", "shape", "wktgeometry", "geometrywkt"}
)

// csvLayout says where a CSV file's geometry is.
type csvLayout struct {
	header []string
	x, y   int // coordinate columns, or -1
	wkt    int // WKT column, or -1
	types  []geo.FieldType
	fixed  []bool // types from a .csvt file, not inferred
}

// readCSV opens a CSV file for Open. The header row names the columns;
// the geometry comes from coordinate columns or a WKT column (see
// findGeometry), and the CRS from --crs, the column names or the values.
func readCSV(path string, opts Options) ([]Source, func() error, error) {
	var csvt []byte
	if p, err := findSibling(path, ".csvt"); err == nil {
		if csvt, err = os.ReadFile(p); err != nil {
			return nil, nil, fmt.Errorf("read %s: %w", p, err)
		}
	}
	c, err := newCSVFile(path, func() (io.ReadCloser, error) { return os.Open(path) }, csvt, opts)
	if err != nil {
		return nil, nil, err
	}
	return []Source{{Format: FormatCSV, CRS: c.crs, Features: c.features}}, func() error { return nil }, nil
}

// newCSVFile reads the header and the first row of the CSV that src opens
// to find the geometry columns and the CRS. csvt is the content of the
// .csvt file beside it, or nil.
func newCSVFile(path string, src func() (io.ReadCloser, error), csvt []byte, opts Options) (*csvFile, error) {
	c := &csvFile{path: path, src: src, opts: opts}
	if opts.Encoding != "" {
		var err error
		if c.enc, err = lookupEncoding(opts.Encoding); err != nil {
			return nil, fmt.Errorf("--encoding: %w", err)
		}
	}
	f, r, err := c.open()
	if err != nil {
		return nil, err
	}
	defer f.Close()
	header, err := r.Read()
	if err != nil {
		return nil, fmt.Errorf("%s: reading the header row: %w", path, err)
	}
	if c.layout, err = c.findGeometry(header, csvt); err != nil {
		return nil, err
	}
	first, err := r.Read()
	if err != nil && err != io.EOF {
		return nil, fmt.Errorf("%s: row 1: %w", path, err)
	}
	if c.crs, err = c.settleCRS(first); err != nil {
		return nil, err
	}
	return c, nil
}

type csvFile struct {
	src    func() (io.ReadCloser, error)
	path   string
	enc    textEncoding
	opts   Options
	layout csvLayout
	crs    crs.CRS
}

// open opens the file for reading from its header row: the UTF-8 byte
// order mark skipped, the text decoded, the delimiter guessed from the
// header line.
func (c *csvFile) open() (io.ReadCloser, *csv.Reader, error) {
	f, err := c.src()
	if err != nil {
		return nil, nil, fmt.Errorf("open %s: %w", c.path, err)
	}
	br := bufio.NewReaderSize(f, 1<<16)
	if b, _ := br.Peek(3); bytes.Equal(b, []byte("\xef\xbb\xbf")) {
		br.Discard(3)
	}
	head, _ := br.Peek(br.Size())
	line, _, _ := bytes.Cut(head, []byte("\n"))
	var src io.Reader = br
	if c.enc.enc != nil {
		src = transform.NewReader(br, c.enc.enc.NewDecoder())
	}
	r := csv.NewReader(src)
	r.Comma = guessDelimiter(line)
	r.FieldsPerRecord = -1
	return f, r, nil
}

// guessDelimiter picks the delimiter that occurs most in the header line:
// a comma unless semicolons, tabs or bars win.
func guessDelimiter(line []byte) rune {
	best, n := ',', bytes.Count(line, []byte(","))
	for _, d := range []rune{';', '\t', '|'} {
		if k := bytes.Count(line, []byte(string(d))); k > n {
			best, n = d, k
		}
	}
	return best
}

// findGeometry finds the geometry columns: those --geometry or --x/--y
// name; else those a .csvt file beside the CSV types as WKT or CoordX and
// CoordY (as ogr2ogr writes); else by header name a WKT column, then
// longitude/latitude, then easting/northing, then x/y columns.
func (c *csvFile) findGeometry(raw []string, csvt []byte) (csvLayout, error) {
	l := csvLayout{x: -1, y: -1, wkt: -1}
	seen := map[string]bool{}
	for i, h := range raw {
		h, err := c.text(h)
		if err != nil {
			return l, fmt.Errorf("%s: the header row, column %d: %w", c.path, i+1, err)
		}
		h = strings.TrimSpace(h)
		if h == "" {
			h = "field_" + strconv.Itoa(i+1)
		}
		for base, k := h, 2; seen[h]; k++ {
			h = base + "_" + strconv.Itoa(k)
		}
		seen[h] = true
		l.header = append(l.header, h)
	}
	l.types = make([]geo.FieldType, len(l.header))
	l.fixed = make([]bool, len(l.header))
	if csvt != nil {
		if err := c.readCSVT(&l, csvt); err != nil {
			return l, err
		}
	}
	named := func(flag, name string) (int, error) {
		for i, h := range l.header {
			if strings.EqualFold(h, strings.TrimSpace(name)) {
				return i, nil
			}
		}
		return -1, fmt.Errorf("%s: no column %q (%s) in the header %s", c.path, name, flag, strings.Join(l.header, ","))
	}
	var err error
	if c.opts.Geometry != "" || c.opts.X != "" || c.opts.Y != "" {
		l.x, l.y, l.wkt = -1, -1, -1
	}
	switch {
	case c.opts.Geometry != "":
		l.wkt, err = named("--geometry", c.opts.Geometry)
		return l, err
	case c.opts.X != "" || c.opts.Y != "":
		if c.opts.X == "" || c.opts.Y == "" {
			return l, errors.New("--x and --y go together: name both coordinate columns")
		}
		if l.x, err = named("--x", c.opts.X); err != nil {
			return l, err
		}
		l.y, err = named("--y", c.opts.Y)
		return l, err
	case l.wkt >= 0 || (l.x >= 0 && l.y >= 0):
		return l, nil
	}
	norm := make([]string, len(l.header))
	for i, h := range l.header {
		norm[i] = normalizeHeader(h)
	}
	if l.wkt = findColumn(norm, wktNames); l.wkt >= 0 {
		return l, nil
	}
	for _, pair := range [][2][]string{{lonNames, latNames}, {eastNames, northNames}, {xNames, yNames}} {
		x, y := findColumn(norm, pair[0]), findColumn(norm, pair[1])
		if x >= 0 && y >= 0 {
			l.x, l.y = x, y
			return l, nil
		}
	}
	return l, fmt.Errorf("%s: no coordinate columns in the header %s: expected longitude/latitude, easting/northing, x/y or a WKT column; name them with --x and --y, or --geometry",
		c.path, strings.Join(l.header, ","))
}

// readCSVT reads the column types of a .csvt file beside the CSV, GDAL's
// convention: one line such as "Integer,Real(10.2),String,Date,CoordX".
func (c *csvFile) readCSVT(l *csvLayout, b []byte) error {
	line, _, _ := strings.Cut(strings.TrimPrefix(string(b), "\ufeff"), "\n")
	types, err := csv.NewReader(strings.NewReader(line)).Read()
	if err != nil {
		return fmt.Errorf("%s: the .csvt file: %w", c.path, err)
	}
	if len(types) != len(l.header) {
		return fmt.Errorf("%s: the .csvt file has %d types for %d columns", c.path, len(types), len(l.header))
	}
	for i, t := range types {
		t = strings.ToLower(strings.TrimSpace(t))
		base, _, _ := strings.Cut(t, "(")
		var ft geo.FieldType
		switch {
		case t == "wkt":
			l.wkt = i
		case t == "coordx" || t == "point(x)":
			l.x = i
		case t == "coordy" || t == "point(y)":
			l.y = i
		case t == "integer(boolean)":
			ft = geo.Boolean
		case base == "integer" || base == "integer64":
			ft = geo.Integer
		case base == "real":
			ft = geo.Number
		case base == "date":
			ft = geo.Date
		case base == "datetime":
			ft = geo.DateTime
		default:
			ft = geo.String
		}
		l.types[i], l.fixed[i] = ft, ft != ""
	}
	return nil
}

// normalizeHeader lower-cases a header and drops what varies between
// publishers: parenthesised units or CRS names ("Easting (m)",
// "經度(WGS84)"), spaces, underscores, hyphens and dots, and an
// "HK1980"/"HK80"/"grid"/"WGS84" prefix.
func normalizeHeader(h string) string {
	h = strings.ToLower(strings.TrimSpace(h))
	for _, br := range [][2]string{{"(", ")"}, {"（", "）"}, {"[", "]"}} {
		for {
			i := strings.Index(h, br[0])
			j := strings.Index(h, br[1])
			if i < 0 || j < i {
				break
			}
			h = h[:i] + h[j+len(br[1]):]
		}
	}
	h = strings.NewReplacer(" ", "", "_", "", "-", "", ".", "", "\u3000", "").Replace(h)
	for _, p := range []string{"hk1980grid", "hk1980", "hk80", "hkgrid", "grid", "wgs84"} {
		h = strings.TrimPrefix(h, p)
	}
	return h
}

// findColumn returns the first column named one of names: exactly, or for
// the Chinese ones anywhere in the header.
func findColumn(norm, names []string) int {
	for i, h := range norm {
		if slices.Contains(names, h) {
			return i
		}
	}
	for i, h := range norm {
		for _, n := range names {
			if n[0] >= 0x80 && len(n) > 3 && strings.Contains(h, n) {
				return i
			}
		}
	}
	return -1
}

// settleCRS decides the CRS: --crs; else longitude/latitude columns are
// CRS84 and easting/northing columns HK1980 Grid; else (x/y or WKT) the
// first row's coordinates decide between the two.
func (c *csvFile) settleCRS(first []string) (crs.CRS, error) {
	if c.opts.CRS != "" {
		return sourceCRS(c.path, 0, c.opts)
	}
	var p orb.Point
	var havePoint bool
	if first != nil {
		if g, err := c.geometry(first); err == nil {
			forEachPoint(g, func(q orb.Point) bool { p = q; return false })
			havePoint = true
		}
	}
	grid := havePoint && p[0] >= 800000 && p[0] <= 870000 && p[1] >= 800000 && p[1] <= 850000
	lonLat := havePoint && math.Abs(p[0]) <= 180 && math.Abs(p[1]) <= 90
	if c.layout.x >= 0 {
		xh, yh := c.layout.header[c.layout.x], c.layout.header[c.layout.y]
		nx, ny := normalizeHeader(xh), normalizeHeader(yh)
		switch {
		case findColumn([]string{nx}, lonNames) == 0 || findColumn([]string{ny}, latNames) == 0:
			if grid {
				return 0, fmt.Errorf("%s: columns %q and %q hold Hong Kong 1980 Grid metres (%g, %g), not longitude/latitude; pass --crs EPSG:2326", c.path, xh, yh, p[0], p[1])
			}
			return crs.CRS84, nil
		case findColumn([]string{nx}, eastNames) == 0 || findColumn([]string{ny}, northNames) == 0:
			return crs.HK1980Grid, nil
		}
	}
	switch {
	case grid:
		return crs.HK1980Grid, nil
	case lonLat:
		return crs.CRS84, nil
	}
	return sourceCRS(c.path, 0, c.opts)
}

// text checks or decodes one field's text. The decoders of non-UTF-8
// encodings write U+FFFD for bytes outside their tables.
func (c *csvFile) text(s string) (string, error) {
	if c.enc.enc == nil {
		if err := validUTF8(s); err != nil {
			return "", fmt.Errorf("%w; if the file is Big5, pass --encoding big5", err)
		}
		return s, nil
	}
	if strings.ContainsRune(s, '\ufffd') {
		return "", fmt.Errorf("%.40q holds bytes that are not valid %s", s, c.enc.name)
	}
	return s, nil
}

// geometry reads the geometry of one row, in the file's CRS.
func (c *csvFile) geometry(row []string) (orb.Geometry, error) {
	l := c.layout
	if l.wkt >= 0 {
		s := strings.TrimSpace(cell(row, l.wkt))
		if s == "" {
			return nil, fmt.Errorf("column %q is empty: no geometry", l.header[l.wkt])
		}
		g, err := wkt.Unmarshal(s)
		if err != nil {
			return nil, fmt.Errorf("column %q: %.60q is not WKT: %w", l.header[l.wkt], s, err)
		}
		return g, nil
	}
	var p orb.Point
	for i, col := range []int{l.x, l.y} {
		s := strings.TrimSpace(cell(row, col))
		if s == "" {
			return nil, fmt.Errorf("column %q is empty: no coordinates", l.header[col])
		}
		v, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return nil, fmt.Errorf("column %q: %.40q is not a number", l.header[col], s)
		}
		p[i] = v
	}
	return p, nil
}

func cell(row []string, i int) string {
	if i < len(row) {
		return row[i]
	}
	return ""
}

// features streams the rows: the first csvSample are held to infer the
// columns' types, then every row is converted and yielded.
func (c *csvFile) features(yield func(geo.Feature, error) bool) {
	f, r, err := c.open()
	if err != nil {
		yield(geo.Feature{}, err)
		return
	}
	defer f.Close()
	if _, err := r.Read(); err != nil {
		yield(geo.Feature{}, fmt.Errorf("%s: reading the header row: %w", c.path, err))
		return
	}
	types := slices.Clone(c.layout.types)
	var sample [][]string
	var lines []int
	var readErr error
	for len(sample) < csvSample {
		row, err := r.Read()
		if err != nil {
			readErr = err
			break
		}
		line, _ := r.FieldPos(0)
		sample = append(sample, row)
		lines = append(lines, line)
		for i, v := range row {
			if i < len(types) && !c.layout.fixed[i] {
				types[i] = geo.Widen(types[i], valueType(v))
			}
		}
	}
	n := 0
	emit := func(row []string, line int) bool {
		n++
		feat, err := c.feature(row, types, uint64(n))
		if err != nil {
			return yield(geo.Feature{}, &FeatureError{File: c.path, Row: n, Err: fmt.Errorf("line %d: %w", line, err)})
		}
		return yield(feat, nil)
	}
	for i, row := range sample {
		if !emit(row, lines[i]) {
			return
		}
	}
	for readErr == nil {
		row, err := r.Read()
		if err != nil {
			readErr = err
			break
		}
		line, _ := r.FieldPos(0)
		if !emit(row, line) {
			return
		}
	}
	if readErr != io.EOF {
		yield(geo.Feature{}, fmt.Errorf("%s: after row %d: %w", c.path, n, readErr))
	}
}

// feature converts one row.
func (c *csvFile) feature(row []string, types []geo.FieldType, id uint64) (geo.Feature, error) {
	l := c.layout
	if len(row) > len(l.header) {
		return geo.Feature{}, fmt.Errorf("%d fields, more than the %d columns of the header", len(row), len(l.header))
	}
	props := make(map[string]any, len(l.header))
	for i, name := range l.header {
		if i == l.x || i == l.y || i == l.wkt {
			continue
		}
		s, err := c.text(cell(row, i))
		if err != nil {
			return geo.Feature{}, fmt.Errorf("column %q: %w", name, err)
		}
		props[name] = convertValue(s, types[i])
	}
	g, err := c.geometry(row)
	if err == nil {
		g, err = toWGS84(c.crs, g)
	}
	if err != nil {
		return geo.Feature{}, err
	}
	return geo.Feature{ID: id, Geometry: g, Properties: props}, nil
}

// valueType is the narrowest type that holds s exactly; "" for an empty
// value, which fits any type.
func valueType(s string) geo.FieldType {
	switch {
	case s == "":
		return ""
	case strings.EqualFold(s, "true") || strings.EqualFold(s, "false"):
		return geo.Boolean
	}
	if _, ok := parseInt(s); ok {
		return geo.Integer
	}
	if _, ok := parseFloat(s); ok {
		return geo.Number
	}
	if _, ok := parseCSVTime(s); ok {
		if len(s) == 10 {
			return geo.Date
		}
		return geo.DateTime
	}
	return geo.String
}

// convertValue converts s to type t; a value that does not fit is kept as
// its text.
func convertValue(s string, t geo.FieldType) any {
	if s == "" {
		return nil
	}
	switch t {
	case geo.Integer:
		if v, ok := parseInt(s); ok {
			return v
		}
	case geo.Number:
		if v, ok := parseFloat(s); ok {
			return v
		}
	case geo.Boolean:
		switch strings.ToLower(s) {
		case "true", "1":
			return true
		case "false", "0":
			return false
		}
	case geo.Date, geo.DateTime:
		if v, ok := parseCSVTime(s); ok {
			return v
		}
	}
	return s
}

// parseInt accepts only integers written as Go would write them back, so
// that "007" or "+5" stay text and no digit is lost.
func parseInt(s string) (int64, bool) {
	v, err := strconv.ParseInt(s, 10, 64)
	return v, err == nil && strconv.FormatInt(v, 10) == s
}

// parseFloat accepts plain decimal numbers: no hexadecimal, infinities,
// NaN, or leading zeros that mark the value as a code ("0123.5").
func parseFloat(s string) (float64, bool) {
	digits := strings.TrimPrefix(s, "-")
	if digits == "" || strings.Trim(digits, "0123456789.eE+-") != "" || !(digits[0] >= '0' && digits[0] <= '9' || digits[0] == '.') {
		return 0, false
	}
	if len(digits) > 1 && digits[0] == '0' && digits[1] >= '0' && digits[1] <= '9' {
		return 0, false
	}
	v, err := strconv.ParseFloat(s, 64)
	return v, err == nil && !math.IsInf(v, 0)
}

// parseCSVTime reads ISO 8601 dates and RFC 3339 date-times, and the
// slashed forms GDAL and spreadsheets write ("2021/06/30",
// "2021/06/30 08:00:00+08"). A date-time without a time zone is not a
// point in time, so it stays text.
func parseCSVTime(s string) (time.Time, bool) {
	if len(s) < 10 || (s[4] != '-' && s[4] != '/') {
		return time.Time{}, false
	}
	if len(s) == 10 {
		layout := "2006-01-02"
		if s[4] == '/' {
			layout = "2006/01/02"
		}
		t, err := time.Parse(layout, s)
		return t, err == nil
	}
	for _, layout := range []string{time.RFC3339Nano, "2006/01/02 15:04:05.999999999Z07", "2006/01/02 15:04:05.999999999Z07:00"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}
