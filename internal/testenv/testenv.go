// Package testenv gives tests the real components they run against: a fresh
// PostGIS database in the throwaway cluster that .ci/with-postgis starts, and
// external tools such as ogr2ogr. What is missing fails the test under CI=true
// (CI must never pass by skipping) and skips it elsewhere, so `go test` on a
// bare machine still runs everything that can run.
package testenv

import (
	"context"
	"crypto/rand"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// URLVar names the environment variable holding a superuser URL of the test
// cluster; .ci/with-postgis sets it.
const URLVar = "CSDI_TEST_DATABASE_URL"

// Missing fails the test under CI=true and skips it otherwise.
func Missing(t testing.TB, format string, args ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, args...)
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip(msg)
}

// PostGIS creates an empty database with PostGIS in the test cluster and
// returns its URL; the database is dropped when the test ends.
func PostGIS(t testing.TB) string {
	t.Helper()
	admin := os.Getenv(URLVar)
	if admin == "" {
		Missing(t, "%s is not set: run the tests through `make test` or `.ci/with-postgis go test ./...`", URLVar)
	}
	u, err := url.Parse(admin)
	if err != nil {
		t.Fatalf("parse %s: %v", URLVar, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		Missing(t, "connect to the test cluster in %s (%s): %v; run the tests through `make test` or `.ci/with-postgis go test ./...`", URLVar, u.Redacted(), err)
	}
	defer conn.Close(ctx)

	name := "csdi_test_" + strings.ToLower(rand.Text()[:16])
	ident := pgx.Identifier{name}.Sanitize()
	// template1 holds PostGIS in the .ci/with-postgis cluster; FILE_COPY
	// skips WAL-logging every page of it, which takes longer there.
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+ident+" TEMPLATE template1 STRATEGY FILE_COPY"); err != nil {
		t.Fatalf("create test database %s: %v", name, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, admin)
		if err != nil {
			t.Errorf("connect to drop test database %s: %v", name, err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+ident+" WITH (FORCE)"); err != nil {
			t.Errorf("drop test database %s: %v", name, err)
		}
	})
	u.Path = "/" + name
	return u.String()
}

// Command returns the path of an executable on PATH.
func Command(t testing.TB, name string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err != nil {
		Missing(t, "%s not found on PATH (`make deps` installs it): %v", name, err)
	}
	return path
}
