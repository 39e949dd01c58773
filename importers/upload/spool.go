package upload

import (
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Spooled uploads are named spoolPrefix+random+extension and are locked
// (flock) by the process that receives them for as long as they are in
// use. A file under that name that nobody has locked was left by a process
// that ended without removing it, and sweepSpool removes it: several
// servers may share one temporary folder, so age alone cannot tell.
//
// A file is created under newPrefix, locked, and only then renamed to
// spoolPrefix, so a sweep never meets one that is not locked yet. A file
// still under newPrefix was left between those two steps; it is removed
// once it is older than newMaxAge.
const (
	spoolPrefix = "csdi-upload-"
	newPrefix   = "csdi-upload.new-"
	newMaxAge   = time.Hour
)

// createSpool creates a locked temporary file in dir for an upload.
func createSpool(dir, ext string) (*os.File, string, error) {
	f, err := os.CreateTemp(dir, newPrefix+"*"+ext)
	if err != nil {
		return nil, "", err
	}
	tmp := f.Name()
	fail := func(err error) (*os.File, string, error) {
		os.Remove(tmp)
		f.Close()
		return nil, "", err
	}
	switch ok, err := tryLock(f); {
	case errors.Is(err, errors.ErrUnsupported):
		// No locks here: no sweep removes the file either.
	case err != nil:
		return fail(err)
	case !ok:
		return fail(errors.New("a new file is locked by another process"))
	}
	path := filepath.Join(filepath.Dir(tmp), spoolPrefix+strings.TrimPrefix(filepath.Base(tmp), newPrefix))
	if err := os.Rename(tmp, path); err != nil {
		return fail(err)
	}
	return f, path, nil
}

// sweepSpool removes the uploads in dir that no process holds.
func sweepSpool(dir string, log *slog.Logger) {
	if dir == "" {
		dir = os.TempDir()
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		log.Warn("sweep left-over uploads", "dir", dir, "err", err)
		return
	}
	removed := 0
	for _, e := range entries {
		name := e.Name()
		path := filepath.Join(dir, name)
		switch {
		case !e.Type().IsRegular():
		case strings.HasPrefix(name, spoolPrefix):
			if abandoned(path) && os.Remove(path) == nil {
				removed++
			}
		case strings.HasPrefix(name, newPrefix):
			if info, err := e.Info(); err == nil && time.Since(info.ModTime()) > newMaxAge && os.Remove(path) == nil {
				removed++
			}
		}
	}
	if removed > 0 {
		log.Info("removed uploads left by a process that ended mid-import", "dir", dir, "files", removed)
	}
}

// abandoned tells whether no process holds the spooled upload at path.
// The lock it takes to find out goes with the file.
func abandoned(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false // gone already, or not ours to read
	}
	defer f.Close()
	ok, err := tryLock(f)
	return err == nil && ok
}
