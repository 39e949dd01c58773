package storetest

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/csdi-hk/csdi/catalog"
	"github.com/csdi-hk/csdi/geo"
)

// childEnv, set in a child process of KillMidReplace, holds where its store is.
const childEnv = "CSDI_STORETEST_KILL_CHILD"

// blocked is the line the child prints once it is in the middle of a replace.
const blocked = "storetest: child blocked in the middle of a replace"

// Kill says where a store is and how to look at it for KillMidReplace.
type Kill struct {
	// Where returns where a fresh store is (a file, a database URL). It is
	// called in the parent process only.
	Where func(t *testing.T) string
	// Open opens the store at where.
	Open func(t testing.TB, where string) catalog.Store
	// During, if set, runs while the child is blocked in the middle of its
	// replace: it can check that the replace has written something.
	During func(t *testing.T, where string)
	// After runs once the child is dead, before the checks of the store:
	// it waits for what the store needs to notice (a server-side session)
	// and looks for debris.
	After func(t *testing.T, where string)
}

// KillMidReplace checks that a process killed with SIGKILL in the middle of
// a replace leaves the previous version served, its history intact, and the
// layer free for the next writer. The parent makes two versions of layer
// "victim", then runs the test binary again, as a child that opens the same
// store and replaces the layer from a stream that stops after 50,000
// features and waits to be killed.
//
// The test that calls it must be a top-level test; in the child it runs
// only the child's part.
func KillMidReplace(t *testing.T, k Kill) {
	if where := os.Getenv(childEnv); where != "" {
		killChild(t, k.Open(t, where))
		return
	}
	if testing.Short() {
		t.Skip("starts a child process")
	}
	where := k.Where(t)
	s := k.Open(t, where)
	v1 := replace(t, s, catalog.LayerInfo{ID: "victim", Title: "One", CreatedBy: "parent", SourceFile: "one.geojson"}, features(100, 1))
	v2 := replace(t, s, catalog.LayerInfo{ID: "victim", Title: "Two", CreatedBy: "parent", SourceFile: "two.geojson"}, features(200, 2))
	hist := history(t, s, "victim")
	if err := s.Close(); err != nil {
		t.Fatalf("close store: %v", err)
	}

	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^"+regexp.QuoteMeta(t.Name())+"$", "-test.count=1", "-test.v")
	cmd.Env = append(os.Environ(), childEnv+"="+where)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start the child: %v", err)
	}
	killed := false
	defer func() {
		if !killed {
			cmd.Process.Kill()
			cmd.Wait()
		}
	}()
	lines := bufio.NewScanner(out)
	var said []string
	for !slices.Contains(said, blocked) {
		if !lines.Scan() {
			cmd.Process.Kill()
			cmd.Wait()
			killed = true
			t.Fatalf("the child ended before it was in the middle of its replace:\n%s\n%s", strings.Join(said, "\n"), stderr.String())
		}
		said = append(said, lines.Text())
	}
	if k.During != nil {
		k.During(t, where)
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatalf("kill the child: %v", err)
	}
	err = cmd.Wait()
	killed = true
	if !strings.Contains(fmt.Sprint(err), "killed") {
		t.Fatalf("the child was not killed: %v\n%s", err, stderr.String())
	}
	if k.After != nil {
		k.After(t, where)
	}

	s = k.Open(t, where)
	defer s.Close()
	got, feats := read(t, s, "victim")
	checkInfo(t, "after the kill", got, v2)
	if got.Version != v2.Version {
		t.Errorf("version %d after the kill, want %d", got.Version, v2.Version)
	}
	sameFeatures(t, feats, features(200, 2))
	sameVersions(t, "history after the kill", history(t, s, "victim"), hist)
	ls, err := s.Layers(ctxFor(t))
	if err != nil || len(ls) != 1 {
		t.Errorf("layers after the kill: %v %v, want only victim", ids(ls), err)
	}
	// Nothing holds the layer: a writer gets through at once, and the
	// version before is still there.
	wctx, wcancel := context.WithTimeout(ctxFor(t), 30*time.Second)
	defer wcancel()
	if _, err := s.ReplaceLayer(wctx, catalog.LayerInfo{ID: "victim", Title: "Three"}, seq(features(3, 3))); err != nil {
		t.Fatalf("replace after the kill: %v", err)
	}
	rollback(t, s, "victim", v2.Version)
	_, feats = read(t, s, "victim")
	sameFeatures(t, feats, features(200, 2))
	notKept(t, s, "victim", v1.Version)
}

// killChild replaces layer victim from a stream that blocks after enough
// features to fill a store's caches, and waits there to be killed.
func killChild(t *testing.T, s catalog.Store) {
	const n = 50_000
	pad := strings.Repeat("填充", 40)
	stream := func(yield func(geo.Feature, error) bool) {
		for i := range n {
			if !yield(point(uint64(i+1), map[string]any{"v": int64(9), "pad": pad}), nil) {
				return
			}
		}
		// Printed straight to stdout, which the parent reads line by line.
		fmt.Fprintln(os.Stdout, "\n"+blocked)
		time.Sleep(time.Minute)
		fmt.Fprintln(os.Stderr, "storetest: the child was not killed within a minute")
		os.Exit(3)
	}
	_, err := s.ReplaceLayer(t.Context(), catalog.LayerInfo{ID: "victim", Title: "Never", CreatedBy: "child"}, stream)
	t.Fatalf("the child's replace returned (%v) before it was killed", err)
}
