// Package webmap serves the map viewer: a static MapLibre GL JS page embedded
// in the binary with go:embed, so the server needs no files on disk.
//
// The MapLibre files under static/vendor are copied from npm by
// "npm ci && npm run build" (make web); without them the page still loads and
// says what is missing.
package webmap

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"io/fs"
	"net/http"
	"path"
	"strings"
)

//go:embed all:static
var static embed.FS

// FS returns the viewer's files, rooted at the folder that holds index.html.
func FS() fs.FS {
	sub, err := fs.Sub(static, "static")
	if err != nil {
		panic(fmt.Sprintf("webmap: embedded static folder: %v", err)) // only if the embed pattern changes
	}
	return sub
}

// Handler serves the viewer at "/" and its assets beside it. Every file gets
// an ETag from its content, so revalidation is cheap: index.html, app.js and
// app.css must be revalidated on every load (they change with each release
// but their names do not); the vendor files may be reused for a day.
func Handler() http.Handler {
	files := FS()
	etags := map[string]string{}
	err := fs.WalkDir(files, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(files, name)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		etags["/"+name] = `"` + hex.EncodeToString(sum[:12]) + `"`
		return nil
	})
	if err != nil {
		panic(fmt.Sprintf("webmap: hash embedded files: %v", err)) // embedded files cannot fail to read
	}
	fileServer := http.FileServerFS(files)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := path.Clean("/" + r.URL.Path)
		if name == "/" {
			name = "/index.html"
		}
		etag, ok := etags[name]
		if !ok || strings.HasPrefix(path.Base(name), ".") {
			// No directory listings, no dotfiles (.gitkeep).
			http.NotFound(w, r)
			return
		}
		h := w.Header()
		h.Set("ETag", etag)
		h.Set("X-Content-Type-Options", "nosniff")
		if strings.HasPrefix(name, "/vendor/") {
			h.Set("Cache-Control", "public, max-age=86400")
		} else {
			h.Set("Cache-Control", "no-cache")
		}
		r2 := r.Clone(r.Context())
		r2.URL.Path = name
		if name == "/index.html" {
			r2.URL.Path = "/" // FileServer redirects /index.html to /
		}
		fileServer.ServeHTTP(w, r2)
	})
}
