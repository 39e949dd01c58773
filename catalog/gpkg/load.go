package gpkg

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/csdi-hk/csdi/catalog"
	"github.com/csdi-hk/csdi/geo"
)

// sqlType is the GeoPackage column type of each field type.
func sqlType(t geo.FieldType) string {
	switch t {
	case geo.Integer:
		return "INTEGER"
	case geo.Number:
		return "REAL"
	case geo.Boolean:
		return "BOOLEAN"
	case geo.Date:
		return "DATE"
	case geo.DateTime:
		return "DATETIME"
	}
	return "TEXT"
}

// dateTimeFormat is GeoPackage's DATETIME: UTC to the millisecond.
const dateTimeFormat = "2006-01-02T15:04:05.000Z"

// encodeValue turns a property value into what a column of type t holds.
// The value's own type is t or narrower (geo.Widen), except for strings,
// which take any value.
func encodeValue(v any, t geo.FieldType) any {
	switch v := v.(type) {
	case string:
		return v
	case int64:
		switch t {
		case geo.Number:
			return float64(v)
		case geo.String:
			return strconv.FormatInt(v, 10)
		}
		return v
	case float64:
		if t == geo.String {
			return strconv.FormatFloat(v, 'g', -1, 64)
		}
		return v
	case bool:
		if t == geo.String {
			return strconv.FormatBool(v)
		}
		if v {
			return int64(1)
		}
		return int64(0)
	case time.Time:
		if t == geo.Date {
			return v.Format(time.DateOnly)
		}
		if typ, _ := geo.TypeOf(v); typ == geo.Date && t == geo.String {
			return v.Format(time.DateOnly)
		}
		return v.UTC().Format(dateTimeFormat)
	}
	return v
}

// decodeValue turns what SQLite returns for a column into the model's value
// for type t. The driver hands DATE and DATETIME columns back as time.Time
// where it can parse them, and as text where it cannot.
func decodeValue(v any, t geo.FieldType) (any, error) {
	if v == nil {
		return nil, nil
	}
	switch t {
	case geo.String:
		switch v := v.(type) {
		case string:
			return v, nil
		case []byte:
			return string(v), nil
		}
	case geo.Integer:
		if v, ok := v.(int64); ok {
			return v, nil
		}
	case geo.Number:
		switch v := v.(type) {
		case float64:
			return v, nil
		case int64:
			return float64(v), nil
		}
	case geo.Boolean:
		if v, ok := v.(int64); ok {
			return v != 0, nil
		}
	case geo.Date, geo.DateTime:
		var tm time.Time
		switch v := v.(type) {
		case time.Time:
			tm = v
		case string:
			var err error
			if tm, err = time.Parse(time.RFC3339Nano, v); err != nil {
				if tm, err = time.Parse(time.DateOnly, v); err != nil {
					return nil, fmt.Errorf("%q is not an ISO 8601 date or date-time", v)
				}
			}
		default:
			return nil, fmt.Errorf("%T %v is not a date", v, v)
		}
		if t == geo.Date {
			y, m, d := tm.Date()
			return time.Date(y, m, d, 0, 0, 0, 0, time.UTC), nil
		}
		return tm.UTC(), nil
	}
	return nil, fmt.Errorf("%T %v in a %s column", v, v, t)
}

// column is one attribute column of a feature table being loaded.
type column struct {
	field, name string
	typ         geo.FieldType
}

// loader writes the features of one replace into the layer's table,
// shaping the table as the stream reveals the fields.
type loader struct {
	tx       *sql.Tx
	table    string
	geomType string // GeoPackage geometry type name; "" until the table exists
	cols     []column
	byField  map[string]int
	used     map[string]bool // lower-cased column names: SQLite ignores case
	insert   *sql.Stmt       // nil when the columns changed since it was prepared
	args     []any
	batch    int // rows in args
}

// batchRows is how many features one INSERT carries: fewer round trips
// through database/sql, well under SQLite's 32766 parameters for any
// reasonable number of columns (see batchSize).
const batchRows = 64

func (l *loader) close() {
	if l.insert != nil {
		l.insert.Close()
	}
}

func (l *loader) add(ctx context.Context, f geo.Feature) error {
	if f.ID > math.MaxInt64 {
		return fmt.Errorf("feature id %d is beyond the largest SQLite integer", f.ID)
	}
	blob, err := encodeGeometry(f.Geometry)
	if err != nil {
		return fmt.Errorf("feature id %d: %w", f.ID, err)
	}
	typ := strings.ToUpper(f.Geometry.GeoJSONType())
	if l.geomType == "" {
		if err := l.create(ctx, typ); err != nil {
			return err
		}
	} else if typ != l.geomType && l.geomType != "GEOMETRY" {
		if err := l.rebuild(ctx, "GEOMETRY", l.cols); err != nil {
			return err
		}
	}
	var added []string
	for name, v := range f.Properties {
		if v == nil {
			continue
		}
		i, ok := l.byField[name]
		if !ok {
			added = append(added, name)
			continue
		}
		t, _ := geo.TypeOf(v) // catalog.Summary has refused any other value
		if w := geo.Widen(l.cols[i].typ, t); w != l.cols[i].typ {
			cols := append([]column(nil), l.cols...)
			cols[i].typ = w
			if err := l.rebuild(ctx, l.geomType, cols); err != nil {
				return err
			}
		}
	}
	// Sorted, as geo.Schema orders fields, so GIS tools show the columns
	// in the same order on every import.
	slices.Sort(added)
	for _, name := range added {
		t, _ := geo.TypeOf(f.Properties[name])
		if err := l.addColumn(ctx, name, t); err != nil {
			return err
		}
	}
	l.args = append(l.args, int64(f.ID), blob)
	for _, c := range l.cols {
		var v any
		if p := f.Properties[c.field]; p != nil {
			v = encodeValue(p, c.typ)
		}
		l.args = append(l.args, v)
	}
	l.batch++
	if l.batch == l.batchSize() {
		return l.flush(ctx)
	}
	return nil
}

func (l *loader) batchSize() int {
	return max(1, min(batchRows, 30000/(2+len(l.cols))))
}

// flush inserts the rows held in args; it runs before any change to the
// table, since the rows are encoded for its columns as they are.
func (l *loader) flush(ctx context.Context) error {
	if l.batch == 0 {
		return nil
	}
	stmt := l.insert
	if l.batch != l.batchSize() || stmt == nil {
		var err error
		if stmt, err = l.tx.PrepareContext(ctx, l.insertSQL(l.batch)); err != nil {
			return fmt.Errorf("prepare insert: %w", err)
		}
		if l.batch == l.batchSize() {
			l.insert = stmt
		} else {
			defer stmt.Close()
		}
	}
	if _, err := stmt.ExecContext(ctx, l.args...); err != nil {
		if id, ok := l.repeated(ctx); ok {
			return fmt.Errorf("feature id %d appears twice", id)
		}
		return fmt.Errorf("insert features: %w", err)
	}
	l.args = l.args[:0]
	l.batch = 0
	return nil
}

// repeated finds the id that made an insert fail, if one did: one repeated
// within the rows held in args or one already in the table. It runs only
// after a failure, so a load does not keep every id in memory.
func (l *loader) repeated(ctx context.Context) (int64, bool) {
	seen := make(map[int64]bool, l.batch)
	var ids []any
	for i := 0; i < len(l.args); i += 2 + len(l.cols) {
		id := l.args[i].(int64)
		if seen[id] {
			return id, true
		}
		seen[id] = true
		ids = append(ids, id)
	}
	var id int64
	err := l.tx.QueryRowContext(ctx, "SELECT fid FROM "+quote(l.table)+` WHERE "fid" IN (?`+strings.Repeat(", ?", len(ids)-1)+") LIMIT 1", ids...).Scan(&id)
	return id, err == nil
}

func (l *loader) insertSQL(rows int) string {
	var b strings.Builder
	b.WriteString("INSERT INTO " + quote(l.table) + ` ("fid", "geom"`)
	for _, c := range l.cols {
		b.WriteString(", " + quote(c.name))
	}
	b.WriteString(") VALUES ")
	one := "(?, ?" + strings.Repeat(", ?", len(l.cols)) + ")"
	for i := range rows {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(one)
	}
	return b.String()
}

func (l *loader) create(ctx context.Context, geomType string) error {
	if _, err := l.tx.ExecContext(ctx, l.tableSQL(l.table, geomType, l.cols)); err != nil {
		return fmt.Errorf("create table: %w", err)
	}
	l.geomType = geomType
	return nil
}

func (l *loader) tableSQL(name, geomType string, cols []column) string {
	q := "CREATE TABLE " + quote(name) + ` ("fid" INTEGER PRIMARY KEY NOT NULL, "geom" ` + geomType
	for _, c := range cols {
		q += ", " + quote(c.name) + " " + sqlType(c.typ)
	}
	return q + ")"
}

func (l *loader) addColumn(ctx context.Context, field string, t geo.FieldType) error {
	if err := l.flush(ctx); err != nil {
		return err
	}
	c := column{field: field, name: l.columnName(field), typ: t}
	if _, err := l.tx.ExecContext(ctx, "ALTER TABLE "+quote(l.table)+" ADD COLUMN "+quote(c.name)+" "+sqlType(t)); err != nil {
		return fmt.Errorf("add column for field %q: %w", field, err)
	}
	l.used[strings.ToLower(c.name)] = true
	l.byField[field] = len(l.cols)
	l.cols = append(l.cols, c)
	l.dropInsert()
	return nil
}

// columnName is the field's name unless SQLite would take it for another
// column (it ignores case) or cannot hold it.
func (l *loader) columnName(field string) string {
	base := strings.ReplaceAll(field, "\x00", "_")
	if base == "" {
		base = "field"
	}
	name := base
	for i := 2; l.used[strings.ToLower(name)]; i++ {
		name = base + "_" + strconv.Itoa(i)
	}
	return name
}

func (l *loader) dropInsert() {
	if l.insert != nil {
		l.insert.Close()
		l.insert = nil
	}
}

// rebuild gives the table new column types (SQLite cannot alter one),
// converting the stored values in SQL the way encodeValue converts new ones.
func (l *loader) rebuild(ctx context.Context, geomType string, cols []column) error {
	if err := l.flush(ctx); err != nil {
		return err
	}
	const tmp = "csdi_rebuild"
	names, exprs := `"fid", "geom"`, `"fid", "geom"`
	for i, c := range cols {
		names += ", " + quote(c.name)
		exprs += ", " + convert(quote(c.name), l.cols[i].typ, c.typ)
	}
	for _, q := range []string{
		l.tableSQL(tmp, geomType, cols),
		"INSERT INTO " + tmp + " (" + names + ") SELECT " + exprs + " FROM " + quote(l.table),
		"DROP TABLE " + quote(l.table),
		"ALTER TABLE " + tmp + " RENAME TO " + quote(l.table),
	} {
		if _, err := l.tx.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("rebuild table with wider types: %w", err)
		}
	}
	l.geomType, l.cols = geomType, cols
	l.dropInsert()
	return nil
}

func convert(col string, from, to geo.FieldType) string {
	switch {
	case from == to:
		return col
	case to == geo.Number:
		return "CAST(" + col + " AS REAL)"
	case to == geo.DateTime:
		return col + " || 'T00:00:00.000Z'"
	case from == geo.Boolean:
		return "CASE " + col + " WHEN 1 THEN 'true' WHEN 0 THEN 'false' END"
	}
	return "CAST(" + col + " AS TEXT)"
}

// finish adds a column for each field that only ever held null and returns
// the column of each of info.Fields.
func (l *loader) finish(ctx context.Context, info catalog.LayerInfo) ([]string, error) {
	if l.geomType == "" {
		if err := l.create(ctx, "GEOMETRY"); err != nil {
			return nil, err
		}
	}
	out := make([]string, len(info.Fields))
	for i, f := range info.Fields {
		j, ok := l.byField[f.Name]
		if !ok {
			if err := l.addColumn(ctx, f.Name, f.Type); err != nil {
				return nil, err
			}
			j = len(l.cols) - 1
		}
		if l.cols[j].typ != f.Type {
			return nil, fmt.Errorf("field %q: column type %s, summary says %s", f.Name, l.cols[j].typ, f.Type)
		}
		out[i] = l.cols[j].name
	}
	return out, nil
}
