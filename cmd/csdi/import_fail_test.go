package main

import (
	"bufio"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/mvt"
	"github.com/paulmach/orb/maptile"

	"github.com/csdi-hk/csdi/internal/testenv"
)

// oldLayer is the version every failure test starts from: two points.
const oldLayer = `{"type":"FeatureCollection","features":[
{"type":"Feature","geometry":{"type":"Point","coordinates":[114.15,22.28]},"properties":{"v":"old"}},
{"type":"Feature","geometry":{"type":"Point","coordinates":[114.16,22.28]},"properties":{"v":"old"}}]}`

// failRun is one store under a failing import.
type failRun struct {
	store []string // the store flags
	db    string   // the PostGIS URL, "" for the embedded store
	data  string   // --data, for the embedded store
	env   []string // the environment of the servers: TMPDIR is spool
	spool string   // where the servers spool uploads
	big   string   // a GeoJSON file of 150,000 squares
	token string   // an upload token of the layer's department
}

// TestImportFailures makes an import fail mid-way in each way the issue
// names, from the command line and through the upload API: a rejected
// feature under --strict, a killed process, a lost database connection.
// Each time the version before must still be served, through a tile and
// the OGC API, and nothing of the failed import may be left: no table (on
// PostGIS no staging table either), no spooled upload once a server
// starts again.
func TestImportFailures(t *testing.T) {
	big := squaresFile(t, 150_000)
	bad := writeTemp(t, "bad.geojson", fmt.Sprintf(mixedLayer, "new")) // feature 3 is a bow-tie
	gpkgStore := func(t *testing.T) *failRun {
		data := t.TempDir()
		return &failRun{store: []string{"--data", data}, data: data}
	}
	pgStore := func(t *testing.T) *failRun {
		db := testenv.PostGIS(t)
		return &failRun{store: []string{"--db", db}, db: db}
	}
	cases := []struct {
		name  string
		store func(t *testing.T) *failRun
		// fail makes an import of layer lots fail; it returns the server
		// to check through, or nil to start one.
		fail func(t *testing.T, r *failRun) *server
	}{
		{"gpkg/strict", gpkgStore, func(t *testing.T, r *failRun) *server { return strictCLI(t, r, bad) }},
		{"gpkg/killed", gpkgStore, killCLI},
		{"gpkg/upload strict", gpkgStore, func(t *testing.T, r *failRun) *server { return strictUpload(t, r, bad) }},
		{"gpkg/upload server killed", gpkgStore, killUpload},
		{"postgis/strict", pgStore, func(t *testing.T, r *failRun) *server { return strictCLI(t, r, bad) }},
		{"postgis/killed", pgStore, killCLI},
		{"postgis/connection lost", pgStore, cutCLI},
		{"postgis/upload strict", pgStore, func(t *testing.T, r *failRun) *server { return strictUpload(t, r, bad) }},
		{"postgis/upload server killed", pgStore, killUpload},
		{"postgis/upload connection lost", pgStore, cutUpload},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := tc.store(t)
			r.big = big
			r.spool = t.TempDir()
			r.env = []string{"TMPDIR=" + r.spool}
			if _, err := csdi(t, append([]string{"import", "--layer", "lots", "--department", "Lands Department",
				writeTemp(t, "old.geojson", oldLayer)}, r.store...)...); err != nil {
				t.Fatal(err)
			}
			tok, err := csdi(t, append([]string{"token", "create", "--department", "Lands Department"}, r.store...)...)
			if err != nil {
				t.Fatal(err)
			}
			r.token = strings.TrimSpace(tok)
			before := storeTables(t, r)

			srv := tc.fail(t, r)

			sameTables(t, r, before)
			if srv == nil {
				srv = startServerEnv(t, r.env, r.store...)
			}
			oldServed(t, srv)
			noSpool(t, r.spool)
		})
	}
}

// strictCLI imports a file with a rejected feature under --strict.
func strictCLI(t *testing.T, r *failRun, bad string) *server {
	out, err := csdi(t, append([]string{"import", "--layer", "lots", "--strict", bad}, r.store...)...)
	if err == nil || !strings.Contains(out, "failed, nothing changed") || !strings.Contains(out, "feature 3: self-intersection") {
		t.Fatalf("strict import: err %v, output:\n%s", err, out)
	}
	return nil
}

// killCLI kills `csdi import` while it reads the big file.
func killCLI(t *testing.T, r *failRun) *server {
	interruptCLI(t, r, func(cmd *exec.Cmd) {
		if err := cmd.Process.Kill(); err != nil {
			t.Fatal(err)
		}
	})
	return nil
}

// cutCLI ends the database sessions of `csdi import` while it reads.
func cutCLI(t *testing.T, r *failRun) *server {
	interruptCLI(t, r, func(*exec.Cmd) { cutConnections(t, r.db) })
	return nil
}

func interruptCLI(t *testing.T, r *failRun, cut func(*exec.Cmd)) {
	cmd := exec.Command(csdiBin, append([]string{"import", "--layer", "lots", r.big}, r.store...)...)
	cmd.Env = append(os.Environ(), "CSDI_DATABASE_URL=")
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	waitReading(t, cmd.Process.Pid, r.big)
	cut(cmd)
	if err := cmd.Wait(); err == nil {
		t.Fatalf("the interrupted import succeeded:\n%s", out.String())
	}
	t.Logf("interrupted import: %s", strings.TrimSpace(out.String()))
}

// strictUpload uploads a file with a rejected feature with strict=true
// and returns the server, which must go on serving the version before.
func strictUpload(t *testing.T, r *failRun, bad string) *server {
	srv := startServerEnv(t, r.env, r.store...)
	job := waitJob(t, putData(t, srv, r.token, bad, map[string]string{"strict": "true"}), func(j jobStatus) bool { return j.State != "queued" && j.State != "running" })
	if job.State != "failed" || !strings.Contains(job.Error, "rejected and the import is strict") {
		t.Fatalf("strict upload: %+v", job)
	}
	return srv
}

// bigUploadReading starts a server, uploads r.big to it and returns once
// the upload's import is reading, with the job's status URL; before says
// what the import must not end before.
func bigUploadReading(t *testing.T, r *failRun, before string) (*server, string) {
	t.Helper()
	srv := startServerEnv(t, r.env, r.store...)
	status := putData(t, srv, r.token, r.big, nil)
	if j := waitJob(t, status, reading); j.State != "running" {
		t.Fatalf("the upload's import ended before %s: %+v", before, j)
	}
	return srv, status
}

// killUpload kills the server while it imports an upload; the server
// started afterwards must serve the version before.
func killUpload(t *testing.T, r *failRun) *server {
	srv, _ := bigUploadReading(t, r, "it could be killed")
	if err := srv.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	srv.cmd.Wait()
	if spooled, _ := filepath.Glob(filepath.Join(r.spool, "csdi-upload-*")); len(spooled) != 1 {
		t.Fatalf("the killed server left %v in its spool, want its one upload (else the sweep is not tested)", spooled)
	}
	return nil
}

// cutUpload ends the server's database sessions while it imports an
// upload; the server must go on serving the version before.
func cutUpload(t *testing.T, r *failRun) *server {
	srv, status := bigUploadReading(t, r, "the connection could be cut")
	cutConnections(t, r.db)
	j := waitJob(t, status, func(j jobStatus) bool { return j.State != "running" })
	if j.State != "failed" {
		t.Fatalf("the import survived its lost connection: %+v", j)
	}
	t.Logf("import with its connection cut: %s", j.Error)
	return srv
}

// jobStatus is what GET /api/imports/{job} says.
type jobStatus struct {
	State    string
	Error    string
	Progress struct{ Read int64 }
}

func reading(j jobStatus) bool {
	return j.State != "queued" && (j.State != "running" || j.Progress.Read > 0)
}

// putData uploads the file at path as new data of layer lots and returns
// the job's status URL.
func putData(t *testing.T, srv *server, token, path string, fields map[string]string) string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	code, body := sendUpload(t, srv, "PUT", "/api/layers/lots/data", token, fields, filepath.Base(path), f)
	var accepted struct {
		StatusURL string `json:"status_url"`
	}
	if err := json.Unmarshal(body, &accepted); err != nil || code != 202 {
		t.Fatalf("PUT %s: %d, %v", path, code, err)
	}
	return accepted.StatusURL
}

// waitJob polls a job until until says so.
func waitJob(t *testing.T, url string, until func(jobStatus) bool) jobStatus {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		code, b := get(t, url)
		var j jobStatus
		if code != 200 || json.Unmarshal(b, &j) != nil {
			t.Fatalf("job status: %d %s", code, b)
		}
		if until(j) {
			return j
		}
		if time.Now().After(deadline) {
			t.Fatalf("job still %+v after 60s", j)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// oldServed checks that srv serves layer lots as oldLayer, through the
// OGC API and through a tile decoded as MVT.
func oldServed(t *testing.T, srv *server) {
	t.Helper()
	code, body := get(t, srv.url+"/ogc/collections/lots/items?f=json")
	var items struct {
		NumberMatched int `json:"numberMatched"`
		Features      []struct {
			Properties map[string]any `json:"properties"`
		} `json:"features"`
	}
	if code != 200 || json.Unmarshal(body, &items) != nil || items.NumberMatched != 2 || len(items.Features) != 2 ||
		items.Features[0].Properties["v"] != "old" || items.Features[1].Properties["v"] != "old" {
		t.Errorf("after the failed import the OGC API serves %d %.300s", code, body)
	}
	// One z12 tile holds both points, and squares of the big file too.
	tile := maptile.At(orb.Point{114.15, 22.28}, 12)
	url := fmt.Sprintf("%s/tiles/lots/%d/%d/%d.mvt", srv.url, tile.Z, tile.X, tile.Y)
	code, body = get(t, url)
	if code != 200 {
		t.Fatalf("after the failed import %s answers %d %s", url, code, body)
	}
	layers, err := mvt.Unmarshal(body)
	if err != nil {
		t.Fatalf("decode %s: %v", url, err)
	}
	var got []string
	for _, l := range layers {
		for _, f := range l.Features {
			got = append(got, fmt.Sprintf("%s %s %v", l.Name, f.Geometry.GeoJSONType(), f.Properties["v"]))
		}
	}
	if want := []string{"lots Point old", "lots Point old"}; !slices.Equal(got, want) {
		t.Errorf("after the failed import tile %v holds %v, want %v", tile, got, want)
	}
}

// noSpool checks that no upload is left in the spool folder.
func noSpool(t *testing.T, dir string) {
	t.Helper()
	left, _ := filepath.Glob(filepath.Join(dir, "csdi-upload*"))
	if len(left) > 0 {
		t.Errorf("uploads left in the spool folder: %v", left)
	}
}

// storeTables lists the store's tables: every schema of the PostGIS
// database but the system's, or every table of the GeoPackage.
func storeTables(t *testing.T, r *failRun) []string {
	t.Helper()
	ctx := context.Background()
	var rows interface {
		Next() bool
		Scan(...any) error
		Err() error
		Close()
	}
	if r.db != "" {
		conn, err := pgx.Connect(ctx, r.db)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close(ctx)
		pr, err := conn.Query(ctx, `SELECT table_schema || '.' || table_name FROM information_schema.tables
			WHERE table_schema NOT IN ('pg_catalog', 'information_schema') ORDER BY 1`)
		if err != nil {
			t.Fatal(err)
		}
		rows = pr
	} else {
		db, err := sql.Open("sqlite", filepath.Join(r.data, "csdi.gpkg"))
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		sr, err := db.QueryContext(ctx, "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY 1")
		if err != nil {
			t.Fatal(err)
		}
		rows = sqlRows{sr}
	}
	defer rows.Close()
	var names []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			t.Fatal(err)
		}
		names = append(names, n)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return names
}

// sqlRows has the Close of pgx.Rows.
type sqlRows struct{ *sql.Rows }

func (r sqlRows) Close() { r.Rows.Close() }

// sameTables checks that the store has the tables it had before the
// failed import. PostgreSQL may take a moment to notice a dead client and
// roll its transaction back, so it is given a few seconds.
func sameTables(t *testing.T, r *failRun, before []string) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		after := storeTables(t, r)
		if slices.Equal(after, before) {
			return
		}
		if r.db == "" || time.Now().After(deadline) {
			t.Fatalf("tables after the failed import:\n%v\nbefore:\n%v", after, before)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// cutConnections ends every other session on the database, as a database
// restart or a network failure would.
func cutConnections(t *testing.T, db string) {
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
