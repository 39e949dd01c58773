package importers

import (
	"errors"
	"strings"
	"testing"

	"github.com/paulmach/orb"

	"github.com/csdi-hk/csdi/geo"
)

// checkFeatures compares what a reader yielded with the ids, geometries
// and properties a test expects, feature by feature.
func checkFeatures(t *testing.T, got []geo.Feature, ids []uint64, geoms []orb.Geometry, props []map[string]any) {
	t.Helper()
	if len(got) != len(ids) {
		t.Fatalf("%d features, want %d", len(got), len(ids))
	}
	for i, f := range got {
		if f.ID != ids[i] {
			t.Errorf("feature %d: id %d, want %d", i+1, f.ID, ids[i])
		}
		if !orb.Equal(f.Geometry, geoms[i]) {
			t.Errorf("feature %d: geometry %#v, want %#v", i+1, f.Geometry, geoms[i])
		}
		if len(f.Properties) != len(props[i]) {
			t.Errorf("feature %d: properties %v, want %v", i+1, f.Properties, props[i])
		}
		for k, want := range props[i] {
			if g, ok := f.Properties[k]; !ok || !sameValue(g, want) {
				t.Errorf("feature %d: %s = %#v, want %#v", i+1, k, g, want)
			}
		}
	}
}

// checkFirstError checks that a read failed the way a test expects: the
// first error names the file and contains want; it is a FeatureError of
// that row when row > 0 (the read went on), and ends the stream otherwise;
// read features came before or around it.
func checkFirstError(t *testing.T, file string, got []geo.Feature, errs []error, want string, row, read int) {
	t.Helper()
	if len(errs) == 0 || !strings.Contains(errs[0].Error(), want) || !strings.HasPrefix(errs[0].Error(), file) {
		t.Fatalf("errors = %v, want one starting with %q, containing %q", errs, file, want)
	}
	var fe *FeatureError
	if isFE := errors.As(errs[0], &fe); isFE != (row > 0) || (isFE && fe.Row != row) {
		t.Errorf("error %v: FeatureError %v, want row %d", errs[0], isFE, row)
	}
	if len(got) != read {
		t.Errorf("%d features read, want %d", len(got), read)
	}
}
