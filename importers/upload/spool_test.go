package upload

import (
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

// TestSweepSpool: at start, the uploads no process holds are removed, the
// ones a live upload holds (here or in another server sharing the folder)
// and files that are not uploads are kept.
func TestSweepSpool(t *testing.T) {
	dir := t.TempDir()
	live, livePath, err := createSpool(dir, ".zip")
	if err != nil {
		t.Fatal(err)
	}
	defer live.Close()
	old := time.Now().Add(-2 * time.Hour)
	tests := []struct {
		name    string
		path    string // "" to create name in dir
		modTime time.Time
		kept    bool
	}{
		{name: "csdi-upload-123.geojson", kept: false}, // left by a killed server
		{name: "csdi-upload-456", modTime: old, kept: false},
		{path: livePath, kept: true},
		{name: "csdi-upload.new-789.kml", modTime: old, kept: false}, // left between create and rename
		{name: "csdi-upload.new-abc.kml", kept: true},                // may be about to be locked
		{name: "other.geojson", modTime: old, kept: true},
	}
	for i, tt := range tests {
		if tt.path == "" {
			tests[i].path = filepath.Join(dir, tt.name)
			if err := os.WriteFile(tests[i].path, []byte("{}"), 0o600); err != nil {
				t.Fatal(err)
			}
		}
		if !tt.modTime.IsZero() {
			if err := os.Chtimes(tests[i].path, tt.modTime, tt.modTime); err != nil {
				t.Fatal(err)
			}
		}
	}
	sweepSpool(dir, slog.New(slog.DiscardHandler))
	for _, tt := range tests {
		_, err := os.Stat(tt.path)
		if kept := err == nil; kept != tt.kept {
			t.Errorf("%s: kept %v, want %v (%v)", filepath.Base(tt.path), kept, tt.kept, err)
		}
	}
	// Once its upload is removed, nothing of it is left, and a new sweep
	// has nothing to do.
	removeSpooled(livePath, live)
	sweepSpool(dir, slog.New(slog.DiscardHandler))
	entries, _ := os.ReadDir(dir)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if want := []string{"csdi-upload.new-abc.kml", "other.geojson"}; !slices.Equal(names, want) {
		t.Errorf("left in the folder: %v, want %v", names, want)
	}
}

// New sweeps the folder it spools to.
func TestNewSweeps(t *testing.T) {
	dir := t.TempDir()
	stale := filepath.Join(dir, "csdi-upload-left.geojson")
	if err := os.WriteFile(stale, []byte("{}"), 0o600); err != nil {
		t.Fatal(err)
	}
	ev := newEnvIn(t, dir, Options{})
	if _, err := os.Stat(stale); !os.IsNotExist(err) {
		t.Errorf("a left-over upload survived New: %v", err)
	}
	code, body := ev.send(t, "POST", "/api/layers", ev.lands, map[string]string{"id": "swept"}, "s.geojson", points("a"))
	if code != 202 || ev.wait(t, body).State != "done" {
		t.Fatalf("upload after the sweep: %d %v", code, body)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("uploads left behind: %v", entries)
	}
}

// A job reads as ended only once its upload is removed and its layer is
// free: a client may send the next upload of the layer at once, and
// finds nothing left in the spool folder, whether the job failed or not.
func TestUploadsBackToBack(t *testing.T) {
	ev := newEnv(t, Options{})
	code, body := ev.send(t, "POST", "/api/layers", ev.lands, map[string]string{"id": "busy"}, "b.geojson", points("0"))
	if code != 202 || ev.wait(t, body).State != "done" {
		t.Fatalf("create: %d %v", code, body)
	}
	files := [][]byte{points("a"), []byte("not a format\x00"), points("b", "c")}
	for i := range 30 {
		code, body := ev.send(t, "PUT", "/api/layers/busy/data", ev.lands, nil, "b.geojson", files[i%len(files)])
		if code != 202 {
			t.Fatalf("upload %d, sent once the one before ended: %d %v", i, code, body)
		}
		s := ev.poll(t, body, 0) // no pause: catch a job the moment it reads as ended
		if entries, _ := os.ReadDir(ev.tmp); len(entries) != 0 {
			t.Fatalf("upload %d %s, and %v still in the spool folder", i, s.State, entries)
		}
	}
}
