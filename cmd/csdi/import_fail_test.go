package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/csdi-hk/csdi/internal/testenv"
)

// TestImportInterrupted stops `csdi import` in the middle of a large file,
// by SIGKILL and (on PostGIS) by cutting its database connection, and
// checks that the version before is still served through the OGC API and
// that no staging table is left behind.
func TestImportInterrupted(t *testing.T) {
	big := squaresFile(t, 150_000)
	small := writeTemp(t, "small.geojson", `{"type":"FeatureCollection","features":[
{"type":"Feature","geometry":{"type":"Point","coordinates":[114.15,22.28]},"properties":{"v":"old"}},
{"type":"Feature","geometry":{"type":"Point","coordinates":[114.16,22.28]},"properties":{"v":"old"}}]}`)
	cases := []struct {
		name  string
		store func(t *testing.T) (args []string, db string)
		cut   func(t *testing.T, cmd *exec.Cmd, db string)
	}{
		{"gpkg killed", func(t *testing.T) ([]string, string) { return []string{"--data", t.TempDir()}, "" }, kill},
		{"postgis killed", postgisStore, kill},
		{"postgis connection lost", postgisStore, cutConnections},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			store, db := tc.store(t)
			if _, err := csdi(t, append([]string{"import", "--layer", "lots", small}, store...)...); err != nil {
				t.Fatal(err)
			}
			cmd := exec.Command(csdiBin, append([]string{"import", "--layer", "lots", big}, store...)...)
			cmd.Env = append(os.Environ(), "CSDI_DATABASE_URL=")
			var out strings.Builder
			cmd.Stdout, cmd.Stderr = &out, &out
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			waitReading(t, cmd.Process.Pid, big)
			tc.cut(t, cmd, db)
			if err := cmd.Wait(); err == nil {
				t.Fatalf("the interrupted import succeeded:\n%s", out.String())
			}
			t.Logf("interrupted import: %s", strings.TrimSpace(out.String()))

			if db != "" {
				noStaging(t, db)
			}
			srv := startServer(t, store...)
			code, body := get(t, srv.url+"/ogc/collections/lots/items?f=json")
			var items struct {
				NumberMatched int `json:"numberMatched"`
				Features      []struct {
					Properties map[string]any `json:"properties"`
				} `json:"features"`
			}
			if code != 200 || json.Unmarshal(body, &items) != nil || items.NumberMatched != 2 || items.Features[0].Properties["v"] != "old" {
				t.Errorf("after the interrupted import the OGC API serves %d %.300s", code, body)
			}
		})
	}
}

func postgisStore(t *testing.T) ([]string, string) {
	db := testenv.PostGIS(t)
	return []string{"--db", db}, db
}

func kill(t *testing.T, cmd *exec.Cmd, _ string) {
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
}

// cutConnections ends every other session on the database, as a database
// restart or a network failure would.
func cutConnections(t *testing.T, _ *exec.Cmd, db string) {
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var n int
	if err := conn.QueryRow(ctx, `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
		WHERE datname = current_database() AND pid <> pg_backend_pid()`).Scan(&n); err != nil || n == 0 {
		t.Fatalf("terminated %d sessions: %v", n, err)
	}
}

// noStaging waits for the server to notice a dead client, then checks that
// no staging table is left.
func noStaging(t *testing.T, db string) {
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	deadline := time.Now().Add(15 * time.Second)
	for {
		var tables []string
		rows, err := conn.Query(ctx, `SELECT table_schema || '.' || table_name FROM information_schema.tables WHERE table_name LIKE 'staging%'`)
		if err == nil {
			tables, err = pgx.CollectRows(rows, pgx.RowTo[string])
		}
		if err != nil {
			t.Fatal(err)
		}
		if len(tables) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("staging tables left behind: %v", tables)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// waitReading waits until process pid has read a tenth of the file.
func waitReading(t *testing.T, pid int, path string) {
	t.Helper()
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	abs, _ := filepath.Abs(path)
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		fds, _ := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
		for _, fd := range fds {
			if target, _ := os.Readlink(fmt.Sprintf("/proc/%d/fd/%s", pid, fd.Name())); target != abs {
				continue
			}
			info, _ := os.ReadFile(fmt.Sprintf("/proc/%d/fdinfo/%s", pid, fd.Name()))
			for line := range strings.Lines(string(info)) {
				if v, ok := strings.CutPrefix(line, "pos:"); ok {
					if pos, _ := strconv.ParseInt(strings.TrimSpace(v), 10, 64); pos > st.Size()/10 && pos < st.Size() {
						return
					}
				}
			}
		}
		time.Sleep(5 * time.Millisecond)
	}
	testenv.Missing(t, "could not see process %d reading %s through /proc (not Linux?)", pid, path)
}

// squaresFile writes n small squares on a grid over Hong Kong as GeoJSON.
func squaresFile(t *testing.T, n int) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "squares.geojson")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriter(f)
	w.WriteString(`{"type":"FeatureCollection","features":[`)
	for i := range n {
		x, y := 113.9+float64(i%1000)*0.0005, 22.2+float64(i/1000)*0.0005
		if i > 0 {
			w.WriteString(",\n")
		}
		fmt.Fprintf(w, `{"type":"Feature","geometry":{"type":"Polygon","coordinates":[[[%.6f,%.6f],[%.6f,%.6f],[%.6f,%.6f],[%.6f,%.6f],[%.6f,%.6f]]]},"properties":{"v":"new","n":%d}}`,
			x, y, x+0.0004, y, x+0.0004, y+0.0004, x, y+0.0004, x, y, i)
	}
	w.WriteString("]}\n")
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}
