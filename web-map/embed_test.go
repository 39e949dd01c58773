package webmap

import (
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
)

func get(t *testing.T, srv *httptest.Server, path string, header http.Header) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, srv.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	// Redirects would hide a FileServer redirect of /index.html.
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := client.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatalf("GET %s: read body: %v", path, err)
	}
	return res, string(body)
}

func TestHandler(t *testing.T) {
	srv := httptest.NewServer(Handler())
	t.Cleanup(srv.Close)

	tests := []struct {
		path        string
		status      int
		contentType string // prefix
		cache       string
		body        string // a substring
	}{
		{"/", 200, "text/html", "no-cache", `<div id="map">`},
		{"/index.html", 200, "text/html", "no-cache", `<div id="map">`},
		{"/app.js", 200, "text/javascript", "no-cache", "window.csdiReady"},
		{"/app.css", 200, "text/css", "no-cache", "#panel"},
		{"/vendor/.gitkeep", 404, "", "", ""},
		{"/vendor/", 404, "", "", ""},
		{"/vendor", 404, "", "", ""},
		{"/no-such-file.js", 404, "", "", ""},
		{"/../embed.go", 404, "", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			res, body := get(t, srv, tt.path, nil)
			if res.StatusCode != tt.status {
				t.Fatalf("status %d, want %d", res.StatusCode, tt.status)
			}
			if tt.status != 200 {
				return
			}
			if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, tt.contentType) {
				t.Errorf("Content-Type %q, want %s", ct, tt.contentType)
			}
			if cc := res.Header.Get("Cache-Control"); cc != tt.cache {
				t.Errorf("Cache-Control %q, want %q", cc, tt.cache)
			}
			if !strings.Contains(body, tt.body) {
				t.Errorf("body lacks %q", tt.body)
			}
			etag := res.Header.Get("ETag")
			if etag == "" {
				t.Fatal("no ETag")
			}
			res, _ = get(t, srv, tt.path, http.Header{"If-None-Match": {etag}})
			if res.StatusCode != http.StatusNotModified {
				t.Errorf("revalidation with the ETag: status %d, want 304", res.StatusCode)
			}
		})
	}
}

// The MapLibre files exist only after "make web"; CI always runs it first.
func TestHandlerVendor(t *testing.T) {
	if _, err := fs.Stat(FS(), "vendor/maplibre-gl.js"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("vendor files missing (run make web): %v", err)
		}
		t.Skipf("vendor files missing (run make web): %v", err)
	}
	srv := httptest.NewServer(Handler())
	t.Cleanup(srv.Close)
	for path, ct := range map[string]string{
		"/vendor/maplibre-gl.js":  "text/javascript",
		"/vendor/maplibre-gl.css": "text/css",
	} {
		res, body := get(t, srv, path, nil)
		if res.StatusCode != 200 || !strings.HasPrefix(res.Header.Get("Content-Type"), ct) {
			t.Errorf("GET %s: status %d, Content-Type %q; want 200, %s", path, res.StatusCode, res.Header.Get("Content-Type"), ct)
		}
		if cc := res.Header.Get("Cache-Control"); !strings.Contains(cc, "max-age=") {
			t.Errorf("GET %s: Cache-Control %q, want a max-age", path, cc)
		}
		if len(body) < 1000 {
			t.Errorf("GET %s: %d bytes, want the library", path, len(body))
		}
	}
}
