package importers

// Safe zip reading, shared by the shapefile reader (a .zip of
// .shp/.shx/.dbf/.prj/.cpg) and the KMZ reader. Engineer B: use it as
//
//	z, err := openZip(path, opts) // refuses "..", absolute paths, bombs
//	if err != nil { return err }
//	defer z.Close()
//	files := z.find(".kml")       // entries by extension, any case, by name
//	rc, err := z.open(files[0])   // errors name the archive and the entry
//
// openZip checks every entry's name and declared size before anything is
// read; the readers of open count what they really uncompress, so a header
// that lies about its size cannot get past the limit either.

import (
	"archive/zip"
	"errors"
	"fmt"
	"io"
	"path"
	"slices"
	"strings"
	"sync/atomic"
)

const (
	// maxZipRatio is the largest uncompressed/compressed ratio of an entry
	// over minRatioCheck bytes. Deflate tops out near 1032:1 and zip bombs
	// sit there; real data, even a .dbf of blank-padded text fields, stays
	// well under this.
	maxZipRatio   = 300
	minRatioCheck = 1 << 20
)

// zipArchive is an open zip archive whose entries have passed the checks.
type zipArchive struct {
	path  string
	rc    *zip.ReadCloser
	files []*zip.File // regular entries, macOS metadata left out, sorted by name
	limit int64
	read  atomic.Int64 // bytes uncompressed so far, all entries together
}

// openZip opens the archive at path and checks it: no entry may have an
// absolute path or a ".." element, the declared sizes together may not pass
// opts.MaxUncompressed, and no big entry may be compressed more than
// maxZipRatio times.
func openZip(path string, opts Options) (*zipArchive, error) {
	rc, err := zip.OpenReader(path)
	if err != nil && !errors.Is(err, zip.ErrInsecurePath) {
		return nil, fmt.Errorf("%s: not a readable zip archive: %w", path, err)
	}
	if rc == nil {
		return nil, fmt.Errorf("%s: not a readable zip archive: %w", path, err)
	}
	z := &zipArchive{path: path, rc: rc, limit: opts.MaxUncompressed}
	if z.limit <= 0 {
		z.limit = DefaultMaxUncompressed
	}
	var total uint64
	for _, f := range rc.File {
		if unsafeZipName(f.Name) {
			rc.Close()
			return nil, fmt.Errorf("%s: entry %q has an absolute path or a \"..\" element; refusing the archive", path, f.Name)
		}
		if f.FileInfo().IsDir() || isZipMetadata(f.Name) {
			continue
		}
		total += f.UncompressedSize64
		if total > uint64(z.limit) {
			rc.Close()
			return nil, fmt.Errorf("%s: the entries uncompress to more than %d bytes, the limit (a zip bomb?)", path, z.limit)
		}
		if f.UncompressedSize64 > minRatioCheck && f.UncompressedSize64 > maxZipRatio*f.CompressedSize64 {
			rc.Close()
			return nil, fmt.Errorf("%s: entry %q is compressed %d:1, more than the %d:1 allowed (a zip bomb?)",
				path, f.Name, f.UncompressedSize64/max(f.CompressedSize64, 1), maxZipRatio)
		}
		z.files = append(z.files, f)
	}
	slices.SortFunc(z.files, func(a, b *zip.File) int { return strings.Compare(a.Name, b.Name) })
	return z, nil
}

// Close closes the archive.
func (z *zipArchive) Close() error { return z.rc.Close() }

// find returns the entries whose names end in ext, in any case.
func (z *zipArchive) find(ext string) []*zip.File {
	var out []*zip.File
	for _, f := range z.files {
		if strings.HasSuffix(strings.ToLower(f.Name), strings.ToLower(ext)) {
			out = append(out, f)
		}
	}
	return out
}

// sibling returns the entry in the same folder as f with the same base name
// and extension ext, in any case, or nil.
func (z *zipArchive) sibling(f *zip.File, ext string) *zip.File {
	want := strings.ToLower(strings.TrimSuffix(f.Name, path.Ext(f.Name)) + ext)
	for _, g := range z.files {
		if strings.ToLower(g.Name) == want {
			return g
		}
	}
	return nil
}

// names lists the entries for error messages.
func (z *zipArchive) names() string {
	var names []string
	for _, f := range z.files {
		names = append(names, f.Name)
	}
	if len(names) == 0 {
		return "no files"
	}
	if len(names) > 10 {
		names = append(names[:10], "...")
	}
	return strings.Join(names, ", ")
}

// open returns a reader of the entry's uncompressed bytes that fails once
// the archive as a whole has uncompressed more than its limit. (archive/zip
// already fails an entry that runs past its declared size or checksum.)
func (z *zipArchive) open(f *zip.File) (io.ReadCloser, error) {
	rc, err := f.Open()
	if err != nil {
		return nil, fmt.Errorf("%s: open entry %q: %w", z.path, f.Name, err)
	}
	return &zipEntry{rc: rc, z: z, name: f.Name}, nil
}

type zipEntry struct {
	rc   io.ReadCloser
	z    *zipArchive
	name string
}

func (e *zipEntry) Read(p []byte) (int, error) {
	n, err := e.rc.Read(p)
	if e.z.read.Add(int64(n)) > e.z.limit {
		return 0, fmt.Errorf("%s: entry %q: the archive uncompresses to more than %d bytes, the limit (a zip bomb?)", e.z.path, e.name, e.z.limit)
	}
	if err != nil && err != io.EOF {
		err = fmt.Errorf("%s: entry %q: %w", e.z.path, e.name, err)
	}
	return n, err
}

func (e *zipEntry) Close() error { return e.rc.Close() }

// unsafeZipName reports names that would escape a folder they were
// extracted into, with either slash: "/etc/x", "C:\x", "a/../../x".
func unsafeZipName(name string) bool {
	n := strings.ReplaceAll(name, `\`, "/")
	if strings.HasPrefix(n, "/") || (len(n) >= 2 && n[1] == ':') {
		return true
	}
	return slices.Contains(strings.Split(n, "/"), "..")
}

// isZipMetadata reports the entries that macOS's Finder adds to archives
// ("__MACOSX/._roads.shp" is no shapefile).
func isZipMetadata(name string) bool {
	return strings.HasPrefix(name, "__MACOSX/") || strings.HasPrefix(path.Base(name), "._")
}
