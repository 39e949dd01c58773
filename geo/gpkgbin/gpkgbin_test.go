package gpkgbin

import (
	"bytes"
	"testing"

	"github.com/paulmach/orb"
)

func TestSplit(t *testing.T) {
	wkb := []byte{1, 1, 0, 0, 0} // what follows the header is not read here
	b := orb.Bound{Min: orb.Point{113.8, 22.1}, Max: orb.Point{114.5, 22.6}}
	for _, tc := range []struct {
		name      string
		blob      []byte
		wantEmpty bool
		wantErr   bool
	}{
		{"ours with envelope", append(AppendHeader(nil, 4326, b, false), wkb...), false, false},
		{"ours empty", append(AppendHeader(nil, 4326, orb.Bound{}, true), wkb...), true, false},
		// GDAL writes big-endian headers without an envelope for points.
		{"big-endian no envelope", append([]byte("GP\x00\x00\x00\x00\x10\xe6"), wkb...), false, false},
		{"xyzm envelope", append(append([]byte("GP\x00\x09\xe6\x10\x00\x00"), make([]byte, 64)...), wkb...), false, false},
		{"no magic", append([]byte("XP\x00\x01\x00\x00\x00\x00"), wkb...), false, true},
		{"version 1", append([]byte("GP\x01\x01\x00\x00\x00\x00"), wkb...), false, true},
		{"extended", append([]byte("GP\x00\x21\x00\x00\x00\x00"), wkb...), false, true},
		{"envelope code 5", append([]byte("GP\x00\x0b\x00\x00\x00\x00"), wkb...), false, true},
		{"envelope truncated", AppendHeader(nil, 4326, b, false)[:20], false, true},
		{"short", []byte("GP"), false, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			body, empty, err := Split(tc.blob)
			if (err != nil) != tc.wantErr {
				t.Fatalf("error %v, want error %v", err, tc.wantErr)
			}
			if err != nil {
				return
			}
			if empty != tc.wantEmpty || !bytes.Equal(body, wkb) {
				t.Errorf("got body %x empty %v, want %x empty %v", body, empty, wkb, tc.wantEmpty)
			}
		})
	}
}
