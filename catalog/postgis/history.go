package postgis

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/csdi-hk/csdi/catalog"
)

// current reads the current version of a layer and the version whose data
// it serves; catalog.ErrNotFound if there is none.
func current(ctx context.Context, tx pgx.Tx, id string) (catalog.LayerInfo, int64, error) {
	var data int64
	info, err := scanInfo(tx.QueryRow(ctx, "SELECT "+infoColumns+", coalesce(data_version, version) FROM csdi.layers WHERE id = $1", id), &data)
	if errors.Is(err, pgx.ErrNoRows) {
		return info, 0, catalog.ErrNotFound
	}
	if err != nil {
		return info, 0, fmt.Errorf("read the current version: %w", err)
	}
	return info, data, nil
}

// archive makes the current version of a layer a kept one: its metadata
// goes to csdi.versions and, if move, its table to the history schema. The
// caller then writes a new current version.
func (s *Store) archive(ctx context.Context, tx pgx.Tx, cur catalog.LayerInfo, data int64, move bool) error {
	if _, err := tx.Exec(ctx, "INSERT INTO csdi.versions (id, version, data_version, info) VALUES ($1, $2, $3, $4)",
		cur.ID, cur.Version, data, cur); err != nil {
		return fmt.Errorf("keep version %d: %w", cur.Version, err)
	}
	if !move {
		return nil
	}
	// The schema first, the name after: see moveBack.
	for _, q := range []string{
		"ALTER TABLE " + layerTable(cur.ID) + " SET SCHEMA " + historySchema,
		"ALTER TABLE " + pgx.Identifier{historySchema, cur.ID}.Sanitize() + " RENAME TO " + pgx.Identifier{historyName(cur.ID, data)}.Sanitize(),
	} {
		if _, err := tx.Exec(ctx, q); err != nil {
			return fmt.Errorf("move the data of version %d to %s: %w", data, historySchema, err)
		}
	}
	return nil
}

// setCurrent writes info as the current version of its layer, serving the
// data of version data (0: its own), and returns it with its new version.
// The version and clock_timestamp (not now()) are read under the layer
// lock, so they grow in the order in which versions of a layer commit.
// Versions come from one sequence rather than old+1, so a layer deleted and
// made again never reuses a version that a replica may still hold.
func (s *Store) setCurrent(ctx context.Context, tx pgx.Tx, info catalog.LayerInfo, data int64) (catalog.LayerInfo, error) {
	if err := tx.QueryRow(ctx, "SELECT nextval('csdi.layer_version'), clock_timestamp()").Scan(&info.Version, &info.UpdatedAt); err != nil {
		return info, fmt.Errorf("next version: %w", err)
	}
	info.UpdatedAt = info.UpdatedAt.UTC()
	if data == 0 {
		data = info.Version
	}
	vals := append(infoValues(info), data)
	params := "$1"
	for i := 2; i <= len(vals); i++ {
		params += fmt.Sprintf(", $%d", i)
	}
	if _, err := tx.Exec(ctx, "DELETE FROM csdi.layers WHERE id = $1", info.ID); err != nil {
		return info, fmt.Errorf("write metadata: %w", err)
	}
	if _, err := tx.Exec(ctx, "INSERT INTO csdi.layers ("+infoColumns+", data_version) VALUES ("+params+")", vals...); err != nil {
		return info, fmt.Errorf("write metadata: %w", err)
	}
	return info, nil
}

// commit forgets the versions of a layer beyond Keep, announces the change
// and commits.
func (s *Store) commit(ctx context.Context, tx pgx.Tx, id string) error {
	var data int64
	if err := tx.QueryRow(ctx, "SELECT coalesce(data_version, version) FROM csdi.layers WHERE id = $1", id).Scan(&data); err != nil {
		return fmt.Errorf("read the current version: %w", err)
	}
	rows, err := tx.Query(ctx, "SELECT version, data_version FROM csdi.versions WHERE id = $1 ORDER BY version DESC", id)
	if err != nil {
		return fmt.Errorf("list kept versions: %w", err)
	}
	var kept [][2]int64
	var v, d int64
	if _, err := pgx.ForEachRow(rows, []any{&v, &d}, func() error {
		kept = append(kept, [2]int64{v, d})
		return nil
	}); err != nil {
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
		if _, err := tx.Exec(ctx, "DELETE FROM csdi.versions WHERE id = $1 AND version = $2", id, k[0]); err != nil {
			return fmt.Errorf("forget version %d: %w", k[0], err)
		}
		if !used[k[1]] {
			used[k[1]] = true
			if _, err := tx.Exec(ctx, "DROP TABLE IF EXISTS "+historyTable(id, k[1])); err != nil {
				return fmt.Errorf("drop the data of version %d: %w", k[1], err)
			}
		}
	}
	if err := notify(ctx, tx, id); err != nil {
		return err
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// UpdateInfo writes new metadata for the current data as a new version.
func (s *Store) UpdateInfo(ctx context.Context, info catalog.LayerInfo) (catalog.LayerInfo, error) {
	if err := catalog.ValidateID(info.ID); err != nil {
		return catalog.LayerInfo{}, fmt.Errorf("postgis: update layer: %w", err)
	}
	out, err := s.update(ctx, info)
	if err != nil {
		return catalog.LayerInfo{}, fmt.Errorf("postgis: update layer %q: %w", info.ID, err)
	}
	return out, nil
}

func (s *Store) update(ctx context.Context, info catalog.LayerInfo) (catalog.LayerInfo, error) {
	if err := info.Tiles.Validate(); err != nil {
		return info, err
	}
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return info, fmt.Errorf("begin: %w", err)
	}
	defer rollback(ctx, tx)
	if err := lockLayer(ctx, tx, info.ID); err != nil {
		return info, err
	}
	cur, data, err := current(ctx, tx, info.ID)
	if err != nil {
		return info, err
	}
	next := catalog.Edit(cur, info)
	if err := next.Tiles.ValidateFields(next.Fields); err != nil {
		return info, err
	}
	if err := s.archive(ctx, tx, cur, data, false); err != nil {
		return info, err
	}
	if next, err = s.setCurrent(ctx, tx, next, data); err != nil {
		return info, err
	}
	return next, s.commit(ctx, tx, info.ID)
}

// History lists the current version of a layer and the kept ones, newest first.
func (s *Store) History(ctx context.Context, id string) ([]catalog.Version, error) {
	if err := catalog.ValidateID(id); err != nil {
		return nil, fmt.Errorf("postgis: history: %w", err)
	}
	out, err := s.history(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("postgis: history of layer %q: %w", id, err)
	}
	return out, nil
}

func (s *Store) history(ctx context.Context, id string) ([]catalog.Version, error) {
	tx, err := s.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return nil, fmt.Errorf("begin: %w", err)
	}
	defer rollback(ctx, tx)
	cur, data, err := current(ctx, tx, id)
	if err != nil {
		return nil, err
	}
	out := []catalog.Version{catalog.VersionOf(cur, data, true)}
	rows, err := tx.Query(ctx, "SELECT data_version, info FROM csdi.versions WHERE id = $1 ORDER BY version DESC", id)
	if err != nil {
		return nil, fmt.Errorf("list kept versions: %w", err)
	}
	var info catalog.LayerInfo
	if _, err := pgx.ForEachRow(rows, []any{&data, &info}, func() error {
		out = append(out, catalog.VersionOf(info, data, false))
		return nil
	}); err != nil {
		return nil, fmt.Errorf("list kept versions: %w", err)
	}
	return out, nil
}

// Rollback makes a kept version current again as a new version. Its data
// table moves back from the history schema and the current one moves there,
// so nothing is copied.
func (s *Store) Rollback(ctx context.Context, id string, version int64) (catalog.LayerInfo, error) {
	if err := catalog.ValidateID(id); err != nil {
		return catalog.LayerInfo{}, fmt.Errorf("postgis: roll back: %w", err)
	}
	out, err := s.rollback(ctx, id, version)
	if err != nil {
		return catalog.LayerInfo{}, fmt.Errorf("postgis: roll back layer %q to version %d: %w", id, version, err)
	}
	return out, nil
}

func (s *Store) rollback(ctx context.Context, id string, version int64) (catalog.LayerInfo, error) {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return catalog.LayerInfo{}, fmt.Errorf("begin: %w", err)
	}
	defer rollback(ctx, tx)
	if err := lockLayer(ctx, tx, id); err != nil {
		return catalog.LayerInfo{}, err
	}
	cur, curData, err := current(ctx, tx, id)
	if err != nil {
		return catalog.LayerInfo{}, err
	}
	target, data := cur, curData
	if version != cur.Version {
		err := tx.QueryRow(ctx, "SELECT info, data_version FROM csdi.versions WHERE id = $1 AND version = $2", id, version).Scan(&target, &data)
		if errors.Is(err, pgx.ErrNoRows) {
			rows, err := tx.Query(ctx, "SELECT version FROM csdi.versions WHERE id = $1 ORDER BY version DESC", id)
			if err != nil {
				return catalog.LayerInfo{}, fmt.Errorf("list kept versions: %w", err)
			}
			kept, err := pgx.CollectRows(rows, pgx.RowTo[int64])
			if err != nil {
				return catalog.LayerInfo{}, fmt.Errorf("list kept versions: %w", err)
			}
			return catalog.LayerInfo{}, catalog.NotKept(version, append([]int64{cur.Version}, kept...), s.keep)
		}
		if err != nil {
			return catalog.LayerInfo{}, fmt.Errorf("read version %d: %w", version, err)
		}
	}
	if err := s.archive(ctx, tx, cur, curData, data != curData); err != nil {
		return catalog.LayerInfo{}, err
	}
	if data != curData {
		if err := moveBack(ctx, tx, id, data); err != nil {
			return catalog.LayerInfo{}, err
		}
	}
	target.ID = id
	if target, err = s.setCurrent(ctx, tx, target, data); err != nil {
		return catalog.LayerInfo{}, err
	}
	return target, s.commit(ctx, tx, id)
}

// moveBack makes the kept data of version v the current table of layer id.
//
// Each table has an array type named "_" + its name, cut to 63 bytes and
// given more underscores if that is taken; RENAME picks a free name in the
// table's schema, but SET SCHEMA keeps the name and fails if the new schema
// has it. Two long ids can share the cut name, so a table moves under a name
// whose array type cannot be taken where it goes (ids have no '@', kept
// tables do) and is renamed there.
func moveBack(ctx context.Context, tx pgx.Tx, id string, v int64) error {
	for _, q := range []string{
		"ALTER TABLE " + historyTable(id, v) + " SET SCHEMA " + dataSchema,
		"ALTER TABLE " + pgx.Identifier{dataSchema, historyName(id, v)}.Sanitize() + " RENAME TO " + pgx.Identifier{id}.Sanitize(),
	} {
		if _, err := tx.Exec(ctx, q); err != nil {
			return fmt.Errorf("move the data of version %d back: %w", v, err)
		}
	}
	return nil
}
