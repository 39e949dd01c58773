package postgis_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/csdi-hk/csdi/catalog"
	"github.com/csdi-hk/csdi/catalog/postgis"
	"github.com/csdi-hk/csdi/internal/testenv"
)

// TestListen follows a listener through its first connection, changes made
// through two stores, changes that send no notification, and the loss of
// its connection.
func TestListen(t *testing.T) {
	url := testenv.PostGIS(t)
	s, other := open(t, url), open(t, url)
	admin := connect(t, url)
	ctx := t.Context()
	for _, id := range []string{"a", "b", "c", "d"} {
		if _, err := s.ReplaceLayer(ctx, catalog.LayerInfo{ID: id, Title: id}, seq(points(2, 1))); err != nil {
			t.Fatal(err)
		}
	}

	ids := make(chan string, 100)
	lctx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- s.Listen(lctx, func(id string) { ids <- id }) }()

	// expect reads the next len(want) calls, in any order, and checks that
	// no other call comes with them.
	expect := func(step string, want ...string) {
		t.Helper()
		var got []string
		timeout := time.After(5 * time.Second)
		for len(got) < len(want) {
			select {
			case id := <-ids:
				got = append(got, id)
			case <-timeout:
				t.Fatalf("%s: calls %v after 5s, want %v", step, got, want)
			}
		}
		slices.Sort(got)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Fatalf("%s: calls %v, want %v", step, got, want)
		}
	}

	expect("first connection: every layer", "a", "b", "c", "d")

	info, err := other.ReplaceLayer(ctx, catalog.LayerInfo{ID: "a", Title: "a"}, seq(points(3, 2)))
	if err != nil {
		t.Fatal(err)
	}
	expect("replace by another store", "a")
	if v, err := s.LayerVersion(ctx, "a"); err != nil || v != info.Version {
		t.Errorf("LayerVersion(a) = %d, %v; want %d", v, err, info.Version)
	}
	if err := s.DeleteLayer(ctx, "b"); err != nil {
		t.Fatal(err)
	}
	expect("own delete", "b")
	if _, err := s.LayerVersion(ctx, "b"); !errors.Is(err, catalog.ErrNotFound) {
		t.Errorf("LayerVersion of a deleted layer: %v, want ErrNotFound", err)
	}

	// The connection is lost, and the server refuses new ones for a while:
	// the listener retries. Meanwhile come changes whose notifications it
	// cannot hear: a new version of c, and d gone.
	var db string
	if err := admin.QueryRow(ctx, "SELECT current_database()").Scan(&db); err != nil {
		t.Fatal(err)
	}
	// From another database: PostgreSQL refuses this for the current one.
	cluster := connect(t, os.Getenv(testenv.URLVar))
	allow := func(on bool) {
		t.Helper()
		if _, err := cluster.Exec(context.WithoutCancel(ctx), fmt.Sprintf("ALTER DATABASE %s ALLOW_CONNECTIONS %t", pgx.Identifier{db}.Sanitize(), on)); err != nil {
			t.Fatal(err)
		}
	}
	allow(false)
	t.Cleanup(func() { allow(true) })
	var killed int
	err = admin.QueryRow(ctx, `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
		WHERE application_name = $1 AND datname = current_database()`, postgis.ListenApplicationName).Scan(&killed)
	if err != nil || killed != 1 {
		t.Fatalf("terminate the listening connection: %d terminated, %v", killed, err)
	}
	if _, err := admin.Exec(ctx, "UPDATE csdi.layers SET version = nextval('csdi.layer_version') WHERE id = 'c'"); err != nil {
		t.Fatal(err)
	}
	if _, err := admin.Exec(ctx, "DELETE FROM csdi.layers WHERE id = 'd'"); err != nil {
		t.Fatal(err)
	}
	select {
	case id := <-ids:
		t.Fatalf("call for %q while disconnected", id)
	case <-time.After(500 * time.Millisecond): // a few failed attempts
	}
	allow(true)
	expect("after reconnecting: what changed meanwhile", "c", "d")

	// Listening again: a change after the reconnection arrives on its own.
	if _, err := other.ReplaceLayer(ctx, catalog.LayerInfo{ID: "a", Title: "a"}, seq(points(1, 3))); err != nil {
		t.Fatal(err)
	}
	expect("replace after reconnecting", "a")

	stop()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("Listen returned %v, want context.Canceled", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Listen still running 5s after its context ended")
	}
	if len(ids) > 0 {
		t.Errorf("%d calls more than expected", len(ids))
	}
}
