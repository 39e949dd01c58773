package tiles

import (
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"testing"

	"github.com/gogo/protobuf/proto"
	"github.com/labstack/echo/v4"
	"github.com/paulmach/orb/encoding/mvt/vectortile"

	"github.com/csdi-hk/csdi/catalog"
)

// layerSet is the smallest real implementation of Layers.
type layerSet map[string]*catalog.Layer

func (s layerSet) Layer(id string) (*catalog.Layer, bool) {
	l, ok := s[id]
	return l, ok
}

// serve starts a real HTTP server with the tile routes over layers.
func serve(t testing.TB, layers layerSet, opts Options) *httptest.Server {
	t.Helper()
	e := echo.New()
	NewHandler(layers, opts).Register(e)
	srv := httptest.NewServer(e)
	t.Cleanup(srv.Close)
	return srv
}

// get fetches url without the client's transparent gzip handling, so that
// what the server sent is what the test sees.
func get(t testing.TB, url string, header ...string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	client := &http.Client{Transport: &http.Transport{DisableCompression: true}}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: read body: %v", url, err)
	}
	return resp, body
}

// tool finds an external program the test needs: missing, it fails the test
// on CI and skips it elsewhere.
// TODO: use internal/testenv.Command once it lands.
func tool(t testing.TB, name string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is required on CI: %v", name, err)
		}
		t.Skipf("%s not installed: %v", name, err)
	}
	return path
}

// decodeTile reads a tile with orb's generated protobuf code, not with
// anything of this package.
func decodeTile(t testing.TB, data []byte) *vectortile.Tile {
	t.Helper()
	var tile vectortile.Tile
	if err := proto.Unmarshal(data, &tile); err != nil {
		t.Fatalf("decode tile: %v", err)
	}
	return &tile
}

// part is one point set, line or ring of a decoded geometry, in absolute
// tile coordinates.
type part [][2]int64

// decodeGeometry interprets the command stream of a feature and reports
// every breach of the MVT 2.1 geometry rules it sees.
func decodeGeometry(t testing.TB, typ vectortile.Tile_GeomType, cmds []uint32) []part {
	t.Helper()
	var parts []part
	var x, y int64
	unzig := func(v uint32) int64 { return int64(int32(v>>1) ^ -int32(v&1)) }
	for i := 0; i < len(cmds); {
		id, count := cmds[i]&7, int(cmds[i]>>3)
		i++
		switch id {
		case 1, 2:
			if i+2*count > len(cmds) {
				t.Fatalf("command %d at %d: %d parameters past the end %v", id, i-1, count, cmds)
			}
			if id == 1 {
				if typ != vectortile.Tile_POINT && count != 1 {
					t.Errorf("MoveTo with count %d in a %v", count, typ)
				}
				if typ != vectortile.Tile_POINT || len(parts) == 0 {
					parts = append(parts, nil)
				}
			} else if len(parts) == 0 {
				t.Fatalf("LineTo before MoveTo: %v", cmds)
			}
			for range count {
				dx, dy := unzig(cmds[i]), unzig(cmds[i+1])
				i += 2
				if id == 2 && dx == 0 && dy == 0 {
					t.Errorf("zero-length LineTo in %v", cmds)
				}
				x, y = x+dx, y+dy
				parts[len(parts)-1] = append(parts[len(parts)-1], [2]int64{x, y})
			}
		case 7:
			if typ != vectortile.Tile_POLYGON || count != 1 {
				t.Errorf("ClosePath with count %d in a %v", count, typ)
			}
			r := parts[len(parts)-1]
			if len(r) < 3 {
				t.Errorf("ring of %d points: %v", len(r), r)
			}
			if r[0] == r[len(r)-1] {
				t.Errorf("ring repeats its first point before ClosePath: %v", r)
			}
		default:
			t.Fatalf("unknown command %d in %v", id, cmds)
		}
	}
	return parts
}

// area is the surveyor's formula on a decoded ring; positive is an exterior.
func area(r part) float64 {
	var a int64
	for i := range r {
		p, q := r[i], r[(i+1)%len(r)]
		a += p[0]*q[1] - q[0]*p[1]
	}
	return float64(a) / 2
}

// tags decodes a feature's attributes by the Value field that carries each.
func tags(t testing.TB, l *vectortile.Tile_Layer, f *vectortile.Tile_Feature) map[string]any {
	t.Helper()
	if len(f.Tags)%2 != 0 {
		t.Fatalf("feature %d: odd number of tags %v", f.GetId(), f.Tags)
	}
	out := map[string]any{}
	for i := 0; i < len(f.Tags); i += 2 {
		k, v := l.Keys[f.Tags[i]], l.Values[f.Tags[i+1]]
		switch {
		case v.StringValue != nil:
			out[k] = *v.StringValue
		case v.DoubleValue != nil:
			out[k] = *v.DoubleValue
		case v.IntValue != nil:
			out[k] = *v.IntValue
		case v.SintValue != nil:
			out[k] = *v.SintValue
		case v.BoolValue != nil:
			out[k] = *v.BoolValue
		default:
			t.Errorf("key %q: value %v in an unexpected field", k, v)
		}
	}
	return out
}
