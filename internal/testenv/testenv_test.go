package testenv_test

import (
	"context"
	"os"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/csdi-hk/csdi/internal/testenv"
)

func TestPostGIS(t *testing.T) {
	ctx := context.Background()
	var urls []string
	// Two databases in one test must be distinct, carry PostGIS and be
	// gone once the (sub)test that made them ends.
	t.Run("create", func(t *testing.T) {
		for range 2 {
			u := testenv.PostGIS(t)
			conn, err := pgx.Connect(ctx, u)
			if err != nil {
				t.Fatal(err)
			}
			var version string
			if err := conn.QueryRow(ctx, "SELECT postgis_version()").Scan(&version); err != nil {
				t.Fatalf("PostGIS in %s: %v", u, err)
			}
			conn.Close(ctx)
			urls = append(urls, u)
		}
		if urls[0] == urls[1] {
			t.Fatalf("two calls gave the same database %s", urls[0])
		}
	})
	if t.Failed() || len(urls) < 2 {
		return
	}
	admin, err := pgx.Connect(ctx, os.Getenv(testenv.URLVar))
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(ctx)
	for _, u := range urls {
		cfg, err := pgx.ParseConfig(u)
		if err != nil {
			t.Fatal(err)
		}
		var n int
		if err := admin.QueryRow(ctx, "SELECT count(*) FROM pg_database WHERE datname = $1", cfg.Database).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != 0 {
			t.Errorf("database %s still exists after its test ended", cfg.Database)
		}
	}
}

func TestCommand(t *testing.T) {
	if p := testenv.Command(t, "sh"); p == "" {
		t.Fatal("empty path for sh")
	}
}
