package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"
)

// keptVersions lists the versions `csdi layers history` shows, newest first.
func keptVersions(t *testing.T, store []string, id string) []int64 {
	t.Helper()
	out, err := csdi(t, append([]string{"layers", "history", id}, store...)...)
	if err != nil {
		t.Fatal(err)
	}
	var vs []int64
	for _, line := range strings.Split(strings.TrimSpace(out), "\n")[1:] {
		v, err := strconv.ParseInt(strings.Fields(line)[0], 10, 64)
		if err != nil {
			t.Fatalf("history line %q: %v", line, err)
		}
		vs = append(vs, v)
	}
	return vs
}

// TestKeepVersions: how many versions of a layer are kept is set by
// --keep-versions or $CSDI_KEEP_VERSIONS, for `csdi import` and for the
// uploads `csdi serve` imports, on both stores; the default keeps the
// version before; fewer than 2 is refused.
func TestKeepVersions(t *testing.T) {
	cases := []struct {
		name  string
		flags []string
		env   []string
		want  int
	}{
		{"default", nil, nil, 2},
		{"flag", []string{"--keep-versions", "3"}, nil, 3},
		{"environment", nil, []string{"CSDI_KEEP_VERSIONS=4"}, 4},
		{"flag over environment", []string{"--keep-versions", "3"}, []string{"CSDI_KEEP_VERSIONS=5"}, 3},
	}
	for _, st := range stores {
		for _, tc := range cases {
			t.Run(st.name+"/"+tc.name, func(t *testing.T) {
				store := st.args(t)
				withKeep := append(append([]string{}, store...), tc.flags...)
				// Two versions from the command line, three from uploads.
				for i := range 2 {
					file := writeTemp(t, "v.geojson", fmt.Sprintf(`{"type":"FeatureCollection","features":[
{"type":"Feature","geometry":{"type":"Point","coordinates":[114.15,22.28]},"properties":{"v":%d}}]}`, i))
					if _, err := csdiEnv(t, tc.env, append([]string{"import", "--layer", "lots", "--department", "Lands Department", file}, withKeep...)...); err != nil {
						t.Fatal(err)
					}
				}
				tok, err := csdi(t, append([]string{"token", "create", "--department", "Lands Department"}, store...)...)
				if err != nil {
					t.Fatal(err)
				}
				srv := startServerEnv(t, tc.env, withKeep...)
				for i := 2; i < 5; i++ {
					file := writeTemp(t, "v.geojson", fmt.Sprintf(`{"type":"FeatureCollection","features":[
{"type":"Feature","geometry":{"type":"Point","coordinates":[114.15,22.28]},"properties":{"v":%d}}]}`, i))
					status := putData(t, srv, strings.TrimSpace(tok), file, nil)
					if j := waitJob(t, status, func(j jobStatus) bool { return j.State == "done" || j.State == "failed" }); j.State != "done" {
						t.Fatalf("upload %d: %+v", i, j)
					}
				}
				kept := keptVersions(t, store, "lots")
				if len(kept) != tc.want {
					t.Fatalf("%d versions kept (%v), want %d", len(kept), kept, tc.want)
				}
				oldest := kept[len(kept)-1]
				if _, err := csdi(t, append([]string{"layers", "rollback", "lots", strconv.FormatInt(oldest-1, 10)}, store...)...); err == nil || !strings.Contains(err.Error(), "not kept") {
					t.Errorf("rollback to version %d, older than those kept: %v", oldest-1, err)
				}
				if out, err := csdiEnv(t, tc.env, append([]string{"layers", "rollback", "lots", strconv.FormatInt(oldest, 10)}, withKeep...)...); err != nil {
					t.Errorf("rollback to the oldest version kept, %d: %v\n%s", oldest, err, out)
				}
				if kept := keptVersions(t, store, "lots"); len(kept) != tc.want {
					t.Errorf("after the rollback %d versions kept (%v), want %d", len(kept), kept, tc.want)
				}
			})
		}
	}
}

// TestKeepVersionsRefused: a count that would not keep the version before
// is refused by every command, before anything changes.
func TestKeepVersionsRefused(t *testing.T) {
	file := writeTemp(t, "v.geojson", oldLayer)
	tests := []struct {
		name string
		args []string
		env  []string
	}{
		{"import --keep-versions 1", []string{"import", "--layer", "lots", "--keep-versions", "1", file}, nil},
		{"import --keep-versions x", []string{"import", "--layer", "lots", "--keep-versions", "x", file}, nil},
		{"import CSDI_KEEP_VERSIONS=0", []string{"import", "--layer", "lots", file}, []string{"CSDI_KEEP_VERSIONS=0"}},
		{"serve --keep-versions 1", []string{"serve", "--addr", "127.0.0.1:0", "--keep-versions", "1"}, nil},
		{"layers rollback --keep-versions -3", []string{"layers", "rollback", "lots", "1", "--keep-versions", "-3"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data := t.TempDir()
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			cmd := exec.CommandContext(ctx, csdiBin, append(tt.args, "--data", data)...)
			cmd.Env = append(append(os.Environ(), "CSDI_DATABASE_URL=", "CSDI_KEEP_VERSIONS="), tt.env...)
			out, err := cmd.CombinedOutput()
			if err == nil || ctx.Err() != nil || !strings.Contains(string(out), "want a whole number, 2 or more") {
				t.Errorf("err %v, output:\n%s", err, out)
			}
			if entries, _ := os.ReadDir(data); len(entries) != 0 {
				t.Errorf("the refused command made %v", entries)
			}
		})
	}
}
