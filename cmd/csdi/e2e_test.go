package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/maptile"

	"github.com/csdi-hk/csdi/importers"
	"github.com/csdi-hk/csdi/internal/testenv"
)

// csdiBin is the binary under test, built once by TestMain.
var csdiBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "csdi-e2e")
	if err != nil {
		panic(err)
	}
	csdiBin = filepath.Join(dir, "csdi")
	out, err := exec.Command("go", "build", "-o", csdiBin, ".").CombinedOutput()
	if err != nil {
		fmt.Fprintf(os.Stderr, "build csdi: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

const sampleDir = "../../testdata/sample"

// csdi runs the binary to completion and returns its standard output.
func csdi(t *testing.T, args ...string) (string, error) {
	t.Helper()
	return csdiEnv(t, nil, args...)
}

// csdiEnv is csdi with env added to the binary's environment.
func csdiEnv(t *testing.T, env []string, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command(csdiBin, args...)
	cmd.Env = append(append(os.Environ(), "CSDI_DATABASE_URL=", "CSDI_KEEP_VERSIONS="), env...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return string(out), fmt.Errorf("csdi %s: %v: %s", strings.Join(args, " "), err, stderr.String())
	}
	return string(out), nil
}

// server is a running `csdi serve`.
type server struct {
	url  string
	cmd  *exec.Cmd
	logs *strings.Builder
}

func startServer(t *testing.T, storeArgs ...string) *server {
	t.Helper()
	return startServerEnv(t, nil, storeArgs...)
}

// startServerEnv starts `csdi serve` with env added to its environment.
func startServerEnv(t *testing.T, env []string, storeArgs ...string) *server {
	t.Helper()
	addr := freeAddr(t)
	s := &server{url: "http://" + addr, logs: &strings.Builder{}}
	s.cmd = exec.Command(csdiBin, append([]string{"serve", "--addr", addr}, storeArgs...)...)
	s.cmd.Env = append(append(os.Environ(), "CSDI_DATABASE_URL=", "CSDI_KEEP_VERSIONS="), env...)
	s.cmd.Stdout, s.cmd.Stderr = s.logs, s.logs
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if s.cmd.ProcessState == nil {
			s.cmd.Process.Kill()
			s.cmd.Wait()
		}
		if t.Failed() {
			t.Logf("server log:\n%s", s.logs)
		}
	})
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if code, _ := get(t, s.url+"/readyz"); code == http.StatusOK {
			return s
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("server not ready after 30s:\n%s", s.logs)
	return nil
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func get(t *testing.T, url string) (int, []byte) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		return 0, nil
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read %s: %v", url, err)
	}
	return resp.StatusCode, b
}

// sampleFeatures reads a sample layer with our own importer: the reference
// the server's answers are checked against.
func sampleFeatures(t *testing.T, name string) map[uint64]map[string]any {
	t.Helper()
	f, err := os.Open(filepath.Join(sampleDir, name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[uint64]map[string]any{}
	for feat, err := range importers.GeoJSON(f, name) {
		if err != nil {
			t.Fatal(err)
		}
		props := feat.Properties
		props["_geom"] = feat.Geometry
		out[feat.ID] = props
	}
	return out
}

// stores are the two stores, as the flags that select a fresh one.
var stores = []struct {
	name string
	args func(t *testing.T) []string
}{
	{"gpkg", func(t *testing.T) []string { return []string{"--data", t.TempDir()} }},
	{"postgis", func(t *testing.T) []string { return []string{"--db", testenv.PostGIS(t)} }},
}

// TestEndToEnd imports a GeoJSON file with the command line, serves it, and
// reads it back through GDAL twice: a tile through the MVT driver, the layer
// through the OGC API driver. It runs on both stores.
func TestEndToEnd(t *testing.T) {
	ogrinfo := testenv.Command(t, "ogrinfo")
	for _, st := range stores {
		t.Run(st.name, func(t *testing.T) {
			store := st.args(t)
			want := sampleFeatures(t, "public_toilets.geojson")

			if _, err := csdi(t, append([]string{"import", "--layer", "Bad-Id", filepath.Join(sampleDir, "public_toilets.geojson")}, store...)...); err == nil || !strings.Contains(err.Error(), "invalid layer id") {
				t.Fatalf("bad layer id: err = %v, want 'invalid layer id'", err)
			}
			out, err := csdi(t, append([]string{"import", filepath.Join(sampleDir, "public_toilets.geojson"), "--layer", "toilets", "--title", "Public toilets", "--title-zh", "公廁"}, store...)...)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(out, fmt.Sprintf("%d features", len(want))) {
				t.Fatalf("import output %q does not report %d features", out, len(want))
			}
			out, err = csdi(t, append([]string{"layers", "list"}, store...)...)
			if err != nil || !strings.Contains(out, "toilets") || !strings.Contains(out, "公廁") {
				t.Fatalf("layers list = %q, %v", out, err)
			}

			srv := startServer(t, store...)
			checkTile(t, ogrinfo, srv, want)
			checkOAPIF(t, ogrinfo, srv, len(want))

			code, body := get(t, srv.url+"/metrics")
			if code != 200 || !regexp.MustCompile(`(?m)^csdi_tiles_served_total [1-9]`).Match(body) ||
				!strings.Contains(string(body), fmt.Sprintf("csdi_features_loaded %d", len(want))) {
				t.Errorf("metrics (%d):\n%s", code, body)
			}

			// SIGTERM: the server finishes and exits cleanly.
			if err := srv.cmd.Process.Signal(syscall.SIGTERM); err != nil {
				t.Fatal(err)
			}
			done := make(chan error, 1)
			go func() { done <- srv.cmd.Wait() }()
			select {
			case err := <-done:
				if err != nil {
					t.Fatalf("server exit after SIGTERM: %v\n%s", err, srv.logs)
				}
			case <-time.After(20 * time.Second):
				t.Fatal("server did not stop within 20s of SIGTERM")
			}

			out, err = csdi(t, append([]string{"layers", "delete", "toilets"}, store...)...)
			if err != nil {
				t.Fatal(err)
			}
			if out, _ := csdi(t, append([]string{"layers", "list"}, store...)...); strings.Contains(out, "toilets") {
				t.Fatalf("layer still listed after delete: %q", out)
			}
		})
	}
}

// checkTile fetches the z15 tile holding one known feature and decodes it with GDAL.
func checkTile(t *testing.T, ogrinfo string, srv *server, want map[uint64]map[string]any) {
	t.Helper()
	code, body := get(t, srv.url+"/tiles/toilets.json")
	if code != 200 {
		t.Fatalf("tilejson: %d %s", code, body)
	}
	var tj struct {
		TileJSON string   `json:"tilejson"`
		Tiles    []string `json:"tiles"`
	}
	if err := json.Unmarshal(body, &tj); err != nil || tj.TileJSON != "3.0.0" || len(tj.Tiles) != 1 ||
		tj.Tiles[0] != srv.url+"/tiles/toilets/{z}/{x}/{y}.mvt" {
		t.Fatalf("tilejson = %s (%v)", body, err)
	}

	var id uint64
	var pt orb.Point
	for fid, p := range want {
		if id == 0 || fid < id {
			id, pt = fid, p["_geom"].(orb.Point)
		}
	}
	tile := maptile.At(pt, 15)
	code, body = get(t, fmt.Sprintf("%s/tiles/toilets/%d/%d/%d.mvt", srv.url, tile.Z, tile.X, tile.Y))
	if code != 200 {
		t.Fatalf("tile %v: status %d", tile, code)
	}
	// GDAL's MVT driver takes z/x/y from the path.
	path := filepath.Join(t.TempDir(), strconv.Itoa(int(tile.Z)), strconv.Itoa(int(tile.X)), strconv.Itoa(int(tile.Y))+".pbf")
	os.MkdirAll(filepath.Dir(path), 0o755)
	if err := os.WriteFile(path, body, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(ogrinfo, "-ro", "-al", "-oo", "CLIP=NO", path).CombinedOutput()
	if err != nil {
		t.Fatalf("ogrinfo %s: %v\n%s", path, err, out)
	}
	// The MVT driver numbers features itself and reports the tile's feature id as mvt_id.
	var got map[string]string
	for _, f := range parseOGRFeatures(string(out)) {
		if f["mvt_id"] == strconv.FormatUint(id, 10) {
			got = f
		}
	}
	if got == nil {
		t.Fatalf("feature %d not in tile %v; ogrinfo:\n%s", id, tile, out)
	}
	if got["NAME_TC"] != want[id]["NAME_TC"] {
		t.Errorf("feature %d NAME_TC = %q, want %q", id, got["NAME_TC"], want[id]["NAME_TC"])
	}
	// GDAL reports EPSG:3857 metres; one z15 tile pixel is about 4.8 m.
	var x, y float64
	if _, err := fmt.Sscanf(got["_geom"], "POINT (%g %g)", &x, &y); err != nil {
		t.Fatalf("geometry %q: %v", got["_geom"], err)
	}
	mx, my := mercator(pt)
	if math.Hypot(x-mx, y-my) > 5 {
		t.Errorf("feature %d at (%f, %f), want (%f, %f) within 5 m", id, x, y, mx, my)
	}
}

// checkOAPIF reads the layer through GDAL's OGC API Features driver.
func checkOAPIF(t *testing.T, ogrinfo string, srv *server, count int) {
	t.Helper()
	out, err := exec.Command(ogrinfo, "-ro", "-so", "OAPIF:"+srv.url+"/ogc", "toilets").CombinedOutput()
	if err != nil {
		t.Fatalf("ogrinfo OAPIF: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), fmt.Sprintf("Feature Count: %d", count)) {
		t.Fatalf("ogrinfo OAPIF does not report %d features:\n%s", count, out)
	}
	out, err = exec.Command(ogrinfo, "-ro", "-al", "-q", "OAPIF:"+srv.url+"/ogc").CombinedOutput()
	if err != nil {
		t.Fatalf("ogrinfo -al OAPIF: %v\n%s", err, out)
	}
	if n := len(parseOGRFeatures(string(out))); n != count {
		t.Fatalf("ogrinfo read %d features through OAPIF, want %d", n, count)
	}
}

var (
	ogrFeature = regexp.MustCompile(`^OGRFeature\(([^)]*)\):(\d+)$`)
	ogrField   = regexp.MustCompile(`^\s+(\S+) \([^)]*\) = (.*)$`)
	ogrGeom    = regexp.MustCompile(`^\s+((?:MULTI)?(?:POINT|LINESTRING|POLYGON) .*)$`)
)

// parseOGRFeatures reads ogrinfo's text dump: feature id -> field -> value,
// with the geometry's WKT under "_geom".
func parseOGRFeatures(out string) map[uint64]map[string]string {
	feats := map[uint64]map[string]string{}
	var cur map[string]string
	sc := bufio.NewScanner(strings.NewReader(out))
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		line := sc.Text()
		if m := ogrFeature.FindStringSubmatch(line); m != nil {
			id, _ := strconv.ParseUint(m[2], 10, 64)
			cur = map[string]string{}
			feats[id] = cur
			continue
		}
		if cur == nil {
			continue
		}
		if m := ogrField.FindStringSubmatch(line); m != nil {
			cur[m[1]] = m[2]
		} else if m := ogrGeom.FindStringSubmatch(line); m != nil {
			cur["_geom"] = m[1]
		}
	}
	return feats
}

func mercator(p orb.Point) (float64, float64) {
	const r = 6378137.0
	return r * p[0] * math.Pi / 180, r * math.Log(math.Tan(math.Pi/4+p[1]*math.Pi/360))
}

// TestViewer opens the map viewer in Debian's Chromium over the sample
// layers, clicks a feature and checks its popup (web-map/e2e/viewer.mjs).
func TestViewer(t *testing.T) {
	node := testenv.Command(t, "node")
	testenv.Command(t, "chromium")
	if _, err := os.Stat("../../web-map/node_modules/playwright-core"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("web-map/node_modules/playwright-core missing: run make build")
		}
		t.Skip("web-map/node_modules/playwright-core missing: run make build")
	}
	data := t.TempDir()
	// A department's token for the upload form, made before the server
	// starts, as an administrator would.
	token, err := csdi(t, "token", "create", "--department", "Lands Department", "--data", data)
	if err != nil {
		t.Fatal(err)
	}
	uploaded := writeTemp(t, "uploaded.geojson", `{"type":"FeatureCollection","features":[
{"type":"Feature","id":1,"geometry":{"type":"Point","coordinates":[114.172,22.298]},"properties":{"name":"上載測試 one"}},
{"type":"Feature","id":2,"geometry":{"type":"Point","coordinates":[114.158,22.281]},"properties":{"name":"上載測試 two"}}]}`)
	srv := startServer(t, "--data", data, "--seed", sampleDir)
	shot := filepath.Join(os.TempDir(), "csdi-viewer.png")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, node, "../../web-map/e2e/viewer.mjs", srv.url, shot, strings.TrimSpace(token), uploaded).CombinedOutput()
	if err != nil {
		t.Fatalf("viewer test: %v\n%s", err, out)
	}
	if st, err := os.Stat(shot); err != nil || st.Size() == 0 {
		t.Fatalf("no screenshot at %s: %v", shot, err)
	}
	fmt.Printf("viewer screenshot: %s\n", shot)
	t.Logf("%s", out)
}
