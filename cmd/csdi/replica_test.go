package main

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/mvt"
	"github.com/paulmach/orb/maptile"

	"github.com/csdi-hk/csdi/internal/testenv"
)

// TestReplicas runs two servers on one PostGIS database, warms the same
// tile on both, and changes the layer from a third process, `csdi import`:
// both must serve the new data, with a new ETag, within 2 seconds. Then the
// layer is deleted, and both must stop serving it as quickly.
func TestReplicas(t *testing.T) {
	db := testenv.PostGIS(t)
	store := []string{"--db", db}
	pier := orb.Point{114.1580, 22.2870}
	tile := maptile.At(pier, 15)
	dir := t.TempDir()
	// writeLayer writes a GeoJSON file of two toilets at the pier, named.
	writeLayer := func(name string) string {
		t.Helper()
		path := filepath.Join(dir, name+".geojson")
		body := fmt.Sprintf(`{"type":"FeatureCollection","features":[
{"type":"Feature","id":1,"geometry":{"type":"Point","coordinates":[%[1]f,%[2]f]},"properties":{"name":"%[4]s"}},
{"type":"Feature","id":2,"geometry":{"type":"Point","coordinates":[%[1]f,%[3]f]},"properties":{"name":"%[4]s"}}]}`,
			pier[0], pier[1], pier[1]+0.0001, name)
		if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return path
	}
	importLayer := func(name string) {
		t.Helper()
		if _, err := csdi(t, append([]string{"import", "--layer", "toilets", writeLayer(name)}, store...)...); err != nil {
			t.Fatal(err)
		}
	}

	importLayer("old")
	replicas := []*server{startServer(t, store...), startServer(t, store...)}
	url := func(s *server) string {
		return fmt.Sprintf("%s/tiles/toilets/%d/%d/%d.mvt", s.url, tile.Z, tile.X, tile.Y)
	}

	var etags []string
	for i, s := range replicas {
		for range 2 { // the second from the cache
			code, etag, names := fetchTile(t, url(s))
			if code != 200 || !slices.Equal(names, []string{"old", "old"}) {
				t.Fatalf("replica %d before the change: %d %v", i, code, names)
			}
			etags = append(etags, etag)
		}
	}
	if etags[0] == "" || len(slices.Compact(slices.Clone(etags))) != 1 {
		t.Errorf("ETags %q: want one tag, the same on both replicas", etags)
	}

	importLayer("new")
	changed := time.Now()
	for i, s := range replicas {
		for {
			code, etag, names := fetchTile(t, url(s))
			if code == 200 && slices.Equal(names, []string{"new", "new"}) {
				if etag == etags[0] {
					t.Errorf("replica %d serves the new data with the old ETag %s", i, etag)
				}
				t.Logf("replica %d serves the new data %v after the import", i, time.Since(changed).Round(time.Millisecond))
				break
			}
			if time.Since(changed) > 2*time.Second {
				t.Fatalf("replica %d still serves %d %v 2s after the import", i, code, names)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}

	if _, err := csdi(t, append([]string{"layers", "delete", "toilets"}, store...)...); err != nil {
		t.Fatal(err)
	}
	deleted := time.Now()
	for i, s := range replicas {
		for {
			code, _, _ := fetchTile(t, url(s))
			if code == http.StatusNotFound {
				break
			}
			if time.Since(deleted) > 2*time.Second {
				t.Fatalf("replica %d still answers %d for a deleted layer 2s after the delete", i, code)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
}

// fetchTile returns a tile's status, ETag and the sorted "name"s of the
// features of its toilets layer, decoded by orb's MVT decoder.
func fetchTile(t *testing.T, url string) (int, string, []string) {
	t.Helper()
	resp, err := http.Get(url) // the client asks for gzip and inflates it
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		return resp.StatusCode, "", nil
	}
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	layers, err := mvt.Unmarshal(body)
	if err != nil {
		t.Fatalf("decode %s: %v", url, err)
	}
	var names []string
	for _, l := range layers {
		if l.Name != "toilets" {
			continue
		}
		for _, f := range l.Features {
			names = append(names, fmt.Sprint(f.Properties["name"]))
		}
	}
	slices.Sort(names)
	return resp.StatusCode, resp.Header.Get("ETag"), names
}
