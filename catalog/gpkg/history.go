package gpkg

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	"github.com/csdi-hk/csdi/catalog"
)

// stored is one version of a layer as csdi_layers or csdi_versions hold it.
type stored struct {
	info    catalog.LayerInfo
	js      string // info as stored
	columns string // JSON list of the column of each field
	data    int64  // the version whose data it serves
}

func scanStored(row interface{ Scan(...any) error }) (stored, error) {
	var v stored
	if err := row.Scan(&v.js, &v.columns, &v.data); err != nil {
		return v, err
	}
	if err := json.Unmarshal([]byte(v.js), &v.info); err != nil {
		return v, fmt.Errorf("metadata: %w", err)
	}
	return v, nil
}

// current reads the current version of a layer; catalog.ErrNotFound if there
// is none.
func current(ctx context.Context, tx *sql.Tx, id string) (stored, error) {
	v, err := scanStored(tx.QueryRowContext(ctx, "SELECT info, columns, coalesce(data, version) FROM csdi_layers WHERE id = ?", id))
	if errors.Is(err, sql.ErrNoRows) {
		return v, fmt.Errorf("layer %q: %w", id, catalog.ErrNotFound)
	}
	if err != nil {
		return v, fmt.Errorf("read the current version of layer %q: %w", id, err)
	}
	return v, nil
}

// historyName is the name of the table that keeps the data of version v of
// layer id.
func historyName(id string, v int64) string { return id + "@" + strconv.FormatInt(v, 10) }

// archive makes the current version of a layer a kept one: its row moves to
// csdi_versions and, if move, its table is renamed and no longer
// registered. The caller then writes a new current version.
func (s *Store) archive(ctx context.Context, tx *sql.Tx, cur stored, move bool) error {
	id := cur.info.ID
	if _, err := tx.ExecContext(ctx, "INSERT INTO csdi_versions (version, id, data, info, columns) VALUES (?, ?, ?, ?, ?)",
		cur.info.Version, id, cur.data, cur.js, cur.columns); err != nil {
		return fmt.Errorf("keep version %d: %w", cur.info.Version, err)
	}
	if _, err := tx.ExecContext(ctx, "DELETE FROM csdi_layers WHERE id = ?", id); err != nil {
		return fmt.Errorf("keep version %d: %w", cur.info.Version, err)
	}
	if !move {
		return nil
	}
	if err := unregister(ctx, tx, id); err != nil {
		return fmt.Errorf("keep the data of version %d: %w", cur.data, err)
	}
	if _, err := tx.ExecContext(ctx, "ALTER TABLE "+quote(id)+" RENAME TO "+quote(historyName(id, cur.data))); err != nil {
		return fmt.Errorf("keep the data of version %d: %w", cur.data, err)
	}
	return nil
}

// commit forgets the versions of a layer beyond Keep and commits.
func (s *Store) commit(ctx context.Context, tx *sql.Tx, id string) error {
	var data int64
	if err := tx.QueryRowContext(ctx, "SELECT coalesce(data, version) FROM csdi_layers WHERE id = ?", id).Scan(&data); err != nil {
		return fmt.Errorf("read the current version: %w", err)
	}
	rows, err := tx.QueryContext(ctx, "SELECT version, data FROM csdi_versions WHERE id = ? ORDER BY version DESC", id)
	if err != nil {
		return fmt.Errorf("list kept versions: %w", err)
	}
	var kept [][2]int64
	for rows.Next() {
		var k [2]int64
		if err := rows.Scan(&k[0], &k[1]); err != nil {
			rows.Close()
			return fmt.Errorf("list kept versions: %w", err)
		}
		kept = append(kept, k)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("list kept versions: %w", err)
	}
	// The current version is one of Keep. A table goes when no version
	// left serves its data.
	used := map[int64]bool{data: true}
	for i, k := range kept {
		if i < s.keep-1 {
			used[k[1]] = true
		}
	}
	for _, k := range kept[min(len(kept), s.keep-1):] {
		if _, err := tx.ExecContext(ctx, "DELETE FROM csdi_versions WHERE version = ?", k[0]); err != nil {
			return fmt.Errorf("forget version %d: %w", k[0], err)
		}
		if !used[k[1]] {
			used[k[1]] = true
			if _, err := tx.ExecContext(ctx, "DROP TABLE IF EXISTS "+quote(historyName(id, k[1]))); err != nil {
				return fmt.Errorf("drop the data of version %d: %w", k[1], err)
			}
		}
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// UpdateInfo writes new metadata for the current data as a new version.
func (s *Store) UpdateInfo(ctx context.Context, info catalog.LayerInfo) (catalog.LayerInfo, error) {
	out, err := s.update(ctx, info)
	if err != nil {
		return catalog.LayerInfo{}, fmt.Errorf("update layer %q in %q: %w", info.ID, s.path, err)
	}
	return out, nil
}

func (s *Store) update(ctx context.Context, info catalog.LayerInfo) (catalog.LayerInfo, error) {
	if err := info.Tiles.Validate(); err != nil {
		return info, err
	}
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return info, err
	}
	defer tx.Rollback()
	cur, err := current(ctx, tx, info.ID)
	if err != nil {
		return info, err
	}
	next := catalog.Edit(cur.info, info)
	if err := next.Tiles.ValidateFields(next.Fields); err != nil {
		return info, err
	}
	if err := s.archive(ctx, tx, cur, false); err != nil {
		return info, err
	}
	if err := nextVersion(ctx, tx, &next); err != nil {
		return info, err
	}
	if err := updateContents(ctx, tx, next); err != nil {
		return info, err
	}
	if err := setCurrent(ctx, tx, next, cur.columns, cur.data); err != nil {
		return info, err
	}
	return next, s.commit(ctx, tx, info.ID)
}

// updateContents brings the registry row of a layer whose table stays up to
// date with new metadata.
func updateContents(ctx context.Context, tx *sql.Tx, info catalog.LayerInfo) error {
	ident, desc, err := contents(ctx, tx, info)
	if err == nil {
		_, err = tx.ExecContext(ctx, "UPDATE gpkg_contents SET identifier = ?, description = ?, last_change = ? WHERE table_name = ?",
			ident, desc, info.UpdatedAt.Format(dateTimeFormat), info.ID)
	}
	if err != nil {
		return fmt.Errorf("update gpkg_contents: %w", err)
	}
	return nil
}

// Rollback makes a kept version current again as a new version. Its table
// is renamed back and the current one kept, so nothing is copied.
func (s *Store) Rollback(ctx context.Context, id string, version int64) (catalog.LayerInfo, error) {
	out, err := s.rollback(ctx, id, version)
	if err != nil {
		return catalog.LayerInfo{}, fmt.Errorf("roll back layer %q in %q to version %d: %w", id, s.path, version, err)
	}
	return out, nil
}

func (s *Store) rollback(ctx context.Context, id string, version int64) (catalog.LayerInfo, error) {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return catalog.LayerInfo{}, err
	}
	defer tx.Rollback()
	cur, err := current(ctx, tx, id)
	if err != nil {
		return catalog.LayerInfo{}, err
	}
	target := cur
	if version != cur.info.Version {
		target, err = scanStored(tx.QueryRowContext(ctx, "SELECT info, columns, data FROM csdi_versions WHERE id = ? AND version = ?", id, version))
		if errors.Is(err, sql.ErrNoRows) {
			kept := []int64{cur.info.Version}
			rows, err := tx.QueryContext(ctx, "SELECT version FROM csdi_versions WHERE id = ? ORDER BY version DESC", id)
			if err != nil {
				return catalog.LayerInfo{}, fmt.Errorf("list kept versions: %w", err)
			}
			defer rows.Close()
			for rows.Next() {
				var v int64
				if err := rows.Scan(&v); err != nil {
					return catalog.LayerInfo{}, fmt.Errorf("list kept versions: %w", err)
				}
				kept = append(kept, v)
			}
			return catalog.LayerInfo{}, catalog.NotKept(version, kept, s.keep)
		}
		if err != nil {
			return catalog.LayerInfo{}, fmt.Errorf("read version %d: %w", version, err)
		}
	}
	move := target.data != cur.data
	if err := s.archive(ctx, tx, cur, move); err != nil {
		return catalog.LayerInfo{}, err
	}
	next := target.info
	next.ID = id
	if err := nextVersion(ctx, tx, &next); err != nil {
		return catalog.LayerInfo{}, err
	}
	if move {
		if _, err := tx.ExecContext(ctx, "ALTER TABLE "+quote(historyName(id, target.data))+" RENAME TO "+quote(id)); err != nil {
			return catalog.LayerInfo{}, fmt.Errorf("bring back the data of version %d: %w", target.data, err)
		}
		var geomType string
		if err := tx.QueryRowContext(ctx, "SELECT type FROM pragma_table_info(?) WHERE name = 'geom'", id).Scan(&geomType); err != nil {
			return catalog.LayerInfo{}, fmt.Errorf("geometry type of the data of version %d: %w", target.data, err)
		}
		err = registerTable(ctx, tx, next, geomType)
	} else {
		err = updateContents(ctx, tx, next)
	}
	if err != nil {
		return catalog.LayerInfo{}, err
	}
	if err := setCurrent(ctx, tx, next, target.columns, target.data); err != nil {
		return catalog.LayerInfo{}, err
	}
	return next, s.commit(ctx, tx, id)
}

// History lists the current version of a layer and the kept ones, newest first.
func (s *Store) History(ctx context.Context, id string) ([]catalog.Version, error) {
	out, err := s.history(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("history of layer %q in %q: %w", id, s.path, err)
	}
	return out, nil
}

func (s *Store) history(ctx context.Context, id string) ([]catalog.Version, error) {
	tx, err := s.r.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	cur, err := current(ctx, tx, id)
	if err != nil {
		return nil, err
	}
	out := []catalog.Version{catalog.VersionOf(cur.info, cur.data, true)}
	rows, err := tx.QueryContext(ctx, "SELECT info, columns, data FROM csdi_versions WHERE id = ? ORDER BY version DESC", id)
	if err != nil {
		return nil, fmt.Errorf("list kept versions: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		v, err := scanStored(rows)
		if err != nil {
			return nil, fmt.Errorf("list kept versions: %w", err)
		}
		out = append(out, catalog.VersionOf(v.info, v.data, false))
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list kept versions: %w", err)
	}
	return out, nil
}
