package postgis_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/csdi-hk/csdi/catalog"
	"github.com/csdi-hk/csdi/catalog/postgis"
	"github.com/csdi-hk/csdi/catalog/storetest"
	"github.com/csdi-hk/csdi/internal/testenv"
)

// TestKilledProcess kills a process in the middle of its COPY: the server
// notices the closed connection, rolls back, and releases the layer's lock.
func TestKilledProcess(t *testing.T) {
	var pid int32
	storetest.KillMidReplace(t, storetest.Kill{
		Where: func(t *testing.T) string { return testenv.PostGIS(t) },
		Open: func(t testing.TB, where string) catalog.Store {
			s, err := postgis.Open(context.Background(), where)
			if err != nil {
				t.Fatalf("open: %v", err)
			}
			return s
		},
		During: func(t *testing.T, where string) {
			admin := connect(t, where)
			deadline := time.Now().Add(10 * time.Second)
			for {
				err := admin.QueryRow(t.Context(), `SELECT pid FROM pg_stat_activity
					WHERE datname = current_database() AND pid <> pg_backend_pid() AND query ILIKE 'copy %'`).Scan(&pid)
				if err == nil {
					return
				}
				if !errors.Is(err, pgx.ErrNoRows) || time.Now().After(deadline) {
					t.Fatalf("find the child's backend running COPY: %v", err)
				}
				time.Sleep(10 * time.Millisecond)
			}
		},
		After: func(t *testing.T, where string) {
			admin := connect(t, where)
			deadline := time.Now().Add(30 * time.Second)
			for {
				var n int
				if err := admin.QueryRow(t.Context(), "SELECT count(*) FROM pg_stat_activity WHERE pid = $1", pid).Scan(&n); err != nil {
					t.Fatal(err)
				}
				if n == 0 {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("the killed child's backend %d is still there after 30s", pid)
				}
				time.Sleep(20 * time.Millisecond)
			}
			got := tables(t, admin)
			if len(got) != 5 || !slices.Equal(got[:4], []string{"csdi.layers", "csdi.tokens", "csdi.versions", "csdi_data.victim"}) ||
				!strings.HasPrefix(got[4], "csdi_history.victim@") {
				t.Errorf("tables after the kill %q, want the store's, victim and one kept version", got)
			}
		},
	})
}

// TestHistoryTables follows the kept tables through replaces, rollbacks and
// deletes, with ids long enough that their kept tables' names are cut.
func TestHistoryTables(t *testing.T) {
	url := testenv.PostGIS(t)
	s := open(t, url)
	c := connect(t, url)
	long := strings.Repeat("a", 63)
	ids := []string{"roads", long, long[:62] + "b"}
	var made [3][]catalog.LayerInfo
	for round := range 3 {
		for i, id := range ids {
			info, err := s.ReplaceLayer(t.Context(), catalog.LayerInfo{ID: id}, seq(points(round+1, int64(round))))
			if err != nil {
				t.Fatalf("replace %s: %v", id, err)
			}
			made[i] = append(made[i], info)
		}
	}
	kept := func(id string, v int64) string {
		suffix := fmt.Sprintf("@%d", v)
		return "csdi_history." + id[:min(len(id), 62-len(suffix))] + suffix
	}
	history := func() []string {
		var out []string
		for _, name := range tables(t, c) {
			if strings.HasPrefix(name, "csdi_history.") {
				out = append(out, name)
			}
		}
		return out
	}
	var want []string
	for i, id := range ids {
		want = append(want, kept(id, made[i][1].Version))
	}
	slices.Sort(want)
	if got := history(); !slices.Equal(got, want) {
		t.Errorf("kept tables %q, want %q", got, want)
	}
	for i, id := range ids {
		if _, err := s.Rollback(t.Context(), id, made[i][1].Version); err != nil {
			t.Fatalf("roll back %s: %v", id, err)
		}
		checkVersion(t, s, id, 2, 1)
	}
	if err := s.DeleteLayer(t.Context(), long); err != nil {
		t.Fatal(err)
	}
	want = []string{kept(ids[2], made[2][2].Version), kept("roads", made[0][2].Version)}
	slices.Sort(want)
	if got := history(); !slices.Equal(got, want) {
		t.Errorf("kept tables after deleting one layer %q, want %q", got, want)
	}
	checkVersion(t, s, ids[2], 2, 1)

	url1 := testenv.PostGIS(t)
	one, err := postgis.OpenWith(t.Context(), url1, postgis.Options{Keep: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer one.Close()
	for round := range 3 {
		if _, err := one.ReplaceLayer(t.Context(), catalog.LayerInfo{ID: "roads"}, seq(points(round+1, int64(round)))); err != nil {
			t.Fatal(err)
		}
	}
	if got, want := tables(t, connect(t, url1)), []string{"csdi.layers", "csdi.tokens", "csdi.versions", "csdi_data.roads"}; !slices.Equal(got, want) {
		t.Errorf("tables keeping 1: %q, want %q", got, want)
	}
	if _, err := postgis.OpenWith(t.Context(), url1, postgis.Options{Keep: -1}); err == nil {
		t.Error("keep -1: no error")
	}
}

// TestOldDatabase opens a database as the store made it before versions,
// tokens and tile options existed, then checks a later open does not lock
// out readers to migrate again.
func TestOldDatabase(t *testing.T) {
	url := testenv.PostGIS(t)
	s := open(t, url)
	v1, err := s.ReplaceLayer(t.Context(), catalog.LayerInfo{ID: "roads", Title: "Roads"}, seq(points(3, 1)))
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	c := connect(t, url)
	if _, err := c.Exec(t.Context(), `
ALTER TABLE csdi.layers DROP COLUMN created_by, DROP COLUMN source_file, DROP COLUMN tiles, DROP COLUMN data_version;
DROP TABLE csdi.versions;
DROP TABLE csdi.tokens;
DROP SCHEMA csdi_history`); err != nil {
		t.Fatal(err)
	}

	s = open(t, url)
	ls, err := s.Layers(t.Context())
	if err != nil || len(ls) != 1 || ls[0].Version != v1.Version || ls[0].Tiles.Properties != nil || ls[0].CreatedBy != "" {
		t.Fatalf("layers of an old database: %+v %v", ls, err)
	}
	h, err := s.History(t.Context(), "roads")
	if err != nil || len(h) != 1 || h[0].Version != v1.Version || h[0].DataVersion != v1.Version || !h[0].Current {
		t.Fatalf("history of an old database: %+v %v", h, err)
	}
	if _, err := s.ReplaceLayer(t.Context(), catalog.LayerInfo{ID: "roads", Title: "Roads 2", CreatedBy: "me"}, seq(points(5, 2))); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Rollback(t.Context(), "roads", v1.Version); err != nil {
		t.Fatal(err)
	}
	checkVersion(t, s, "roads", 3, 1)
	if err := s.CreateToken(t.Context(), "Lands", make([]byte, catalog.TokenHashSize)); err != nil {
		t.Fatal(err)
	}

	// A reader in the middle of a long read: opening again must not wait
	// for it (an ALTER TABLE would, and every reader after it would queue).
	tx, err := c.Begin(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(context.Background())
	if _, err := tx.Exec(t.Context(), "LOCK TABLE csdi.layers IN ACCESS SHARE MODE"); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	again, err := postgis.Open(ctx, url)
	if err != nil {
		t.Fatalf("open while a reader holds csdi.layers: %v", err)
	}
	again.Close()
}
