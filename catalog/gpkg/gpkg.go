// Package gpkg is the embedded catalog.Store: every layer in one GeoPackage
// file that GDAL, QGIS and ArcGIS open as it is, written with a pure-Go
// SQLite (modernc.org/sqlite), so the server needs no database to run.
//
// Each layer is a feature table named by its id: an INTEGER PRIMARY KEY fid
// holding the feature id, a geom column of GeoPackage binary geometries in
// EPSG:4326, and one typed column per field, registered in gpkg_contents and
// gpkg_geometry_columns. What only this store reads (the LayerInfo as JSON,
// the version, the column of each field) lives in csdi_layers, registered as
// an attributes table: GDAL then lists only registered tables, so GIS users
// see the layers and csdi_layers, and not the tables below.
//
// There is no spatial index (gpkg_rtree_index): the server answers every
// query from memory, and SQLite's R-tree made a load six times slower. A GIS
// user can add one (GDAL: SELECT CreateSpatialIndex('layer', 'geom')); the
// next replace or delete of the layer drops it with the table.
//
// A replace is one SQLite transaction (BEGIN IMMEDIATE) and the file is in
// WAL mode, so readers keep reading the old version until the commit, and a
// failure or a killed process leaves the old version.
//
// History: csdi_layers holds the current version of each layer and
// csdi_versions the older versions kept (Options.Keep), each with its
// LayerInfo, its columns and the version whose data it serves (an
// UpdateInfo or a Rollback makes a version that serves older data). A
// replace renames the current table to "<id>@<data version>" (no layer id
// has an '@') and drops its registration, spatial index and triggers; a
// Rollback renames one back and registers it again. Kept tables, like
// csdi_versions and csdi_tokens (the SHA-256 hashes of upload tokens), are
// not in gpkg_contents, so GIS tools do not list them.
//
// The fields of a stream are only known when it ends, so columns are added
// as their first non-null value arrives (ALTER TABLE ADD COLUMN, cheap in
// SQLite) with that value's type. When a later value widens a field (integer
// to number, date to date-time, anything to string; geo.Widen) the table is
// rebuilt once with the wider column type and the stored values converted in
// SQL. Widening is rare, so the common load writes every row once; staging
// everything and copying it at the end would write every row twice.
package gpkg

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	_ "modernc.org/sqlite" // the "sqlite" database/sql driver

	"github.com/csdi-hk/csdi/catalog"
	"github.com/csdi-hk/csdi/geo"
)

const (
	applicationID = 0x47504B47 // "GPKG"
	userVersion   = 10300      // GeoPackage 1.3.0
)

// Store is a catalog.Store on one GeoPackage file. It is safe for
// concurrent use; writes are serialised.
type Store struct {
	path string
	keep int
	// w has a single connection whose transactions begin IMMEDIATE, so
	// writers queue here (honouring their context) rather than meet
	// SQLITE_BUSY; r serves reads, many at once.
	w, r *sql.DB
}

var _ catalog.Store = (*Store)(nil)

// Options tune a Store.
type Options struct {
	// Keep is how many versions of each layer are kept, the current one
	// included: 0 means catalog.DefaultKeep (the current and the previous
	// one), 1 keeps no history.
	Keep int
}

// Open opens the GeoPackage at path with the default Options.
func Open(ctx context.Context, path string) (*Store, error) {
	return OpenWith(ctx, path, Options{})
}

// OpenWith opens the GeoPackage at path, creating the file, its directory
// and the GeoPackage tables if they are missing.
func OpenWith(ctx context.Context, path string, opts Options) (*Store, error) {
	if opts.Keep < 0 {
		return nil, fmt.Errorf("open GeoPackage %q: keep %d versions: want 1 or more (0 for the default, %d)", path, opts.Keep, catalog.DefaultKeep)
	}
	if strings.ContainsAny(path, "?#") {
		return nil, fmt.Errorf("open GeoPackage %q: the path may not contain '?' or '#'", path)
	}
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, fmt.Errorf("open GeoPackage %q: %w", path, err)
		}
	}
	// synchronous=NORMAL is durable in WAL mode except for the last commits
	// before a power cut, and never corrupts.
	dsn := path + "?_pragma=busy_timeout(30000)&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)"
	w, err := sql.Open("sqlite", dsn+"&_txlock=immediate")
	if err != nil {
		return nil, fmt.Errorf("open GeoPackage %q: %w", path, err)
	}
	w.SetMaxOpenConns(1)
	r, err := sql.Open("sqlite", dsn)
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("open GeoPackage %q: %w", path, err)
	}
	s := &Store{path: path, keep: cmp.Or(opts.Keep, catalog.DefaultKeep), w: w, r: r}
	if err := s.init(ctx); err != nil {
		s.Close()
		return nil, fmt.Errorf("open GeoPackage %q: %w", path, err)
	}
	return s, nil
}

// init makes a new file a GeoPackage and adds this store's table to an
// existing one; it refuses a SQLite file that is something else.
func (s *Store) init(ctx context.Context) error {
	var app, tables int64
	if err := s.w.QueryRowContext(ctx, "PRAGMA application_id").Scan(&app); err != nil {
		return err
	}
	if err := s.w.QueryRowContext(ctx, "SELECT count(*) FROM sqlite_master").Scan(&tables); err != nil {
		return err
	}
	if app != applicationID && tables > 0 {
		return fmt.Errorf("not a GeoPackage: application_id is %#x, want %#x", app, applicationID)
	}
	if app != applicationID {
		// GIS tools read the id from the file's header before SQLite sees
		// the WAL, so it is checkpointed into the file at once.
		for _, q := range []string{
			"PRAGMA application_id = " + strconv.Itoa(applicationID),
			"PRAGMA user_version = " + strconv.Itoa(userVersion),
			"PRAGMA wal_checkpoint(TRUNCATE)",
		} {
			if _, err := s.w.ExecContext(ctx, q); err != nil {
				return err
			}
		}
	}
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	for _, q := range schema {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("create tables: %w", err)
		}
	}
	// csdi_layers.data came after the first release; null is the version.
	var have int
	if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM pragma_table_info('csdi_layers') WHERE name = 'data'").Scan(&have); err != nil {
		return fmt.Errorf("check csdi_layers: %w", err)
	}
	if have == 0 {
		if _, err := tx.ExecContext(ctx, "ALTER TABLE csdi_layers ADD COLUMN data INTEGER"); err != nil {
			return fmt.Errorf("add csdi_layers.data: %w", err)
		}
	}
	return tx.Commit()
}

// schema is the GeoPackage 1.3 core (features only), the extensions
// registry (a GIS tool may add a spatial index), and this store's table.
var schema = []string{
	`CREATE TABLE IF NOT EXISTS gpkg_spatial_ref_sys (
		srs_name TEXT NOT NULL, srs_id INTEGER PRIMARY KEY, organization TEXT NOT NULL,
		organization_coordsys_id INTEGER NOT NULL, definition TEXT NOT NULL, description TEXT)`,
	`INSERT OR IGNORE INTO gpkg_spatial_ref_sys VALUES
		('Undefined cartesian SRS', -1, 'NONE', -1, 'undefined', 'undefined cartesian coordinate reference system'),
		('Undefined geographic SRS', 0, 'NONE', 0, 'undefined', 'undefined geographic coordinate reference system'),
		('WGS 84 geodetic', 4326, 'EPSG', 4326, 'GEOGCS["WGS 84",DATUM["WGS_1984",SPHEROID["WGS 84",6378137,298.257223563,AUTHORITY["EPSG","7030"]],AUTHORITY["EPSG","6326"]],PRIMEM["Greenwich",0,AUTHORITY["EPSG","8901"]],UNIT["degree",0.0174532925199433,AUTHORITY["EPSG","9122"]],AXIS["Latitude",NORTH],AXIS["Longitude",EAST],AUTHORITY["EPSG","4326"]]', 'longitude/latitude coordinates in decimal degrees on the WGS 84 spheroid')`,
	`CREATE TABLE IF NOT EXISTS gpkg_contents (
		table_name TEXT NOT NULL PRIMARY KEY, data_type TEXT NOT NULL, identifier TEXT UNIQUE,
		description TEXT DEFAULT '', last_change DATETIME NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
		min_x DOUBLE, min_y DOUBLE, max_x DOUBLE, max_y DOUBLE, srs_id INTEGER,
		CONSTRAINT fk_gc_r_srs_id FOREIGN KEY (srs_id) REFERENCES gpkg_spatial_ref_sys(srs_id))`,
	`CREATE TABLE IF NOT EXISTS gpkg_geometry_columns (
		table_name TEXT NOT NULL, column_name TEXT NOT NULL, geometry_type_name TEXT NOT NULL,
		srs_id INTEGER NOT NULL, z TINYINT NOT NULL, m TINYINT NOT NULL,
		CONSTRAINT pk_geom_cols PRIMARY KEY (table_name, column_name),
		CONSTRAINT uk_gc_table_name UNIQUE (table_name),
		CONSTRAINT fk_gc_tn FOREIGN KEY (table_name) REFERENCES gpkg_contents(table_name),
		CONSTRAINT fk_gc_srs FOREIGN KEY (srs_id) REFERENCES gpkg_spatial_ref_sys (srs_id))`,
	`CREATE TABLE IF NOT EXISTS gpkg_extensions (
		table_name TEXT, column_name TEXT, extension_name TEXT NOT NULL,
		definition TEXT NOT NULL, scope TEXT NOT NULL,
		CONSTRAINT ge_tce UNIQUE (table_name, column_name, extension_name))`,
	// info is the LayerInfo as JSON; columns the SQL column of each of its
	// Fields, in order, since a field name may not be a usable column name.
	// A change deletes the layer's row and adds one, and AUTOINCREMENT
	// never reuses a rowid, so version grows on every change of any layer,
	// even one deleted and made again. data is the version whose data the
	// table holds (see setCurrent).
	`CREATE TABLE IF NOT EXISTS csdi_layers (
		version INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE, info TEXT NOT NULL, columns TEXT NOT NULL)`,
	// The kept older versions, as csdi_layers held them.
	`CREATE TABLE IF NOT EXISTS csdi_versions (
		version INTEGER PRIMARY KEY, id TEXT NOT NULL, data INTEGER NOT NULL, info TEXT NOT NULL, columns TEXT NOT NULL)`,
	`CREATE INDEX IF NOT EXISTS csdi_versions_id ON csdi_versions (id)`,
	`CREATE TABLE IF NOT EXISTS csdi_tokens (hash BLOB PRIMARY KEY, department TEXT NOT NULL, created_at TEXT NOT NULL)`,
	// GDAL lists every table of a GeoPackage unless one is registered as
	// attributes; then it lists only what is registered. csdi_layers is
	// that one, so GIS users see the layers and their metadata, not the
	// kept versions or the token hashes.
	`INSERT OR IGNORE INTO gpkg_contents (table_name, data_type, identifier, description)
		VALUES ('csdi_layers', 'attributes', 'csdi_layers', 'csdi: the metadata of every layer, as JSON')`,
}

// reserved prefixes name the GeoPackage's, SQLite's and this store's own
// tables; a layer named so would overwrite one.
var reserved = []string{"gpkg_", "rtree_", "sqlite_", "csdi_"}

func checkID(id string) error {
	if err := catalog.ValidateID(id); err != nil {
		return err
	}
	for _, p := range reserved {
		if strings.HasPrefix(id, p) {
			return fmt.Errorf("invalid layer id %q: ids starting with %q name GeoPackage tables", id, p)
		}
	}
	return nil
}

// Ping checks that the file can be read.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.r.PingContext(ctx); err != nil {
		return fmt.Errorf("ping GeoPackage %q: %w", s.path, err)
	}
	return nil
}

// Close closes the file.
func (s *Store) Close() error {
	return errors.Join(s.w.Close(), s.r.Close())
}

// Layers lists every layer's metadata, ordered by id.
func (s *Store) Layers(ctx context.Context) ([]catalog.LayerInfo, error) {
	rows, err := s.r.QueryContext(ctx, "SELECT id, info FROM csdi_layers ORDER BY id")
	if err != nil {
		return nil, fmt.Errorf("list layers in %q: %w", s.path, err)
	}
	defer rows.Close()
	var out []catalog.LayerInfo
	for rows.Next() {
		var id, js string
		if err := rows.Scan(&id, &js); err != nil {
			return nil, fmt.Errorf("list layers in %q: %w", s.path, err)
		}
		var info catalog.LayerInfo
		if err := json.Unmarshal([]byte(js), &info); err != nil {
			return nil, fmt.Errorf("layer %q in %q: metadata: %w", id, s.path, err)
		}
		out = append(out, info)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list layers in %q: %w", s.path, err)
	}
	return out, nil
}

// ReadLayer streams a layer in id order; metadata and features come from one
// read transaction, so one version.
func (s *Store) ReadLayer(ctx context.Context, id string, each func(geo.Feature) error) (catalog.LayerInfo, error) {
	tx, err := s.r.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return catalog.LayerInfo{}, fmt.Errorf("read layer %q from %q: %w", id, s.path, err)
	}
	defer tx.Rollback()
	var js, colsJS string
	err = tx.QueryRowContext(ctx, "SELECT info, columns FROM csdi_layers WHERE id = ?", id).Scan(&js, &colsJS)
	if errors.Is(err, sql.ErrNoRows) {
		return catalog.LayerInfo{}, fmt.Errorf("layer %q: %w", id, catalog.ErrNotFound)
	}
	if err != nil {
		return catalog.LayerInfo{}, fmt.Errorf("read layer %q from %q: %w", id, s.path, err)
	}
	var info catalog.LayerInfo
	var cols []string
	if err := errors.Join(json.Unmarshal([]byte(js), &info), json.Unmarshal([]byte(colsJS), &cols)); err != nil {
		return catalog.LayerInfo{}, fmt.Errorf("layer %q in %q: metadata: %w", id, s.path, err)
	}
	if len(cols) != len(info.Fields) {
		return catalog.LayerInfo{}, fmt.Errorf("layer %q in %q: %d columns for %d fields", id, s.path, len(cols), len(info.Fields))
	}
	q := `SELECT "fid", "geom"`
	for _, c := range cols {
		q += ", " + quote(c)
	}
	rows, err := tx.QueryContext(ctx, q+" FROM "+quote(id)+` ORDER BY "fid"`)
	if err != nil {
		return catalog.LayerInfo{}, fmt.Errorf("read layer %q from %q: %w", id, s.path, err)
	}
	defer rows.Close()
	vals := make([]any, 2+len(cols))
	dest := make([]any, len(vals))
	for i := range vals {
		dest[i] = &vals[i]
	}
	for rows.Next() {
		if err := rows.Scan(dest...); err != nil {
			return catalog.LayerInfo{}, fmt.Errorf("read layer %q from %q: %w", id, s.path, err)
		}
		fid, _ := vals[0].(int64)
		blob, _ := vals[1].([]byte)
		g, err := decodeGeometry(blob)
		if err != nil {
			return catalog.LayerInfo{}, fmt.Errorf("layer %q in %q, feature %d: %w", id, s.path, fid, err)
		}
		f := geo.Feature{ID: uint64(fid), Geometry: g, Properties: make(map[string]any, len(cols))}
		for i, fld := range info.Fields {
			v, err := decodeValue(vals[2+i], fld.Type)
			if err != nil {
				return catalog.LayerInfo{}, fmt.Errorf("layer %q in %q, feature %d, field %q: %w", id, s.path, fid, fld.Name, err)
			}
			if v != nil {
				f.Properties[fld.Name] = v
			}
		}
		if err := each(f); err != nil {
			return catalog.LayerInfo{}, err
		}
	}
	if err := rows.Err(); err != nil {
		return catalog.LayerInfo{}, fmt.Errorf("read layer %q from %q: %w", id, s.path, err)
	}
	return info, nil
}

// DeleteLayer drops a layer's tables, current and kept, and everything that
// names them.
func (s *Store) DeleteLayer(ctx context.Context, id string) error {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("delete layer %q from %q: %w", id, s.path, err)
	}
	defer tx.Rollback()
	cur, err := current(ctx, tx, id)
	if err != nil {
		return fmt.Errorf("delete layer %q from %q: %w", id, s.path, err)
	}
	rows, err := tx.QueryContext(ctx, "DELETE FROM csdi_versions WHERE id = ? RETURNING data", id)
	if err != nil {
		return fmt.Errorf("delete layer %q from %q: %w", id, s.path, err)
	}
	var kept []int64
	for rows.Next() {
		var v int64
		if err := rows.Scan(&v); err != nil {
			rows.Close()
			return fmt.Errorf("delete layer %q from %q: %w", id, s.path, err)
		}
		kept = append(kept, v)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("delete layer %q from %q: %w", id, s.path, err)
	}
	for _, v := range kept {
		if v == cur.data {
			continue
		}
		if _, err := tx.ExecContext(ctx, "DROP TABLE IF EXISTS "+quote(historyName(id, v))); err != nil {
			return fmt.Errorf("delete layer %q from %q: version %d: %w", id, s.path, v, err)
		}
	}
	if err := drop(ctx, tx, id); err != nil {
		return fmt.Errorf("delete layer %q from %q: %w", id, s.path, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("delete layer %q from %q: commit: %w", id, s.path, err)
	}
	return nil
}

// drop removes the table named id and everything that names it.
func drop(ctx context.Context, tx *sql.Tx, id string) error {
	if err := unregister(ctx, tx, id); err != nil {
		return err
	}
	for _, q := range []string{"DROP TABLE IF EXISTS " + quote(id), "DELETE FROM csdi_layers WHERE id = ?"} {
		if _, err := tx.ExecContext(ctx, q, id); err != nil {
			return err
		}
	}
	return nil
}

// unregister removes what makes the table named id a layer to GIS tools:
// its rows in the GeoPackage registry, a spatial index and the triggers
// that a GIS tool may have added (SQLite refuses to rename a table whose
// triggers name a table that is gone).
func unregister(ctx context.Context, tx *sql.Tx, id string) error {
	queries := []string{
		"DROP TABLE IF EXISTS " + quote(rtreeName(id)),
		"DELETE FROM gpkg_extensions WHERE table_name = ?",
		"DELETE FROM gpkg_geometry_columns WHERE table_name = ?",
		"DELETE FROM gpkg_contents WHERE table_name = ?",
	}
	// GDAL keeps feature counts in gpkg_ogr_contents in the files it makes;
	// a stale one would be what it reports.
	var ogr int
	if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM sqlite_master WHERE name = 'gpkg_ogr_contents'").Scan(&ogr); err != nil {
		return err
	}
	if ogr > 0 {
		queries = append(queries, "DELETE FROM gpkg_ogr_contents WHERE lower(table_name) = lower(?)")
	}
	triggers, err := tx.QueryContext(ctx, "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = ?", id)
	if err != nil {
		return err
	}
	for triggers.Next() {
		var name string
		if err := triggers.Scan(&name); err != nil {
			triggers.Close()
			return err
		}
		queries = append(queries, "DROP TRIGGER IF EXISTS "+quote(name))
	}
	triggers.Close()
	if err := triggers.Err(); err != nil {
		return err
	}
	for _, q := range queries {
		var args []any
		if strings.Contains(q, "?") {
			args = []any{id}
		}
		if _, err := tx.ExecContext(ctx, q, args...); err != nil {
			return err
		}
	}
	return nil
}

// ReplaceLayer writes a new version of a layer in one transaction.
func (s *Store) ReplaceLayer(ctx context.Context, info catalog.LayerInfo, features iter.Seq2[geo.Feature, error]) (catalog.LayerInfo, error) {
	if err := checkID(info.ID); err != nil {
		return catalog.LayerInfo{}, err
	}
	if err := info.Tiles.Validate(); err != nil {
		return catalog.LayerInfo{}, fmt.Errorf("replace layer %q in %q: %w", info.ID, s.path, err)
	}
	out, err := s.replace(ctx, info, features)
	if err != nil {
		// A cancelled context surfaces from SQLite as an interrupt or a
		// closed transaction; callers should still see why.
		if cerr := ctx.Err(); cerr != nil && !errors.Is(err, cerr) {
			err = fmt.Errorf("%w (%w)", err, cerr)
		}
		return catalog.LayerInfo{}, fmt.Errorf("replace layer %q in %q: %w", info.ID, s.path, err)
	}
	return out, nil
}

func (s *Store) replace(ctx context.Context, info catalog.LayerInfo, features iter.Seq2[geo.Feature, error]) (catalog.LayerInfo, error) {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return catalog.LayerInfo{}, err
	}
	defer tx.Rollback()
	switch cur, err := current(ctx, tx, info.ID); {
	case err == nil:
		if err := s.archive(ctx, tx, cur, true); err != nil {
			return catalog.LayerInfo{}, err
		}
	case errors.Is(err, catalog.ErrNotFound):
		// A table of that name that is no layer of ours (GDAL made it).
		if err := drop(ctx, tx, info.ID); err != nil {
			return catalog.LayerInfo{}, fmt.Errorf("drop table %q: %w", info.ID, err)
		}
	default:
		return catalog.LayerInfo{}, err
	}
	l := &loader{tx: tx, table: info.ID, byField: map[string]int{}, used: map[string]bool{"fid": true, "geom": true}}
	defer l.close()
	var sum catalog.Summary
	for f, err := range features {
		if err != nil {
			return catalog.LayerInfo{}, fmt.Errorf("feature %d: %w", sum.Count+1, err)
		}
		if err := ctx.Err(); err != nil {
			return catalog.LayerInfo{}, err
		}
		if err := sum.Add(f); err != nil {
			return catalog.LayerInfo{}, err
		}
		if err := l.add(ctx, f); err != nil {
			return catalog.LayerInfo{}, err
		}
	}
	if err := l.flush(ctx); err != nil {
		return catalog.LayerInfo{}, err
	}
	sum.Apply(&info)
	if err := info.Tiles.ValidateFields(info.Fields); err != nil {
		return catalog.LayerInfo{}, err
	}
	if err := nextVersion(ctx, tx, &info); err != nil {
		return catalog.LayerInfo{}, err
	}
	cols, err := l.finish(ctx, info)
	if err != nil {
		return catalog.LayerInfo{}, err
	}
	colsJS, err := json.Marshal(cols)
	if err != nil {
		return catalog.LayerInfo{}, fmt.Errorf("metadata: %w", err)
	}
	if err := registerTable(ctx, tx, info, l.geomType); err != nil {
		return catalog.LayerInfo{}, err
	}
	if err := setCurrent(ctx, tx, info, string(colsJS), info.Version); err != nil {
		return catalog.LayerInfo{}, err
	}
	return info, s.commit(ctx, tx, info.ID)
}

// nextVersion gives info the next version number and the time.
func nextVersion(ctx context.Context, tx *sql.Tx, info *catalog.LayerInfo) error {
	info.UpdatedAt = time.Now().UTC()
	if err := tx.QueryRowContext(ctx,
		"SELECT coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'csdi_layers'), 0) + 1").Scan(&info.Version); err != nil {
		return fmt.Errorf("next version: %w", err)
	}
	return nil
}

// contents returns what gpkg_contents says of a layer: its identifier,
// which is UNIQUE there while titles need not be, and its description.
func contents(ctx context.Context, tx *sql.Tx, info catalog.LayerInfo) (ident, desc string, err error) {
	ident = cmp.Or(info.Title, info.ID)
	var taken int
	if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM gpkg_contents WHERE identifier = ? AND table_name <> ?", ident, info.ID).Scan(&taken); err != nil {
		return "", "", err
	}
	if taken > 0 {
		ident += " (" + info.ID + ")"
	}
	return ident, strings.TrimSpace(info.Description + "\n" + info.DescriptionZH), nil
}

// registerTable writes the GeoPackage registry rows that make the table
// named info.ID a layer to GIS tools.
func registerTable(ctx context.Context, tx *sql.Tx, info catalog.LayerInfo, geomType string) error {
	ident, desc, err := contents(ctx, tx, info)
	if err != nil {
		return fmt.Errorf("register the table: %w", err)
	}
	var minX, minY, maxX, maxY any // NULL for an empty layer
	if info.FeatureCount > 0 {
		minX, minY, maxX, maxY = info.Bounds.Min[0], info.Bounds.Min[1], info.Bounds.Max[0], info.Bounds.Max[1]
	}
	for _, q := range []struct {
		sql  string
		args []any
	}{
		{`INSERT INTO gpkg_contents (table_name, data_type, identifier, description, last_change, min_x, min_y, max_x, max_y, srs_id)
			VALUES (?, 'features', ?, ?, ?, ?, ?, ?, ?, ?)`,
			[]any{info.ID, ident, desc, info.UpdatedAt.Format(dateTimeFormat), minX, minY, maxX, maxY, srsID}},
		{`INSERT INTO gpkg_geometry_columns (table_name, column_name, geometry_type_name, srs_id, z, m)
			VALUES (?, 'geom', ?, ?, 0, 0)`, []any{info.ID, geomType, srsID}},
	} {
		if _, err := tx.ExecContext(ctx, q.sql, q.args...); err != nil {
			return fmt.Errorf("register the table: %w", err)
		}
	}
	return nil
}

// setCurrent writes info as the current version of its layer, whose table
// holds the data of version data, read through cols (JSON).
func setCurrent(ctx context.Context, tx *sql.Tx, info catalog.LayerInfo, cols string, data int64) error {
	js, err := json.Marshal(info)
	if err != nil {
		return fmt.Errorf("metadata: %w", err)
	}
	if _, err := tx.ExecContext(ctx, "INSERT INTO csdi_layers (version, id, info, columns, data) VALUES (?, ?, ?, ?, ?)",
		info.Version, info.ID, string(js), cols, data); err != nil {
		return fmt.Errorf("write metadata: %w", err)
	}
	return nil
}

// quote makes any string a SQLite identifier.
func quote(name string) string {
	return `"` + strings.ReplaceAll(name, `"`, `""`) + `"`
}

func rtreeName(table string) string { return "rtree_" + table + "_geom" }
