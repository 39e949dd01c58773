package importers

import (
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/paulmach/orb"
	_ "modernc.org/sqlite" // the "sqlite" database/sql driver, pure Go

	"github.com/csdi-hk/csdi/geo"
	"github.com/csdi-hk/csdi/geo/crs"
	"github.com/csdi-hk/csdi/geo/gpkgbin"
)

// gpkgTable is one feature table of a GeoPackage.
type gpkgTable struct {
	name, geomColumn, pk string
	srsID                int64
	columns              []gpkgColumn // attribute columns, the geometry and key left out
}

type gpkgColumn struct {
	name string
	typ  geo.FieldType // "" for BLOB columns, which are left out
}

// readGeoPackage opens a GeoPackage for Open: every feature table is a
// Source, or only the one Options.SourceLayer names. The file is opened
// read-only; close closes it.
func readGeoPackage(path string, opts Options) ([]Source, func() error, error) {
	dsn := (&url.URL{Scheme: "file", OmitHost: true, Path: path, RawQuery: "mode=ro"}).String()
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, nil, fmt.Errorf("open GeoPackage %s: %w", path, err)
	}
	tables, err := gpkgTables(db, path)
	if err == nil && opts.SourceLayer != "" {
		tables, err = pickTable(tables, path, opts.SourceLayer)
	}
	if err != nil {
		db.Close()
		return nil, nil, err
	}
	var sources []Source
	for _, t := range tables {
		declared, err := gpkgSRS(db, t.srsID)
		if err != nil {
			db.Close()
			return nil, nil, fmt.Errorf("%s: table %q: %w", path, t.name, err)
		}
		if declared, err = sourceCRS(path, declared, opts); err != nil {
			db.Close()
			return nil, nil, fmt.Errorf("table %q: %w", t.name, err)
		}
		g := gpkgReader{db: db, path: path, table: t, crs: declared}
		sources = append(sources, Source{Name: t.name, Format: FormatGeoPackage, CRS: declared, Features: g.features})
	}
	return sources, db.Close, nil
}

// gpkgTables lists the feature tables in the order of gpkg_contents.
func gpkgTables(db *sql.DB, path string) ([]gpkgTable, error) {
	rows, err := db.Query(`SELECT c.table_name, g.column_name, g.srs_id
		FROM gpkg_contents c JOIN gpkg_geometry_columns g ON g.table_name = c.table_name
		WHERE c.data_type = 'features' ORDER BY c.rowid`)
	if err != nil {
		return nil, fmt.Errorf("%s: not a readable GeoPackage (no gpkg_contents and gpkg_geometry_columns tables?): %w", path, err)
	}
	defer rows.Close()
	var tables []gpkgTable
	for rows.Next() {
		var t gpkgTable
		if err := rows.Scan(&t.name, &t.geomColumn, &t.srsID); err != nil {
			return nil, fmt.Errorf("%s: gpkg_geometry_columns: %w", path, err)
		}
		tables = append(tables, t)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("%s: gpkg_contents: %w", path, err)
	}
	if len(tables) == 0 {
		return nil, fmt.Errorf("%s: the GeoPackage has no feature tables", path)
	}
	for i := range tables {
		if err := tables[i].readColumns(db, path); err != nil {
			return nil, err
		}
	}
	return tables, nil
}

// readColumns reads the table's columns and their declared types.
func (t *gpkgTable) readColumns(db *sql.DB, path string) error {
	rows, err := db.Query(`SELECT name, type, pk FROM pragma_table_info(?)`, t.name)
	if err != nil {
		return fmt.Errorf("%s: table %q: %w", path, t.name, err)
	}
	defer rows.Close()
	for rows.Next() {
		var name, typ string
		var pk int
		if err := rows.Scan(&name, &typ, &pk); err != nil {
			return fmt.Errorf("%s: table %q: %w", path, t.name, err)
		}
		switch {
		case pk == 1 && t.pk == "" && strings.EqualFold(typ, "INTEGER"):
			t.pk = name
		case strings.EqualFold(name, t.geomColumn):
		default:
			t.columns = append(t.columns, gpkgColumn{name: name, typ: gpkgType(typ)})
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("%s: table %q: %w", path, t.name, err)
	}
	if t.pk == "" {
		return fmt.Errorf("%s: table %q has no INTEGER PRIMARY KEY column, which a GeoPackage feature table must have", path, t.name)
	}
	return nil
}

// gpkgType maps the GeoPackage data types (Table 1 of the specification)
// and the SQLite affinities of other writers onto the feature model.
func gpkgType(declared string) geo.FieldType {
	t := strings.ToUpper(strings.TrimSpace(declared))
	if i := strings.IndexByte(t, '('); i >= 0 { // TEXT(20)
		t = strings.TrimSpace(t[:i])
	}
	switch t {
	case "BOOLEAN", "BOOL":
		return geo.Boolean
	case "DATE":
		return geo.Date
	case "DATETIME", "TIMESTAMP":
		return geo.DateTime
	case "BLOB":
		return ""
	}
	switch {
	case strings.Contains(t, "INT"):
		return geo.Integer
	case strings.Contains(t, "REAL"), strings.Contains(t, "FLOA"), strings.Contains(t, "DOUB"), strings.Contains(t, "NUMERIC"), strings.Contains(t, "DECIMAL"):
		return geo.Number
	}
	return geo.String
}

// pickTable keeps the table --source-layer names: exactly, else ignoring case.
func pickTable(tables []gpkgTable, path, name string) ([]gpkgTable, error) {
	var names []string
	for _, t := range tables {
		if t.name == name {
			return []gpkgTable{t}, nil
		}
		names = append(names, t.name)
	}
	for _, t := range tables {
		if strings.EqualFold(t.name, name) {
			return []gpkgTable{t}, nil
		}
	}
	return nil, fmt.Errorf("%s: no feature table %q (--source-layer); the GeoPackage has %s", path, name, strings.Join(names, ", "))
}

// gpkgSRS finds the CRS of srs_id in gpkg_spatial_ref_sys: by its EPSG
// code, else by its WKT definition. It returns 0 for the undefined systems
// -1 and 0, so that sourceCRS asks for --crs.
func gpkgSRS(db *sql.DB, srsID int64) (crs.CRS, error) {
	if srsID == 0 || srsID == -1 {
		return 0, nil
	}
	var org, def sql.NullString
	var code sql.NullInt64
	err := db.QueryRow(`SELECT organization, organization_coordsys_id, definition FROM gpkg_spatial_ref_sys WHERE srs_id = ?`, srsID).Scan(&org, &code, &def)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, fmt.Errorf("srs_id %d is not in gpkg_spatial_ref_sys", srsID)
	}
	if err != nil {
		return 0, fmt.Errorf("gpkg_spatial_ref_sys: %w", err)
	}
	if org.Valid && code.Valid {
		if c, err := crs.Lookup(org.String + ":" + fmt.Sprint(code.Int64)); err == nil {
			return c, nil
		}
	}
	if def.Valid && def.String != "" && !strings.EqualFold(def.String, "undefined") {
		c, err := crs.FromWKT(def.String)
		if err != nil {
			return 0, fmt.Errorf("srs_id %d (%s:%d): %w", srsID, org.String, code.Int64, err)
		}
		return c, nil
	}
	return 0, fmt.Errorf("srs_id %d (%s:%d) is not a supported CRS and has no WKT definition", srsID, org.String, code.Int64)
}

type gpkgReader struct {
	db    *sql.DB
	path  string
	table gpkgTable
	crs   crs.CRS
}

// features streams the rows of the table in key order.
func (g gpkgReader) features(yield func(geo.Feature, error) bool) {
	t := g.table
	cols := []string{quoteIdent(t.pk), quoteIdent(t.geomColumn)}
	for _, c := range t.columns {
		if c.typ != "" {
			cols = append(cols, quoteIdent(c.name))
		}
	}
	label := fmt.Sprintf("%s: table %q", g.path, t.name)
	rows, err := g.db.Query("SELECT " + strings.Join(cols, ", ") + " FROM " + quoteIdent(t.name) + " ORDER BY " + quoteIdent(t.pk))
	if err != nil {
		yield(geo.Feature{}, fmt.Errorf("%s: %w", label, err))
		return
	}
	defer rows.Close()
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	n := 0
	for rows.Next() {
		n++
		if err := rows.Scan(ptrs...); err != nil {
			yield(geo.Feature{}, fmt.Errorf("%s: row %d: %w", label, n, err))
			return
		}
		f, err := g.feature(vals)
		if err != nil {
			if !yield(geo.Feature{}, &FeatureError{File: label, Row: n, Err: fmt.Errorf("fid %v: %w", vals[0], err)}) {
				return
			}
			continue
		}
		if !yield(f, nil) {
			return
		}
	}
	if err := rows.Err(); err != nil {
		yield(geo.Feature{}, fmt.Errorf("%s: after row %d: %w", label, n, err))
	}
}

// feature converts one row: key, geometry, then the attribute columns.
func (g gpkgReader) feature(vals []any) (geo.Feature, error) {
	fid, ok := vals[0].(int64)
	if !ok || fid <= 0 {
		return geo.Feature{}, fmt.Errorf("the key %v is not a positive integer", vals[0])
	}
	blob, ok := vals[1].([]byte)
	if !ok {
		if vals[1] == nil {
			return geo.Feature{}, errors.New("no geometry")
		}
		return geo.Feature{}, fmt.Errorf("the geometry is a %T, not a GeoPackage geometry blob", vals[1])
	}
	geom, err := gpkgGeometry(blob)
	if err == nil {
		geom, err = toWGS84(g.crs, geom)
	}
	if err != nil {
		return geo.Feature{}, err
	}
	props := make(map[string]any, len(vals)-2)
	i := 2
	for _, c := range g.table.columns {
		if c.typ == "" {
			continue
		}
		v, err := gpkgValue(vals[i], c.typ)
		if err != nil {
			return geo.Feature{}, fmt.Errorf("column %q: %w", c.name, err)
		}
		props[c.name] = v
		i++
	}
	return geo.Feature{ID: uint64(fid), Geometry: geom, Properties: props}, nil
}

// gpkgValue converts a value of SQLite's dynamic typing to the column's
// type; a value that does not fit (a text in an INTEGER column, which
// SQLite allows) is kept as it is.
func gpkgValue(v any, t geo.FieldType) (any, error) {
	switch v := v.(type) {
	case nil:
		return nil, nil
	case []byte: // a BLOB in a column declared otherwise
		return nil, fmt.Errorf("binary value of %d bytes in a %s column", len(v), t)
	case string:
		if err := validUTF8(v); err != nil {
			return nil, err
		}
		if t == geo.Date || t == geo.DateTime {
			if tm, ok := parseDeclaredTime(v); ok {
				return tm, nil
			}
		}
		return v, nil
	case int64:
		switch t {
		case geo.Boolean:
			return v != 0, nil
		case geo.Number:
			return float64(v), nil
		}
		return v, nil
	case time.Time:
		if t == geo.Date {
			return time.Date(v.Year(), v.Month(), v.Day(), 0, 0, 0, 0, time.UTC), nil
		}
		return v, nil
	}
	return v, nil // float64, bool
}

// parseDeclaredTime reads a value of a column declared a date or
// date-time. Beyond what parseCSVTime reads, a date-time without a time
// zone is taken as UTC here: the column says it is a time, and GDAL writes
// dates into FlatGeobuf and GeoPackage files so ("2021-06-30T00:00:00").
func parseDeclaredTime(s string) (time.Time, bool) {
	s = strings.TrimSpace(s)
	if t, ok := parseCSVTime(s); ok {
		return t, true
	}
	for _, layout := range []string{"2006-01-02T15:04:05.999999999", "2006-01-02 15:04:05.999999999", "2006/01/02 15:04:05.999999999"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

func quoteIdent(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

// gpkgGeometry decodes a GeoPackage geometry blob. The header's srs_id is
// not read: the table's, from gpkg_geometry_columns, is the one that counts.
func gpkgGeometry(b []byte) (orb.Geometry, error) {
	body, empty, err := gpkgbin.Split(b)
	if err != nil {
		return nil, err
	}
	if empty {
		return nil, errors.New("empty geometry")
	}
	return parseWKB(body)
}
