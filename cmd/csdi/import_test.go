package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/csdi-hk/csdi/importers"
	"github.com/csdi-hk/csdi/internal/testenv"
)

// mixedLayer is a GeoJSON file of three features: one good, one to
// repair (unclosed), one to reject (a bow-tie).
const mixedLayer = `{"type":"FeatureCollection","features":[
{"type":"Feature","geometry":{"type":"Polygon","coordinates":[[[114.1,22.3],[114.11,22.3],[114.11,22.31],[114.1,22.3]]]},"properties":{"v":"%[1]s"}},
{"type":"Feature","geometry":{"type":"Polygon","coordinates":[[[114.2,22.3],[114.21,22.3],[114.21,22.31]]]},"properties":{"v":"%[1]s"}},
{"type":"Feature","geometry":{"type":"Polygon","coordinates":[[[114,22],[114.01,22.01],[114.01,22],[114,22.01],[114,22]]]},"properties":{"v":"%[1]s"}}
]}`

func writeTemp(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestImportHistoryRollback runs the import pipeline through the command
// line on both stores: the report, --strict, history and rollback.
func TestImportHistoryRollback(t *testing.T) {
	for _, st := range stores {
		t.Run(st.name, func(t *testing.T) {
			store := st.args(t)
			run := func(args ...string) (string, error) { return csdi(t, append(args, store...)...) }

			first := writeTemp(t, "first.geojson", fmt.Sprintf(mixedLayer, "one"))
			out, err := run("import", "--layer", "plots", "--title", "Plots", "--department", "Lands Department", first)
			if err != nil {
				t.Fatal(err)
			}
			for _, want := range []string{"imported plots: 2 features, version 1", "3 read, 2 imported, 1 repaired, 1 rejected",
				"feature 3: self-intersection", "1 × closed an unclosed ring", "first.geojson, geojson"} {
				if !strings.Contains(out, want) {
					t.Errorf("import output lacks %q:\n%s", want, out)
				}
			}

			second := writeTemp(t, "second.geojson", fmt.Sprintf(mixedLayer, "two"))
			out, err = run("import", "--layer", "plots", "--strict", second)
			if err == nil || !strings.Contains(out, "failed, nothing changed") || !strings.Contains(out, "feature 3: self-intersection") {
				t.Fatalf("strict import: err %v, output:\n%s", err, out)
			}
			if out, err := run("layers", "show", "plots"); err != nil || !strings.Contains(out, `"version": 1`) {
				t.Fatalf("after the strict import: %v\n%s", err, out)
			}

			if _, err := run("import", "--layer", "plots", second); err != nil {
				t.Fatal(err)
			}
			out, err = run("layers", "history", "plots")
			if err != nil {
				t.Fatal(err)
			}
			lines := strings.Split(strings.TrimSpace(out), "\n")
			if len(lines) != 3 || !regexp.MustCompile(`^2 \(current\)\s+\S+Z\s+\S+\s+second.geojson\s+2\s+version 2$`).MatchString(lines[1]) ||
				!regexp.MustCompile(`^1\s+\S+Z\s+\S+\s+first.geojson\s+2\s+version 1$`).MatchString(lines[2]) {
				t.Fatalf("history:\n%s", out)
			}
			out, err = run("layers", "rollback", "plots", "1")
			if err != nil || !strings.Contains(out, "now version 3") {
				t.Fatalf("rollback: %v\n%s", err, out)
			}
			out, err = run("layers", "show", "plots")
			var info struct {
				Version    int64  `json:"version"`
				SourceFile string `json:"source_file"`
				Title      string `json:"title"`
				Department string `json:"department"`
			}
			if err != nil || json.Unmarshal([]byte(out), &info) != nil || info.Version != 3 || info.SourceFile != "first.geojson" ||
				info.Title != "Plots" || info.Department != "Lands Department" {
				t.Fatalf("after rollback: %v %+v\n%s", err, info, out)
			}
			if _, err := run("layers", "rollback", "plots", "99"); err == nil || !strings.Contains(err.Error(), "not kept") {
				t.Errorf("rollback to a version not kept: %v", err)
			}
		})
	}
}

// TestImportGeoPackageLayers: a GeoPackage of two tables becomes two
// layers named after them, or one with --source-layer.
func TestImportGeoPackageLayers(t *testing.T) {
	ogr := testenv.Command(t, "ogr2ogr")
	path := filepath.Join(t.TempDir(), "two.gpkg")
	for _, args := range [][]string{
		{"-f", "GPKG", path, filepath.Join(sampleDir, "public_toilets.geojson"), "-nln", "Public Toilets"},
		{"-f", "GPKG", "-update", path, filepath.Join(sampleDir, "roads.geojson"), "-nln", "roads"},
	} {
		if out, err := exec.Command(ogr, args...).CombinedOutput(); err != nil {
			t.Fatalf("ogr2ogr %v: %v\n%s", args, err, out)
		}
	}
	store := []string{"--data", t.TempDir()}
	out, err := csdi(t, append([]string{"import", "--layer", "hk", path}, store...)...)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, fmt.Sprintf("imported hk_public_toilets: %d features", len(sampleFeatures(t, "public_toilets.geojson")))) ||
		!strings.Contains(out, fmt.Sprintf("imported hk_roads: %d features", len(sampleFeatures(t, "roads.geojson")))) {
		t.Errorf("import output:\n%s", out)
	}
	out, err = csdi(t, append([]string{"import", "--layer", "roads", "--source-layer", "roads", path}, store...)...)
	if err != nil || !strings.Contains(out, "imported roads:") {
		t.Fatalf("--source-layer: %v\n%s", err, out)
	}
	out, _ = csdi(t, append([]string{"layers", "list"}, store...)...)
	if got := len(strings.Split(strings.TrimSpace(out), "\n")) - 1; got != 3 {
		t.Errorf("%d layers listed, want 3:\n%s", got, out)
	}
}

// TestUploadThroughServe creates a token with the command line and uses
// it against `csdi serve`: the upload is served through the OGC API once
// its job is done, and another department's token is refused.
func TestUploadThroughServe(t *testing.T) {
	store := []string{"--data", t.TempDir()}
	token, err := csdi(t, append([]string{"token", "create", "--department", "Lands Department"}, store...)...)
	token = strings.TrimSpace(token)
	if err != nil || !regexp.MustCompile(`^csdi_[A-Za-z0-9_-]{43}$`).MatchString(token) {
		t.Fatalf("token create: %q, %v", token, err)
	}
	other, err := csdi(t, append([]string{"token", "create", "--department", "Planning Department"}, store...)...)
	if err != nil {
		t.Fatal(err)
	}
	srv := startServer(t, append(store, "--max-upload-mb", "1")...)

	post := func(method, path, token string, fields map[string]string, file []byte) (int, map[string]any) {
		code, body := sendUpload(t, srv, method, path, token, fields, "toilets.geojson", bytes.NewReader(file))
		var out map[string]any
		json.Unmarshal(body, &out)
		return code, out
	}
	file, err := os.ReadFile(filepath.Join(sampleDir, "public_toilets.geojson"))
	if err != nil {
		t.Fatal(err)
	}
	code, body := post("POST", "/api/layers", token, map[string]string{"id": "toilets", "title": "Public toilets"}, file)
	if code != 202 {
		t.Fatalf("POST: %d %v", code, body)
	}
	deadline := time.Now().Add(30 * time.Second)
	var job struct {
		State  string
		Error  string
		Report *importers.Report
	}
	for job.State != "done" && job.State != "failed" {
		if time.Now().After(deadline) {
			t.Fatalf("job still %q after 30s", job.State)
		}
		time.Sleep(50 * time.Millisecond)
		code, b := get(t, body["status_url"].(string))
		if code != 200 || json.Unmarshal(b, &job) != nil {
			t.Fatalf("job status: %d %s", code, b)
		}
	}
	want := len(sampleFeatures(t, "public_toilets.geojson"))
	if job.State != "done" || job.Report == nil || job.Report.Imported != int64(want) {
		t.Fatalf("job %+v", job)
	}
	code, b := get(t, srv.url+"/ogc/collections/toilets/items?limit=1")
	var items struct {
		NumberMatched int `json:"numberMatched"`
	}
	if code != 200 || json.Unmarshal(b, &items) != nil || items.NumberMatched != want {
		t.Errorf("OGC API items after the upload: %d %s", code, b)
	}
	for _, tc := range []struct {
		name, token string
		file        []byte
		code        int
		err         string
	}{
		{"no token", "", file, 401, "needs a department's upload token"},
		{"a wrong token", token + "x", file, 401, "token is not valid"},
		{"another department's token", strings.TrimSpace(other), file, 403, `belongs to department "Lands Department"`},
		{"2 MB with --max-upload-mb 1", token, bytes.Repeat([]byte(" "), 2<<20), 413, "larger than the limit of 1 MiB (csdi serve --max-upload-mb)"},
	} {
		if code, body := post("PUT", "/api/layers/toilets/data", tc.token, nil, tc.file); code != tc.code || !strings.Contains(fmt.Sprint(body["error"]), tc.err) {
			t.Errorf("PUT with %s: %d %v, want %d %q", tc.name, code, body, tc.code, tc.err)
		}
	}
	if v := keptVersions(t, store, "toilets"); len(v) != 1 {
		t.Errorf("the refused uploads made versions: %v", v)
	}
	if out, err := csdi(t, append([]string{"layers", "history", "toilets"}, store...)...); err != nil || !strings.Contains(out, "Lands Department") {
		t.Errorf("history does not name the uploading department: %v\n%s", err, out)
	}
}

// sendUpload sends file, named name, and fields as the multipart form the
// upload API takes, with token, and returns the answer's status and body.
func sendUpload(t *testing.T, srv *server, method, path, token string, fields map[string]string, name string, file io.Reader) (int, []byte) {
	t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	for k, v := range fields {
		mw.WriteField(k, v)
	}
	fw, _ := mw.CreateFormFile("file", name)
	if _, err := io.Copy(fw, file); err != nil {
		t.Fatal(err)
	}
	mw.Close()
	req, _ := http.NewRequest(method, srv.url+path, &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, out
}
