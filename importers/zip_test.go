package importers

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"io"
	"path/filepath"
	"strings"
	"testing"
)

func TestZipRefusesUnsafeArchives(t *testing.T) {
	dir := t.TempDir()
	zeros := make([]byte, 8<<20) // deflates about 1000:1
	tests := []struct {
		name  string
		files map[string][]byte
		opts  Options
		want  string
	}{
		{"dot dot", map[string][]byte{"roads.shp": {1}, "../../etc/roads.dbf": {1}}, Options{}, `"../../etc/roads.dbf" has an absolute path`},
		{"backslash dot dot", map[string][]byte{`x\..\..\roads.shp`: {1}}, Options{}, "absolute path"},
		{"absolute", map[string][]byte{"/tmp/roads.shp": {1}}, Options{}, "absolute path"},
		{"drive", map[string][]byte{`C:\roads.shp`: {1}}, Options{}, "absolute path"},
		{"ratio", map[string][]byte{"roads.shp": {1}, "roads.dbf": zeros}, Options{}, "zip bomb"},
		{"total", map[string][]byte{"roads.shp": bytes.Repeat([]byte("abcdefgh"), 200)}, Options{MaxUncompressed: 1000}, "more than 1000 bytes"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := filepath.Join(dir, string(rune('a'+i))+".zip")
			writeZip(t, p, tt.files)
			_, _, err := Open(p, tt.opts)
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), p) {
				t.Fatalf("Open: %v, want an error naming the file and containing %q", err, tt.want)
			}
		})
	}
}

// An entry whose central directory understates its size cannot get more
// bytes past the reader than it declares.
func TestZipEntryLyingAboutSize(t *testing.T) {
	var buf bytes.Buffer
	w := zip.NewWriter(&buf)
	e, err := w.CreateHeader(&zip.FileHeader{Name: "big.kml", Method: zip.Deflate})
	if err != nil {
		t.Fatal(err)
	}
	e.Write(bytes.Repeat([]byte("<kml/>"), 1000))
	w.Close()
	b := buf.Bytes()
	cd := bytes.LastIndex(b, []byte("PK\x01\x02"))
	binary.LittleEndian.PutUint32(b[cd+24:], 10) // uncompressed size
	p := writeFile(t, filepath.Join(t.TempDir(), "lie.kmz"), string(b))

	z, err := openZip(p, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer z.Close()
	files := z.find(".KML")
	if len(files) != 1 {
		t.Fatalf("find: %d entries", len(files))
	}
	rc, err := z.open(files[0])
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	n, err := io.Copy(io.Discard, rc)
	if err == nil || n > 10 || !strings.Contains(err.Error(), "big.kml") {
		t.Fatalf("read %d bytes, err %v; want at most 10 and an error naming the entry", n, err)
	}
}

func TestZipReadLimit(t *testing.T) {
	p := filepath.Join(t.TempDir(), "two.zip")
	writeZip(t, p, map[string][]byte{"a.kml": bytes.Repeat([]byte("a"), 600), "b.kml": bytes.Repeat([]byte("b"), 600)})
	z, err := openZip(p, Options{MaxUncompressed: 1500})
	if err != nil {
		t.Fatal(err)
	}
	defer z.Close()
	// Reading an entry twice counts twice: the limit is on work done.
	var read int64
	for _, f := range append(z.find(".kml"), z.find(".kml")...) {
		rc, err := z.open(f)
		if err != nil {
			t.Fatal(err)
		}
		n, err := io.Copy(io.Discard, rc)
		rc.Close()
		read += n
		if err != nil {
			if !strings.Contains(err.Error(), "more than 1500 bytes") || read > 1500 {
				t.Fatalf("after %d bytes: %v", read, err)
			}
			return
		}
	}
	t.Fatalf("read %d bytes without hitting the limit", read)
}

func TestUnsafeZipName(t *testing.T) {
	for name, want := range map[string]bool{
		"roads.shp": false, "data/roads.shp": false, "a..b/x.shp": false,
		"../x": true, "a/../../x": true, "/x": true, `\x`: true, `c:x`: true, `a\..\x`: true,
	} {
		if got := unsafeZipName(name); got != want {
			t.Errorf("unsafeZipName(%q) = %v, want %v", name, got, want)
		}
	}
}
