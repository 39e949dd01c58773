// Package postgis is the catalog.Store on PostgreSQL with PostGIS, for
// deployments with several replicas sharing one database.
//
// Layout: csdi.layers holds one row of metadata per layer, and each layer's
// features live in their own table csdi_data.<layer id> with
//
//	id bigint PRIMARY KEY, geom geometry(Geometry,4326) NOT NULL, props jsonb NOT NULL
//
// and a GiST index on geom. The data tables have a schema of their own
// because a layer may be called "layers" (ids are checked by
// catalog.ValidateID, and nothing else reserves names).
//
// Attributes are one jsonb document per feature rather than a column per
// field. Layers arrive with arbitrary field names (often Chinese, sometimes
// differing only in case or longer than PostgreSQL's 63-byte identifiers) and
// their fields change between monthly releases; columns would need renaming
// rules and ALTERs on every change, while jsonb takes any name as it is. The
// typed schema is kept in csdi.layers.fields, and values are converted back
// through it on read: integers round-trip exactly (JSON numbers are decoded
// as json.Number, never through float64), dates and date-times are stored as
// ISO 8601 strings and come back as time.Time, and a value in a field that was
// widened (say an integer in a string field) comes back as the field's type.
//
// A replace builds the new table off to the side and swaps it in, all in one
// transaction: readers see the old version or the new one, and a failure,
// including a lost connection, leaves no trace but a rolled-back transaction.
// Every change is announced with NOTIFY on the channel csdi_layers, payload
// the layer id, delivered when it commits.
//
// History: csdi.layers holds the current version of each layer and
// csdi.versions the older versions kept (Options.Keep), each with its
// LayerInfo as JSON and the version whose data it serves (data_version: an
// UpdateInfo or a Rollback makes a version that serves older data). The
// current data is always csdi_data.<id>; the data of an older version lives
// in csdi_history."<id>@<data_version>" (the id shortened to fit 63 bytes;
// the version alone is unique). The swap moves the current table there
// (RENAME, SET SCHEMA) and a Rollback moves one back, in the transaction of
// the change, so no data is copied and nothing is left over after a failure;
// versions beyond Keep are dropped in the same transaction.
package postgis

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/csdi-hk/csdi/catalog"
)

// Channel is the NOTIFY channel on which every committed change of a layer
// is announced, with the layer id as payload.
const Channel = "csdi_layers"

const (
	dataSchema    = "csdi_data"
	historySchema = "csdi_history"
	// lockClass keys the advisory locks this package takes ("csdi"): alone
	// for migrations, with hashtext(layer id) for writers of one layer.
	lockClass = 0x63736469
)

// Store is a catalog.Store on PostGIS. It is safe for concurrent use, also
// by several processes on one database.
type Store struct {
	pool *pgxpool.Pool
	keep int
}

var _ catalog.Store = (*Store)(nil)

// Options tune a Store.
type Options struct {
	// Keep is how many versions of each layer are kept, the current one
	// included: 0 means catalog.DefaultKeep (the current and the previous
	// one), 1 keeps no history. A writer prunes to its own Keep.
	Keep int
}

// Open connects to the database at url with the default Options.
func Open(ctx context.Context, url string) (*Store, error) {
	return OpenWith(ctx, url, Options{})
}

// OpenWith connects to the database at url (a libpq URL or key=value string)
// and creates what the store needs if it is missing. Creating the postgis
// extension needs a superuser the first time; afterwards the owner of the
// csdi schemas is enough.
func OpenWith(ctx context.Context, url string, opts Options) (*Store, error) {
	if opts.Keep < 0 {
		return nil, fmt.Errorf("postgis: keep %d versions: want 1 or more (0 for the default, %d)", opts.Keep, catalog.DefaultKeep)
	}
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("postgis: parse database URL: %w", err)
	}
	if _, ok := cfg.ConnConfig.RuntimeParams["application_name"]; !ok {
		cfg.ConnConfig.RuntimeParams["application_name"] = "csdi"
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgis: connect to %s:%d/%s: %w", cfg.ConnConfig.Host, cfg.ConnConfig.Port, cfg.ConnConfig.Database, err)
	}
	s := &Store{pool: pool, keep: cmp.Or(opts.Keep, catalog.DefaultKeep)}
	if err := s.migrate(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgis: prepare database %s:%d/%s: %w", cfg.ConnConfig.Host, cfg.ConnConfig.Port, cfg.ConnConfig.Database, err)
	}
	return s, nil
}

// migrate runs under an advisory lock: CREATE ... IF NOT EXISTS alone still
// fails with a unique violation when two processes run it at the same time.
func (s *Store) migrate(ctx context.Context) error {
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", int64(lockClass)); err != nil {
			return fmt.Errorf("take the migration lock: %w", err)
		}
		_, err := tx.Exec(ctx, `
CREATE EXTENSION IF NOT EXISTS postgis;
CREATE SCHEMA IF NOT EXISTS csdi;
CREATE SCHEMA IF NOT EXISTS csdi_data;
CREATE SEQUENCE IF NOT EXISTS csdi.layer_version;
CREATE TABLE IF NOT EXISTS csdi.layers (
	id             text PRIMARY KEY,
	title          text NOT NULL,
	title_zh       text NOT NULL,
	description    text NOT NULL,
	description_zh text NOT NULL,
	department     text NOT NULL,
	attribution    text NOT NULL,
	source_crs     text NOT NULL,
	fields         jsonb NOT NULL,
	version        bigint NOT NULL,
	feature_count  bigint NOT NULL,
	min_x          double precision NOT NULL,
	min_y          double precision NOT NULL,
	max_x          double precision NOT NULL,
	max_y          double precision NOT NULL,
	geometry_type  text NOT NULL,
	updated_at     timestamptz NOT NULL
);
CREATE SCHEMA IF NOT EXISTS csdi_history;
CREATE TABLE IF NOT EXISTS csdi.versions (
	id           text NOT NULL,
	version      bigint NOT NULL,
	data_version bigint NOT NULL,
	info         jsonb NOT NULL,
	PRIMARY KEY (id, version)
);
CREATE TABLE IF NOT EXISTS csdi.tokens (
	hash       bytea PRIMARY KEY,
	department text NOT NULL,
	created_at timestamptz NOT NULL DEFAULT now()
)`)
		if err != nil {
			return err
		}
		// Columns added after the first release. ALTER TABLE locks out
		// readers even when it has nothing to do, so it runs only when a
		// column is missing. A null data_version is the version itself.
		var have int
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM information_schema.columns
			WHERE table_schema = 'csdi' AND table_name = 'layers'
			AND column_name IN ('created_by', 'source_file', 'tiles', 'data_version')`).Scan(&have); err != nil {
			return fmt.Errorf("check the columns of csdi.layers: %w", err)
		}
		if have < 4 {
			_, err = tx.Exec(ctx, `ALTER TABLE csdi.layers
	ADD COLUMN IF NOT EXISTS created_by text NOT NULL DEFAULT '',
	ADD COLUMN IF NOT EXISTS source_file text NOT NULL DEFAULT '',
	ADD COLUMN IF NOT EXISTS tiles jsonb NOT NULL DEFAULT '{}',
	ADD COLUMN IF NOT EXISTS data_version bigint`)
		}
		return err
	})
}

const infoColumns = `id, title, title_zh, description, description_zh, department, attribution, source_crs,
	created_by, source_file, tiles, fields, version, feature_count, min_x, min_y, max_x, max_y, geometry_type, updated_at`

// scanInfo reads the infoColumns of a row, then extra columns into extra.
func scanInfo(row pgx.Row, extra ...any) (catalog.LayerInfo, error) {
	var i catalog.LayerInfo
	dest := append([]any{&i.ID, &i.Title, &i.TitleZH, &i.Description, &i.DescriptionZH, &i.Department, &i.Attribution, &i.SourceCRS,
		&i.CreatedBy, &i.SourceFile, &i.Tiles, &i.Fields, &i.Version, &i.FeatureCount,
		&i.Bounds.Min[0], &i.Bounds.Min[1], &i.Bounds.Max[0], &i.Bounds.Max[1], &i.GeometryType, &i.UpdatedAt}, extra...)
	err := row.Scan(dest...)
	i.UpdatedAt = i.UpdatedAt.UTC()
	return i, err
}

// infoValues are the values of infoColumns for info.
func infoValues(i catalog.LayerInfo) []any {
	return []any{i.ID, i.Title, i.TitleZH, i.Description, i.DescriptionZH, i.Department, i.Attribution, i.SourceCRS,
		i.CreatedBy, i.SourceFile, i.Tiles, i.Fields, i.Version, i.FeatureCount,
		i.Bounds.Min[0], i.Bounds.Min[1], i.Bounds.Max[0], i.Bounds.Max[1], i.GeometryType, i.UpdatedAt}
}

// Layers lists every layer in byte order of id, as Go compares strings.
func (s *Store) Layers(ctx context.Context) ([]catalog.LayerInfo, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+infoColumns+` FROM csdi.layers ORDER BY id COLLATE "C"`)
	if err != nil {
		return nil, fmt.Errorf("postgis: list layers: %w", err)
	}
	infos, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (catalog.LayerInfo, error) { return scanInfo(r) })
	if err != nil {
		return nil, fmt.Errorf("postgis: list layers: %w", err)
	}
	return infos, nil
}

// DeleteLayer drops a layer's tables, current and kept, and its rows in one
// transaction.
func (s *Store) DeleteLayer(ctx context.Context, id string) error {
	if err := catalog.ValidateID(id); err != nil {
		return fmt.Errorf("postgis: delete layer: %w", err)
	}
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if err := lockLayer(ctx, tx, id); err != nil {
			return err
		}
		var data int64
		err := tx.QueryRow(ctx, "DELETE FROM csdi.layers WHERE id = $1 RETURNING coalesce(data_version, version)", id).Scan(&data)
		if errors.Is(err, pgx.ErrNoRows) {
			return catalog.ErrNotFound
		}
		if err != nil {
			return fmt.Errorf("delete metadata: %w", err)
		}
		rows, err := tx.Query(ctx, "DELETE FROM csdi.versions WHERE id = $1 RETURNING data_version", id)
		if err != nil {
			return fmt.Errorf("delete history: %w", err)
		}
		kept, err := pgx.CollectRows(rows, pgx.RowTo[int64])
		if err != nil {
			return fmt.Errorf("delete history: %w", err)
		}
		drop := []string{layerTable(id)}
		for _, v := range kept {
			if v != data {
				drop = append(drop, historyTable(id, v))
			}
		}
		for _, t := range drop {
			if _, err := tx.Exec(ctx, "DROP TABLE IF EXISTS "+t); err != nil {
				return fmt.Errorf("drop table %s: %w", t, err)
			}
		}
		return notify(ctx, tx, id)
	})
	if err != nil {
		return fmt.Errorf("postgis: delete layer %q: %w", id, err)
	}
	return nil
}

// Ping checks that the database answers.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.pool.Ping(ctx); err != nil {
		return fmt.Errorf("postgis: ping: %w", err)
	}
	return nil
}

// Close closes every connection; it waits for queries in progress.
func (s *Store) Close() error {
	s.pool.Close()
	return nil
}

func layerTable(id string) string { return pgx.Identifier{dataSchema, id}.Sanitize() }

// historyName is the name of the table that keeps the data of version v of
// layer id in historySchema. PostgreSQL cuts names at 63 bytes, so a long id
// is shortened; the version alone is unique. The name is kept to 62 bytes so
// that its array type, "_" + the name, is not cut either and keeps the '@'
// (see moveBack).
func historyName(id string, v int64) string {
	suffix := "@" + strconv.FormatInt(v, 10)
	return id[:min(len(id), 62-len(suffix))] + suffix
}

func historyTable(id string, v int64) string {
	return pgx.Identifier{historySchema, historyName(id, v)}.Sanitize()
}

// lockLayer serialises the writers of one layer, so that versions count up
// one by one and two first imports of a layer do not race to create it.
func lockLayer(ctx context.Context, tx pgx.Tx, id string) error {
	if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1, hashtext($2))", int32(lockClass), id); err != nil {
		return fmt.Errorf("lock layer: %w", err)
	}
	return nil
}

func notify(ctx context.Context, tx pgx.Tx, id string) error {
	if _, err := tx.Exec(ctx, "SELECT pg_notify($1, $2)", Channel, id); err != nil {
		return fmt.Errorf("notify %s: %w", Channel, err)
	}
	return nil
}

// rollback ends a transaction that did not commit. It gets a context of its
// own: the caller's may be the reason for the failure.
func rollback(ctx context.Context, tx pgx.Tx) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	_ = tx.Rollback(ctx) // the server rolls back anyway once the connection is gone
}

func isCode(err error, code string) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == code
}
