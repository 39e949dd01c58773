package catalog_test

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"iter"
	"log/slog"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/paulmach/orb"

	"github.com/csdi-hk/csdi/catalog"
	"github.com/csdi-hk/csdi/catalog/gpkg"
	"github.com/csdi-hk/csdi/geo"
)

func openStore(t *testing.T, path string) *gpkg.Store {
	t.Helper()
	s, err := gpkg.Open(t.Context(), path)
	if err != nil {
		t.Fatalf("open %s: %v", path, err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func newCatalog(t *testing.T, s catalog.Store) *catalog.Catalog {
	t.Helper()
	return catalog.New(s, slog.New(slog.DiscardHandler))
}

func seq(feats []geo.Feature) iter.Seq2[geo.Feature, error] {
	return func(yield func(geo.Feature, error) bool) {
		for _, f := range feats {
			if !yield(f, nil) {
				return
			}
		}
	}
}

// points makes n point features tagged with a version, in shuffled id order.
func points(n int, version int64) []geo.Feature {
	feats := make([]geo.Feature, n)
	for i := range feats {
		feats[i] = geo.Feature{
			ID:         uint64(n - i),
			Geometry:   orb.Point{114 + float64(i)*1e-4, 22.3},
			Properties: map[string]any{"v": version, "名稱": fmt.Sprint("點", n-i)},
		}
	}
	return feats
}

// changes records the ids OnChange is told of.
type changes struct {
	mu  sync.Mutex
	ids []string
}

func (c *changes) record(id string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.ids = append(c.ids, id)
}

func (c *changes) take() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	ids := c.ids
	c.ids = nil
	return ids
}

func TestLoad(t *testing.T) {
	s := openStore(t, filepath.Join(t.TempDir(), "csdi.gpkg"))
	sizes := map[string]int{"toilets": 30, "bus_stops": 7, "parks": 0, "a_roads": 12}
	for id, n := range sizes {
		if _, err := s.ReplaceLayer(t.Context(), catalog.LayerInfo{ID: id, Title: id}, seq(points(n, 1))); err != nil {
			t.Fatalf("replace %s: %v", id, err)
		}
	}
	c := newCatalog(t, s)
	if c.Ready() {
		t.Error("ready before Load")
	}
	if err := c.Load(t.Context()); err != nil {
		t.Fatalf("load: %v", err)
	}
	if !c.Ready() {
		t.Error("not ready after Load")
	}
	var got []string
	for _, l := range c.Layers() {
		got = append(got, l.Info.ID)
	}
	if want := []string{"a_roads", "bus_stops", "parks", "toilets"}; !slices.Equal(got, want) {
		t.Errorf("layers %v, want %v", got, want)
	}
	for id, n := range sizes {
		l, ok := c.Layer(id)
		if !ok {
			t.Fatalf("layer %s missing", id)
		}
		if l.Len() != n || l.Info.FeatureCount != int64(n) {
			t.Errorf("layer %s: %d features, info says %d, want %d", id, l.Len(), l.Info.FeatureCount, n)
		}
		for i := range l.Len() {
			f := l.At(i)
			if f.ID != uint64(i+1) {
				t.Fatalf("layer %s: feature %d has id %d, want ids in order", id, i, f.ID)
			}
			if v, _ := l.Value(i, "名稱"); v != fmt.Sprint("點", i+1) {
				t.Errorf("layer %s feature %d: 名稱 = %v", id, f.ID, v)
			}
		}
	}
	if _, ok := c.Layer("nothing"); ok {
		t.Error("a layer never made is there")
	}
}

// TestReplaceKeepsSnapshots swaps versions in while readers hold and walk
// snapshots: a held snapshot never changes, and every snapshot is whole.
func TestReplaceKeepsSnapshots(t *testing.T) {
	s := openStore(t, filepath.Join(t.TempDir(), "csdi.gpkg"))
	c := newCatalog(t, s)
	var ch changes
	c.OnChange(ch.record)
	ctx := t.Context()
	const n = 300
	first, err := c.Replace(ctx, catalog.LayerInfo{ID: "lamps", Title: "v1"}, seq(points(n, 1)))
	if err != nil {
		t.Fatalf("replace: %v", err)
	}
	held, ok := c.Layer("lamps")
	if !ok || held.Info.Version != first.Version {
		t.Fatalf("layer after replace: %v %+v", ok, held)
	}

	stop := make(chan struct{})
	var wg sync.WaitGroup
	var reads atomic.Int64
	errs := make(chan error, 4)
	for range 2 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				l, _ := c.Layer("lamps")
				if err := whole(l); err != nil {
					errs <- err
					return
				}
				reads.Add(1)
			}
		})
	}
	for v := int64(2); v <= 6; v++ {
		size := n + int(v)*10
		info, err := c.Replace(ctx, catalog.LayerInfo{ID: "lamps", Title: fmt.Sprint("v", v)}, seq(points(size, v)))
		if err != nil {
			t.Fatalf("replace %d: %v", v, err)
		}
		l, _ := c.Layer("lamps")
		if l.Info.Version != info.Version || l.Len() != size {
			t.Errorf("after replace %d the catalog has version %d with %d features, want %d with %d", v, l.Info.Version, l.Len(), info.Version, size)
		}
	}
	close(stop)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if err := whole(held); err != nil || held.Info.Title != "v1" || held.Len() != n {
		t.Errorf("the snapshot held from before changed: %q with %d features (%v)", held.Info.Title, held.Len(), err)
	}
	if got := ch.take(); len(got) != 6 || slices.ContainsFunc(got, func(id string) bool { return id != "lamps" }) {
		t.Errorf("OnChange told %v, want lamps 6 times", got)
	}
	t.Logf("%d whole reads during the replaces", reads.Load())

	// A failed replace changes nothing in memory and tells no one.
	before, _ := c.Layer("lamps")
	boom := errors.New("boom")
	_, err = c.Replace(ctx, catalog.LayerInfo{ID: "lamps", Title: "broken"}, func(yield func(geo.Feature, error) bool) {
		if yield(points(1, 9)[0], nil) {
			yield(geo.Feature{}, boom)
		}
	})
	if !errors.Is(err, boom) {
		t.Errorf("failed replace: got %v, want %v", err, boom)
	}
	if after, _ := c.Layer("lamps"); after != before {
		t.Error("a failed replace swapped the snapshot")
	}
	if _, err := c.Replace(ctx, catalog.LayerInfo{ID: "Bad Id"}, seq(nil)); err == nil {
		t.Error("replace with an invalid id: no error")
	}
	if got := ch.take(); len(got) != 0 {
		t.Errorf("failed replaces told OnChange %v", got)
	}
}

// whole checks a snapshot is one version: every feature carries the version
// in its title, ids ascend, and the count matches.
func whole(l *catalog.Layer) error {
	if int64(l.Len()) != l.Info.FeatureCount {
		return fmt.Errorf("%s: %d features, info says %d", l.Info.Title, l.Len(), l.Info.FeatureCount)
	}
	for i := range l.Len() {
		f := l.At(i)
		if v, _ := l.Value(i, "v"); fmt.Sprint("v", v) != l.Info.Title {
			return fmt.Errorf("feature %d of version %v in a snapshot of %s", f.ID, v, l.Info.Title)
		}
		if i > 0 && l.At(i-1).ID >= f.ID {
			return fmt.Errorf("%s: ids out of order at %d", l.Info.Title, i)
		}
	}
	return nil
}

// TestSearch checks the R-tree against a scan of every feature, on a seeded
// random mix of points, lines and polygons loaded through the store.
func TestSearch(t *testing.T) {
	s := openStore(t, filepath.Join(t.TempDir(), "csdi.gpkg"))
	rng := rand.New(rand.NewPCG(7, 11))
	coord := func() orb.Point { return orb.Point{113.8 + rng.Float64()*0.6, 22.15 + rng.Float64()*0.4} }
	var feats []geo.Feature
	for i := range 3000 {
		p := coord()
		var g orb.Geometry
		switch i % 3 {
		case 0:
			g = p
		case 1:
			g = orb.LineString{p, {p[0] + rng.Float64()*0.03, p[1] - rng.Float64()*0.03}, {p[0] + rng.Float64()*0.03, p[1]}}
		case 2:
			w, h := rng.Float64()*0.05, rng.Float64()*0.05
			g = orb.Polygon{{p, {p[0] + w, p[1]}, {p[0] + w, p[1] + h}, {p[0], p[1] + h}, p}}
		}
		// Ids far apart and not in order.
		feats = append(feats, geo.Feature{ID: uint64(rng.Int64N(1<<40)) + 1, Geometry: g})
	}
	slices.SortFunc(feats, func(a, b geo.Feature) int { return cmp.Compare(a.ID, b.ID) })
	feats = slices.CompactFunc(feats, func(a, b geo.Feature) bool { return a.ID == b.ID })
	rng.Shuffle(len(feats), func(i, j int) { feats[i], feats[j] = feats[j], feats[i] })
	if _, err := s.ReplaceLayer(t.Context(), catalog.LayerInfo{ID: "mix", Title: "Mix"}, seq(feats)); err != nil {
		t.Fatal(err)
	}
	c := newCatalog(t, s)
	if err := c.Load(t.Context()); err != nil {
		t.Fatal(err)
	}
	l, _ := c.Layer("mix")

	total := 0
	for q := range 200 {
		p := coord()
		size := []float64{0, 0.001, 0.02, 0.2, 1}[q%5]
		b := orb.Bound{Min: p, Max: orb.Point{p[0] + size, p[1] + size*0.7}}
		// The index keeps bounds as float32 rounded outward (geo/rtree):
		// it may also find features that miss b by a float32 step.
		want, near := map[uint64]bool{}, map[uint64]bool{}
		for _, f := range feats {
			if fb := f.Geometry.Bound(); fb.Intersects(b) {
				want[f.ID] = true
			} else if fb.Intersects(b.Pad(2e-5)) {
				near[f.ID] = true
			}
		}
		got := map[uint64]bool{}
		l.Search(b, func(i int, f *geo.Feature) bool {
			if l.At(i) != f {
				t.Fatalf("search gave index %d for feature %d", i, f.ID)
			}
			if got[f.ID] || !want[f.ID] && !near[f.ID] {
				t.Fatalf("search %v: feature %d found twice or far away", b, f.ID)
			}
			got[f.ID] = true
			return true
		})
		for id := range want {
			if !got[id] {
				t.Fatalf("search %v: feature %d meets it but was not found", b, id)
			}
		}
		total += len(want)
	}
	if total == 0 {
		t.Fatal("no query found anything: the test checks nothing")
	}

	// Returning false stops the search.
	calls := 0
	l.Search(orb.Bound{Min: orb.Point{113, 22}, Max: orb.Point{115, 23}}, func(int, *geo.Feature) bool {
		calls++
		return false
	})
	if calls != 1 {
		t.Errorf("search went on %d times after fn returned false", calls)
	}

	// Feature by id, for ids that are there and ids that are not.
	for _, f := range feats[:50] {
		got, ok := l.Feature(f.ID)
		if !ok || got.ID != f.ID || got.Geometry.Bound() != f.Geometry.Bound() {
			t.Fatalf("feature %d: %v %v", f.ID, ok, got)
		}
		if _, ok := l.Feature(f.ID + 1<<41); ok {
			t.Errorf("feature %d found though no feature has that id", f.ID+1<<41)
		}
	}
	if _, ok := l.Feature(0); ok {
		t.Error("feature 0 found")
	}
}

// TestRefreshAndDelete runs two catalogs over one file, as two replicas over
// one store: a change made through one reaches the other by Refresh.
func TestRefreshAndDelete(t *testing.T) {
	path := filepath.Join(t.TempDir(), "csdi.gpkg")
	a, b := newCatalog(t, openStore(t, path)), newCatalog(t, openStore(t, path))
	var chA, chB changes
	a.OnChange(chA.record)
	b.OnChange(chB.record)
	ctx := t.Context()
	if _, err := a.Replace(ctx, catalog.LayerInfo{ID: "parks", Title: "v1"}, seq(points(5, 1))); err != nil {
		t.Fatal(err)
	}
	if err := b.Load(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Replace(ctx, catalog.LayerInfo{ID: "parks", Title: "v2"}, seq(points(8, 2))); err != nil {
		t.Fatal(err)
	}
	if l, _ := b.Layer("parks"); l.Info.Title != "v1" {
		t.Fatalf("replica b saw %q before it refreshed", l.Info.Title)
	}
	if err := b.Refresh(ctx, "parks"); err != nil {
		t.Fatal(err)
	}
	if l, _ := b.Layer("parks"); l.Info.Title != "v2" || l.Len() != 8 || whole(l) != nil {
		t.Errorf("after refresh replica b has %q with %d features", l.Info.Title, l.Len())
	}
	// A refresh of a layer the replica never loaded brings it in.
	if _, err := a.Replace(ctx, catalog.LayerInfo{ID: "trees", Title: "v1"}, seq(points(3, 1))); err != nil {
		t.Fatal(err)
	}
	if err := b.Refresh(ctx, "trees"); err != nil {
		t.Fatal(err)
	}
	if _, ok := b.Layer("trees"); !ok {
		t.Error("refresh did not bring in a new layer")
	}

	if err := a.Delete(ctx, "parks"); err != nil {
		t.Fatal(err)
	}
	if _, ok := a.Layer("parks"); ok {
		t.Error("parks still in memory after delete")
	}
	if _, err := a.Store().ReadLayer(ctx, "parks", func(geo.Feature) error { return nil }); !errors.Is(err, catalog.ErrNotFound) {
		t.Errorf("parks still in the store after delete: %v", err)
	}
	if err := a.Delete(ctx, "parks"); !errors.Is(err, catalog.ErrNotFound) {
		t.Errorf("second delete: got %v, want ErrNotFound", err)
	}
	if err := b.Refresh(ctx, "parks"); err != nil {
		t.Fatal(err)
	}
	if _, ok := b.Layer("parks"); ok {
		t.Error("refresh did not drop a deleted layer")
	}
	var ids []string
	for _, l := range b.Layers() {
		ids = append(ids, l.Info.ID)
	}
	if !slices.Equal(ids, []string{"trees"}) {
		t.Errorf("replica b has %v, want trees", ids)
	}

	if got, want := chA.take(), []string{"parks", "parks", "trees", "parks"}; !slices.Equal(got, want) {
		t.Errorf("a's OnChange told %v, want %v", got, want)
	}
	if got, want := chB.take(), []string{"parks", "trees", "parks"}; !slices.Equal(got, want) {
		t.Errorf("b's OnChange told %v, want %v", got, want)
	}
}

func TestLoadFailsOnCancelledContext(t *testing.T) {
	s := openStore(t, filepath.Join(t.TempDir(), "csdi.gpkg"))
	if _, err := s.ReplaceLayer(t.Context(), catalog.LayerInfo{ID: "x", Title: "x"}, seq(points(3, 1))); err != nil {
		t.Fatal(err)
	}
	c := newCatalog(t, s)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := c.Load(ctx); err == nil {
		t.Error("load with a cancelled context: no error")
	}
	if c.Ready() {
		t.Error("ready after a failed load")
	}
}
