package postgis_test

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/paulmach/orb"

	"github.com/csdi-hk/csdi/catalog"
	"github.com/csdi-hk/csdi/catalog/postgis"
	"github.com/csdi-hk/csdi/catalog/storetest"
	"github.com/csdi-hk/csdi/geo"
	"github.com/csdi-hk/csdi/internal/testenv"
)

func TestStore(t *testing.T) {
	storetest.Run(t, func(t *testing.T, keep int) catalog.Store {
		s, err := postgis.OpenWith(t.Context(), testenv.PostGIS(t), postgis.Options{Keep: keep})
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}

func open(t testing.TB, url string) *postgis.Store {
	t.Helper()
	s, err := postgis.Open(t.Context(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func connect(t testing.TB, url string) *pgx.Conn {
	t.Helper()
	c, err := pgx.Connect(t.Context(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close(context.Background()) })
	return c
}

func points(n int, v int64) []geo.Feature {
	var fs []geo.Feature
	for i := range n {
		fs = append(fs, geo.Feature{
			ID:         uint64(i + 1),
			Geometry:   orb.Point{114 + float64(i)*1e-5, 22.3},
			Properties: map[string]any{"v": v},
		})
	}
	return fs
}

func seq(fs []geo.Feature) iter.Seq2[geo.Feature, error] {
	return func(yield func(geo.Feature, error) bool) {
		for _, f := range fs {
			if !yield(f, nil) {
				return
			}
		}
	}
}

// tables lists every table in the store's schemas, staging and kept tables included.
func tables(t *testing.T, c *pgx.Conn) []string {
	t.Helper()
	rows, err := c.Query(t.Context(), `SELECT n.nspname || '.' || c.relname FROM pg_class c
		JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE n.nspname IN ('csdi', 'csdi_data', 'csdi_history') AND c.relkind IN ('r', 'p') ORDER BY 1`)
	if err != nil {
		t.Fatal(err)
	}
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	return names
}

// checkVersion reads layer id and checks it holds n features all of version v.
func checkVersion(t *testing.T, s catalog.Store, id string, n int, v int64) {
	t.Helper()
	count := 0
	_, err := s.ReadLayer(t.Context(), id, func(f geo.Feature) error {
		count++
		if f.Properties["v"] != v {
			return fmt.Errorf("feature %d has v=%v, want %d", f.ID, f.Properties["v"], v)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("read %s: %v", id, err)
	}
	if count != n {
		t.Fatalf("read %d features of %s, want %d", count, id, n)
	}
}

func TestFailedReplaceLeavesNoDebris(t *testing.T) {
	url := testenv.PostGIS(t)
	s := open(t, url)
	c := connect(t, url)
	v0, err := s.ReplaceLayer(t.Context(), catalog.LayerInfo{ID: "roads"}, seq(points(5, 0)))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.ReplaceLayer(t.Context(), catalog.LayerInfo{ID: "roads"}, seq(points(10, 1))); err != nil {
		t.Fatal(err)
	}
	want := []string{"csdi.layers", "csdi.tokens", "csdi.versions", "csdi_data.roads", fmt.Sprintf("csdi_history.roads@%d", v0.Version)}
	if got := tables(t, c); !slices.Equal(got, want) {
		t.Fatalf("tables after two good replaces %q, want %q", got, want)
	}
	hist, err := s.History(t.Context(), "roads")
	if err != nil || len(hist) != 2 {
		t.Fatalf("history: %+v %v", hist, err)
	}
	dup := append(points(10, 2), points(1, 2)...)
	boom := errors.New("boom")
	for name, feats := range map[string]iter.Seq2[geo.Feature, error]{
		"duplicate": seq(dup),
		"source error": func(yield func(geo.Feature, error) bool) {
			_ = yield(points(1, 2)[0], nil) && yield(geo.Feature{}, boom)
		},
	} {
		for _, id := range []string{"roads", "fresh"} {
			if _, err := s.ReplaceLayer(t.Context(), catalog.LayerInfo{ID: id}, feats); err == nil {
				t.Fatalf("%s: replace of %s did not fail", name, id)
			}
			if got := tables(t, c); !slices.Equal(got, want) {
				t.Errorf("%s: tables after a failed replace of %s %q, want %q", name, id, got, want)
			}
			if got, err := s.History(t.Context(), "roads"); err != nil || !slices.Equal(got, hist) {
				t.Errorf("%s: history after a failed replace of %s %+v (%v), want %+v", name, id, got, err, hist)
			}
		}
	}
	checkVersion(t, s, "roads", 10, 1)
}

// TestAwkwardIDs uses layer ids that are SQL keywords or the name of the
// store's own catalog table.
func TestAwkwardIDs(t *testing.T) {
	url := testenv.PostGIS(t)
	s := open(t, url)
	c := connect(t, url)
	ids := []string{"layers", "select", "user", "order", "pg_class", "csdi"}
	for i, id := range ids {
		if _, err := s.ReplaceLayer(t.Context(), catalog.LayerInfo{ID: id, Title: `x"y'z`}, seq(points(i+1, int64(i)))); err != nil {
			t.Fatalf("replace %s: %v", id, err)
		}
	}
	for i, id := range ids {
		checkVersion(t, s, id, i+1, int64(i))
	}
	var n int
	if err := c.QueryRow(t.Context(), "SELECT count(*) FROM csdi_data.layers").Scan(&n); err != nil || n != 1 {
		t.Errorf("csdi_data.layers holds %d rows (%v), want 1", n, err)
	}
	ls, err := s.Layers(t.Context())
	if err != nil || len(ls) != len(ids) {
		t.Fatalf("layers: %d listed (%v), want %d", len(ls), err, len(ids))
	}
	if err := s.DeleteLayer(t.Context(), "layers"); err != nil {
		t.Fatal(err)
	}
	if ls, err := s.Layers(t.Context()); err != nil || len(ls) != len(ids)-1 {
		t.Fatalf("after deleting layer \"layers\": %d listed (%v), want %d", len(ls), err, len(ids)-1)
	}
}

// TestKilledConnection terminates the backend of a replace in the middle of
// its COPY, as a database restart or a network cut would.
func TestKilledConnection(t *testing.T) {
	url := testenv.PostGIS(t)
	s := open(t, url)
	admin := connect(t, url)
	v0, err := s.ReplaceLayer(t.Context(), catalog.LayerInfo{ID: "roads"}, seq(points(10, 0)))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.ReplaceLayer(t.Context(), catalog.LayerInfo{ID: "roads"}, seq(points(1000, 1))); err != nil {
		t.Fatal(err)
	}
	hist, err := s.History(t.Context(), "roads")
	if err != nil {
		t.Fatal(err)
	}
	blocked, release := make(chan struct{}), make(chan struct{})
	done := make(chan error, 1)
	go func() {
		v2 := points(5000, 2)
		_, err := s.ReplaceLayer(t.Context(), catalog.LayerInfo{ID: "roads"}, func(yield func(geo.Feature, error) bool) {
			for i, f := range v2 {
				if i == 2500 {
					close(blocked)
					<-release
				}
				if !yield(f, nil) {
					return
				}
			}
		})
		done <- err
	}()
	<-blocked
	var pid int32
	deadline := time.Now().Add(10 * time.Second)
	for {
		err := admin.QueryRow(t.Context(), `SELECT pid FROM pg_stat_activity
			WHERE datname = current_database() AND pid <> pg_backend_pid() AND query ILIKE 'copy %'`).Scan(&pid)
		if err == nil {
			break
		}
		if !errors.Is(err, pgx.ErrNoRows) || time.Now().After(deadline) {
			close(release)
			t.Fatalf("find the backend running COPY: %v", err)
		}
		time.Sleep(10 * time.Millisecond)
	}
	var ok bool
	if err := admin.QueryRow(t.Context(), "SELECT pg_terminate_backend($1, 10000)", pid).Scan(&ok); err != nil || !ok {
		close(release)
		t.Fatalf("terminate backend %d: %v %v", pid, ok, err)
	}
	close(release)
	if err := <-done; err == nil {
		t.Fatal("replace over a terminated connection did not fail")
	} else {
		t.Logf("replace failed as it should: %v", err)
	}
	checkVersion(t, s, "roads", 1000, 1)
	want := []string{"csdi.layers", "csdi.tokens", "csdi.versions", "csdi_data.roads", fmt.Sprintf("csdi_history.roads@%d", v0.Version)}
	if got := tables(t, admin); !slices.Equal(got, want) {
		t.Errorf("tables %q, want %q", got, want)
	}
	if got, err := s.History(t.Context(), "roads"); err != nil || !slices.Equal(got, hist) {
		t.Errorf("history after the lost connection %+v (%v), want %+v", got, err, hist)
	}
	// The pool drops the dead connection and carries on.
	if _, err := s.ReplaceLayer(t.Context(), catalog.LayerInfo{ID: "roads"}, seq(points(10, 3))); err != nil {
		t.Fatal(err)
	}
	checkVersion(t, s, "roads", 10, 3)
}

// TestConcurrentOpen opens a database without PostGIS or the store's schema
// from several processes' worth of pools at once.
func TestConcurrentOpen(t *testing.T) {
	url := testenv.PostGIS(t)
	c := connect(t, url)
	if _, err := c.Exec(t.Context(), "DROP EXTENSION postgis"); err != nil {
		t.Fatal(err)
	}
	const n = 6
	var wg sync.WaitGroup
	errs := make([]error, n)
	stores := make([]*postgis.Store, n)
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			stores[i], errs[i] = postgis.Open(t.Context(), url)
		})
	}
	close(start)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("open %d: %v", i, err)
			continue
		}
		defer stores[i].Close()
	}
	if t.Failed() {
		return
	}
	if _, err := stores[0].ReplaceLayer(t.Context(), catalog.LayerInfo{ID: "roads"}, seq(points(3, 1))); err != nil {
		t.Fatal(err)
	}
	checkVersion(t, stores[n-1], "roads", 3, 1)
}

// TestNotify listens as another replica would: each committed change is
// announced once, and a failed replace not at all.
func TestNotify(t *testing.T) {
	url := testenv.PostGIS(t)
	s := open(t, url)
	l := connect(t, url)
	if _, err := l.Exec(t.Context(), "LISTEN "+postgis.Channel); err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	if _, err := s.ReplaceLayer(ctx, catalog.LayerInfo{ID: "roads"}, seq(points(3, 1))); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ReplaceLayer(ctx, catalog.LayerInfo{ID: "roads"}, seq(append(points(3, 1), points(1, 1)...))); err == nil {
		t.Fatal("replace with a duplicate id did not fail")
	}
	paths, err := s.ReplaceLayer(ctx, catalog.LayerInfo{ID: "paths"}, seq(points(3, 1)))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.UpdateInfo(ctx, catalog.LayerInfo{ID: "paths", Title: "Paths"}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.UpdateInfo(ctx, catalog.LayerInfo{ID: "paths", Tiles: catalog.TileOptions{MinZoom: 99}}); err == nil {
		t.Fatal("update with minzoom 99 did not fail")
	}
	if _, err := s.Rollback(ctx, "paths", paths.Version); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Rollback(ctx, "paths", 12345); err == nil {
		t.Fatal("rollback to a version never made did not fail")
	}
	if err := s.DeleteLayer(ctx, "roads"); err != nil {
		t.Fatal(err)
	}
	var got []string
	for range 5 {
		wctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		n, err := l.WaitForNotification(wctx)
		cancel()
		if err != nil {
			t.Fatalf("after %q: %v", got, err)
		}
		got = append(got, n.Payload)
	}
	if want := []string{"roads", "paths", "paths", "paths", "roads"}; !slices.Equal(got, want) {
		t.Errorf("notifications %q, want %q", got, want)
	}
	wctx, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
	defer cancel()
	if n, err := l.WaitForNotification(wctx); err == nil {
		t.Errorf("unexpected notification %q", n.Payload)
	}
}
