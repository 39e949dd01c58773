package upload

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/csdi-hk/csdi/catalog"
	"github.com/csdi-hk/csdi/catalog/gpkg"
	"github.com/csdi-hk/csdi/importers"
)

// env is a running upload API over a real GeoPackage store, with one
// token for each of two departments.
type env struct {
	url          string
	cat          *catalog.Catalog
	tmp          string // the upload spool
	lands, plans string // tokens
}

func newEnv(t *testing.T, opts Options) *env {
	t.Helper()
	return newEnvIn(t, t.TempDir(), opts)
}

// newEnvIn is newEnv spooling uploads to tmp.
func newEnvIn(t *testing.T, tmp string, opts Options) *env {
	t.Helper()
	ctx := context.Background()
	st, err := gpkg.Open(ctx, filepath.Join(t.TempDir(), "csdi.gpkg"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	cat := catalog.New(st, nil)
	if err := cat.Load(ctx); err != nil {
		t.Fatal(err)
	}
	ev := &env{cat: cat, tmp: tmp}
	for dept, tok := range map[string]*string{"Lands Department": &ev.lands, "Planning Department": &ev.plans} {
		if *tok, err = NewToken(); err != nil {
			t.Fatal(err)
		}
		if err := st.CreateToken(ctx, dept, HashToken(*tok)); err != nil {
			t.Fatal(err)
		}
	}
	opts.TempDir = ev.tmp
	h := New(cat, opts)
	t.Cleanup(h.Close)
	e := echo.New()
	h.Register(e)
	srv := httptest.NewServer(e)
	t.Cleanup(srv.Close)
	ev.url = srv.URL
	return ev
}

// send makes a request with a multipart body of fields and, unless
// file is nil, a file part.
func (ev *env) send(t *testing.T, method, path, token string, fields map[string]string, name string, file []byte) (int, map[string]any) {
	t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	for k, v := range fields {
		mw.WriteField(k, v)
	}
	if file != nil {
		fw, _ := mw.CreateFormFile("file", name)
		fw.Write(file)
	}
	mw.Close()
	req, err := http.NewRequest(method, ev.url+path, &body)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", mw.FormDataContentType())
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	return do(t, req)
}

func do(t *testing.T, req *http.Request) (int, map[string]any) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var out map[string]any
	if len(b) > 0 {
		if err := json.Unmarshal(b, &out); err != nil {
			t.Fatalf("%s %s: %d, body not JSON: %s", req.Method, req.URL, resp.StatusCode, b)
		}
	}
	return resp.StatusCode, out
}

// statusOf is the job of a 202 answer, once it has ended.
type statusOf struct {
	State    string
	Error    string
	Progress importers.Progress
	Report   *importers.Report
}

func (ev *env) wait(t *testing.T, accepted map[string]any) statusOf {
	t.Helper()
	return ev.poll(t, accepted, 20*time.Millisecond)
}

// poll asks for the job of a 202 answer every pause until it has ended.
func (ev *env) poll(t *testing.T, accepted map[string]any, pause time.Duration) statusOf {
	t.Helper()
	url, _ := accepted["status_url"].(string)
	if !strings.HasPrefix(url, ev.url+"/api/imports/") {
		t.Fatalf("status_url %q in %v", url, accepted)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		var s statusOf
		err = json.NewDecoder(resp.Body).Decode(&s)
		resp.Body.Close()
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("GET %s: %d %v", url, resp.StatusCode, err)
		}
		if s.State == "done" || s.State == "failed" {
			return s
		}
		if time.Now().After(deadline) {
			t.Fatalf("job still %s after 30s", s.State)
		}
		time.Sleep(pause)
	}
}

func points(values ...string) []byte {
	var feats []string
	for i, v := range values {
		feats = append(feats, fmt.Sprintf(`{"type":"Feature","geometry":{"type":"Point","coordinates":[114.1%d,22.3]},"properties":{"v":%q}}`, i, v))
	}
	return []byte(`{"type":"FeatureCollection","features":[` + strings.Join(feats, ",") + `]}`)
}

// value is the property v of feature id in the served layer.
func (ev *env) value(t *testing.T, layer string, id uint64) (int64, any) {
	t.Helper()
	l, ok := ev.cat.Layer(layer)
	if !ok {
		t.Fatalf("layer %q not served", layer)
	}
	i, ok := l.Index(id)
	if !ok {
		t.Fatalf("layer %q has no feature %d", layer, id)
	}
	v, _ := l.Value(i, "v")
	return l.Info.Version, v
}

func TestUploadTokens(t *testing.T) {
	ev := newEnv(t, Options{})
	create := map[string]string{"id": "toilets", "title": "Public toilets", "title_zh": "公廁"}
	for _, tok := range []string{"", "csdi_not-a-token"} {
		if code, body := ev.send(t, "POST", "/api/layers", tok, create, "t.geojson", points("a")); code != 401 {
			t.Errorf("POST with token %q: %d %v, want 401", tok, code, body)
		}
	}
	code, body := ev.send(t, "POST", "/api/layers", ev.lands, create, "t.geojson", points("a", "b"))
	if code != 202 {
		t.Fatalf("POST by Lands: %d %v", code, body)
	}
	if s := ev.wait(t, body); s.State != "done" || s.Report == nil || s.Report.Imported != 2 {
		t.Fatalf("job %+v", s)
	}
	l, ok := ev.cat.Layer("toilets")
	if !ok {
		t.Fatal("the new layer is not served")
	}
	if l.Info.Department != "Lands Department" || l.Info.TitleZH != "公廁" || l.Info.SourceFile != "t.geojson" || l.Len() != 2 {
		t.Errorf("served layer %+v with %d features", l.Info, l.Len())
	}
	v1 := l.Info.Version

	if code, body := ev.send(t, "POST", "/api/layers", ev.lands, create, "t.geojson", points("c")); code != 409 {
		t.Errorf("POST of an existing layer: %d %v, want 409", code, body)
	}
	for _, tok := range []string{"", "csdi_not-a-token"} {
		if code, body := ev.send(t, "PUT", "/api/layers/toilets/data", tok, nil, "t.geojson", points("c")); code != 401 {
			t.Errorf("PUT with token %q: %d %v, want 401", tok, code, body)
		}
	}
	if code, body := ev.send(t, "PUT", "/api/layers/toilets/data", ev.plans, nil, "t.geojson", points("c")); code != 403 ||
		!strings.Contains(fmt.Sprint(body["error"]), `belongs to department "Lands Department"`) {
		t.Errorf("PUT by Planning: %d %v, want 403 naming the owner", code, body)
	}
	if code, body := ev.send(t, "PUT", "/api/layers/nope/data", ev.lands, nil, "t.geojson", points("c")); code != 404 {
		t.Errorf("PUT of a missing layer: %d %v, want 404", code, body)
	}
	code, body = ev.send(t, "PUT", "/api/layers/toilets/data", ev.lands, nil, "new.geojson", points("c"))
	if code != 202 {
		t.Fatalf("PUT by Lands: %d %v", code, body)
	}
	if s := ev.wait(t, body); s.State != "done" {
		t.Fatalf("job %+v", s)
	}
	if v, val := ev.value(t, "toilets", 1); v <= v1 || val != "c" {
		t.Errorf("after PUT: version %d (was %d), value %v, want c", v, v1, val)
	}
	if l, _ := ev.cat.Layer("toilets"); l == nil || l.Info.TitleZH != "公廁" || l.Len() != 1 {
		t.Errorf("PUT lost the metadata or kept old features: %+v, %d features", l.Info, l.Len())
	}

	del := func(tok string) int {
		req, _ := http.NewRequest("DELETE", ev.url+"/api/layers/toilets", nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		code, _ := do(t, req)
		return code
	}
	if code := del(ev.plans); code != 403 {
		t.Errorf("DELETE by Planning: %d, want 403", code)
	}
	if code := del(ev.lands); code != 204 {
		t.Errorf("DELETE by Lands: %d, want 204", code)
	}
	if _, ok := ev.cat.Layer("toilets"); ok {
		t.Error("layer still served after DELETE")
	}
	if entries, _ := os.ReadDir(ev.tmp); len(entries) != 0 {
		t.Errorf("uploads left behind: %v", entries)
	}
}

func TestUploadLimit(t *testing.T) {
	ev := newEnv(t, Options{MaxBytes: 1 << 10})
	big := bytes.Repeat([]byte(" "), 4<<10)
	code, body := ev.send(t, "POST", "/api/layers", ev.lands, map[string]string{"id": "big"}, "big.geojson", big)
	if code != 413 || !strings.Contains(fmt.Sprint(body["error"]), "limit of 1 KiB") {
		t.Errorf("upload of 4 KiB over a 1 KiB limit: %d %v, want 413 naming the limit", code, body)
	}
	code, body = ev.send(t, "POST", "/api/layers", ev.lands, map[string]string{"id": "small"}, "s.geojson", points("a"))
	if code != 202 || ev.wait(t, body).State != "done" {
		t.Errorf("upload under the limit: %d %v", code, body)
	}
	if entries, _ := os.ReadDir(ev.tmp); len(entries) != 0 {
		t.Errorf("uploads left behind: %v", entries)
	}
}

func TestUploadBadRequests(t *testing.T) {
	ev := newEnv(t, Options{})
	tests := []struct {
		name   string
		fields map[string]string
		file   []byte
		code   int
		err    string
	}{
		{"no file", map[string]string{"id": "x"}, nil, 400, `no part "file"`},
		{"empty file", map[string]string{"id": "x"}, []byte{}, 400, "empty"},
		{"bad id", map[string]string{"id": "Bad-Id"}, points("a"), 400, "invalid layer id"},
		{"bad strict", map[string]string{"id": "x", "strict": "maybe"}, points("a"), 400, "field strict"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, body := ev.send(t, "POST", "/api/layers", ev.lands, tt.fields, "f.geojson", tt.file)
			if code != tt.code || !strings.Contains(fmt.Sprint(body["error"]), tt.err) {
				t.Errorf("%d %v, want %d %q", code, body, tt.code, tt.err)
			}
		})
	}
	req, _ := http.NewRequest("POST", ev.url+"/api/layers", strings.NewReader(`{"id":"x"}`))
	req.Header.Set("Authorization", "Bearer "+ev.lands)
	req.Header.Set("Content-Type", "application/json")
	if code, body := do(t, req); code != 400 || !strings.Contains(fmt.Sprint(body["error"]), "multipart") {
		t.Errorf("JSON body: %d %v", code, body)
	}
	if code, _ := do(t, must(http.NewRequest("GET", ev.url+"/api/imports/nope", nil))); code != 404 {
		t.Errorf("unknown job: %d, want 404", code)
	}
}

func must(r *http.Request, err error) *http.Request {
	if err != nil {
		panic(err)
	}
	return r
}

// TestUploadFailures: a file that is not a format, a truncated file and a
// strict import with a rejected feature each end as a failed job with
// the reason, and the version before stays served.
func TestUploadFailures(t *testing.T) {
	ev := newEnv(t, Options{})
	code, body := ev.send(t, "POST", "/api/layers", ev.lands, map[string]string{"id": "keep"}, "k.geojson", points("old", "old"))
	if code != 202 || ev.wait(t, body).State != "done" {
		t.Fatalf("create: %d %v", code, body)
	}
	v0, _ := ev.value(t, "keep", 1)
	bowtie := []byte(`{"type":"FeatureCollection","features":[
{"type":"Feature","geometry":{"type":"Point","coordinates":[114.1,22.3]},"properties":{"v":"new"}},
{"type":"Feature","geometry":{"type":"Polygon","coordinates":[[[114,22],[114.01,22.01],[114.01,22],[114,22.01],[114,22]]]},"properties":{"v":"bow-tie"}}]}`)
	tests := []struct {
		name   string
		fields map[string]string
		file   []byte
		err    string
	}{
		{"not a format", nil, []byte("hello\x00\x01\x02 world"), "unrecognised file format"},
		{"truncated", nil, points("new", "new", "new")[:100], "k.geojson"},
		{"strict", map[string]string{"strict": "true"}, bowtie, "1 of 2 features rejected and the import is strict"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, body := ev.send(t, "PUT", "/api/layers/keep/data", ev.lands, tt.fields, "k.geojson", tt.file)
			if code != 202 {
				t.Fatalf("PUT: %d %v", code, body)
			}
			s := ev.wait(t, body)
			if s.State != "failed" || !strings.Contains(s.Error, tt.err) {
				t.Errorf("job %+v: want failed with %q", s, tt.err)
			}
			if tt.name == "strict" && (s.Report == nil || len(s.Report.Rejects) != 1 || s.Report.Version != 0) {
				t.Errorf("strict job's report %+v: want the rejected feature listed and no version", s.Report)
			}
			if v, val := ev.value(t, "keep", 1); v != v0 || val != "old" {
				t.Errorf("after the failed import: version %d (was %d), value %v (was old)", v, v0, val)
			}
		})
	}
	// Without strict, the bow-tie is left out and reported.
	code, body = ev.send(t, "PUT", "/api/layers/keep/data", ev.lands, nil, "k.geojson", bowtie)
	if code != 202 {
		t.Fatalf("PUT: %d %v", code, body)
	}
	s := ev.wait(t, body)
	if s.State != "done" || s.Report == nil || s.Report.Rejected != 1 || s.Report.Imported != 1 ||
		len(s.Report.Rejects) != 1 || s.Report.Rejects[0].Feature != 2 || !strings.Contains(s.Report.Rejects[0].Reason, "self-intersection") {
		t.Fatalf("job %+v", s)
	}
	if v, val := ev.value(t, "keep", 1); v <= v0 || val != "new" {
		t.Errorf("after the import: version %d (was %d), value %v", v, v0, val)
	}
}
