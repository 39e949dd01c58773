package importers

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/paulmach/orb/geojson"

	"github.com/csdi-hk/csdi/catalog"
	"github.com/csdi-hk/csdi/catalog/postgis"
	"github.com/csdi-hk/csdi/internal/synth"
	"github.com/csdi-hk/csdi/internal/testenv"
)

// benchFeatures is the size of the import benchmark: issue 3 asks for a
// million polygons.
const benchFeatures = 1_000_000

// Environment of the child process that runs our side of the benchmark.
const (
	benchFileVar = "CSDI_BENCH_IMPORT_FILE"
	benchDBVar   = "CSDI_BENCH_IMPORT_DB"
)

// BenchmarkImportVsOGR2OGR imports one GeoJSON file of a million generated
// building polygons into PostGIS twice: with our pipeline (read, validate,
// COPY into a staging table, index, swap), in a child process so that its
// peak resident memory is its own, and with `ogr2ogr -f PostgreSQL` in
// its default COPY mode. It reports features/s of both (the best of
// CSDI_BENCH_ROUNDS runs, default 3), their ratio and our peak RSS; the
// targets are 1.5x ogr2ogr and under 300 MB.
//
//	make bench   or   .ci/with-postgis go test -run '^$' -bench ImportVsOGR2OGR -timeout 60m ./importers/
func BenchmarkImportVsOGR2OGR(b *testing.B) {
	ogr := testenv.Command(b, "ogr2ogr")
	db := testenv.PostGIS(b)
	n := benchFeatures
	if s := os.Getenv("CSDI_BENCH_FEATURES"); s != "" {
		n, _ = strconv.Atoi(s) // a smaller run while working on it
	}
	path := filepath.Join(b.TempDir(), "buildings.geojson")
	start := time.Now()
	size, err := writeGeoJSON(path, n)
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("wrote %d features, %.0f MB, in %s", n, float64(size)/1e6, time.Since(start).Round(time.Second))

	// The machine may be shared: each import runs several times, turn
	// about, and the fastest run of each counts.
	rounds := 3
	if s := os.Getenv("CSDI_BENCH_ROUNDS"); s != "" {
		rounds, _ = strconv.Atoi(s)
	}
	var ours, theirs, rss float64
	for b.Loop() {
		for round := range rounds {
			cmd := exec.Command(os.Args[0], "-test.run=^TestBenchImportChild$", "-test.count=1")
			cmd.Env = append(os.Environ(), benchFileVar+"="+path, benchDBVar+"="+db)
			secs, maxRSS, out, err := timed(cmd)
			if err != nil {
				b.Fatalf("our import: %v\n%s", err, out)
			}
			ours, rss = max(ours, float64(n)/secs), max(rss, maxRSS)
			// The CPU time of our process, the rest of the machine's
			// being PostgreSQL's, tells which side to speed up.
			cpu := (cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()).Seconds()
			b.Logf("round %d: csdi    %5.1f s, %6.0f features/s, peak RSS %3.0f MB, CPU %4.1f s", round+1, secs, float64(n)/secs, maxRSS, cpu)

			cmd = exec.Command(ogr, "-f", "PostgreSQL", pgConnString(b, db), path, "-nln", "ogr_buildings", "-overwrite")
			secs, ogrRSS, out, err := timed(cmd)
			if err != nil {
				b.Fatalf("ogr2ogr: %v\n%s", err, out)
			}
			theirs = max(theirs, float64(n)/secs)
			b.Logf("round %d: ogr2ogr %5.1f s, %6.0f features/s, peak RSS %3.0f MB", round+1, secs, float64(n)/secs, ogrRSS)
		}
	}
	b.ReportMetric(ours, "features/s")
	b.ReportMetric(theirs, "ogr2ogr-features/s")
	b.ReportMetric(ours/theirs, "x-ogr2ogr")
	b.ReportMetric(rss, "peak-RSS-MB")
	b.Logf("%.2fx ogr2ogr (target 1.5x), peak RSS %.0f MB (target < 300 MB)", ours/theirs, rss)
}

// TestBenchImportChild is our side of BenchmarkImportVsOGR2OGR, run in a
// process of its own; without the benchmark's environment it skips.
func TestBenchImportChild(t *testing.T) {
	path, db := os.Getenv(benchFileVar), os.Getenv(benchDBVar)
	if path == "" || db == "" {
		t.Skip("run by BenchmarkImportVsOGR2OGR")
	}
	ctx := context.Background()
	st, err := postgis.Open(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	reports, err := Import(ctx, st.ReplaceLayer, catalog.LayerInfo{ID: "buildings", Title: "Buildings"}, path, ImportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if r := reports[0]; r.Rejected > 0 || r.Imported == 0 {
		t.Fatalf("report %+v", r)
	}
}

// timed runs cmd and returns its wall time in seconds and its peak
// resident memory in MB.
func timed(cmd *exec.Cmd) (float64, float64, []byte, error) {
	start := time.Now()
	out, err := cmd.CombinedOutput()
	secs := time.Since(start).Seconds()
	var rss float64
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		rss = float64(ru.Maxrss) / 1024 // KB on Linux
	}
	return secs, rss, out, err
}

// pgConnString turns a postgres:// URL into GDAL's PG: key=value form.
func pgConnString(b *testing.B, db string) string {
	u, err := url.Parse(db)
	if err != nil {
		b.Fatal(err)
	}
	s := fmt.Sprintf("PG:host=%s port=%s dbname=%s user=%s", u.Hostname(), u.Port(), u.Path[1:], u.User.Username())
	if p, ok := u.User.Password(); ok {
		s += " password=" + p
	}
	return s
}

// writeGeoJSON writes n synth buildings (seed 1) as a FeatureCollection.
func writeGeoJSON(path string, n int) (int64, error) {
	f, err := os.Create(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	w := bufio.NewWriterSize(f, 1<<20)
	if err := writeBuildings(w, n); err != nil {
		return 0, fmt.Errorf("write %s: %w", path, err)
	}
	if err := w.Flush(); err != nil {
		return 0, err
	}
	st, err := f.Stat()
	if err != nil {
		return 0, err
	}
	return st.Size(), f.Close()
}

// writeBuildings writes n synth buildings (seed 1) to w as a
// FeatureCollection, one feature a line, as the benchmarks read them.
func writeBuildings(w io.Writer, n int) error {
	bw := bufio.NewWriter(w)
	bw.WriteString(`{"type":"FeatureCollection","features":[` + "\n")
	i := 0
	for feat, err := range synth.Buildings(1, n) {
		if err != nil {
			return err
		}
		gf := geojson.NewFeature(feat.Geometry)
		gf.ID = feat.ID
		gf.Properties = feat.Properties
		b, err := json.Marshal(gf)
		if err != nil {
			return err
		}
		if i > 0 {
			bw.WriteString(",\n")
		}
		bw.Write(b)
		i++
	}
	bw.WriteString("\n]}\n")
	return bw.Flush()
}
