package postgis_test

import (
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/paulmach/orb"

	"github.com/csdi-hk/csdi/catalog"
	"github.com/csdi-hk/csdi/geo"
	"github.com/csdi-hk/csdi/internal/testenv"
)

// buildings makes n building-like polygons (8-sided rings) spread over Hong
// Kong, with the kind of attributes the Lands Department publishes.
func buildings(n int) []geo.Feature {
	fs := make([]geo.Feature, n)
	for i := range fs {
		cx := 113.85 + float64(i%1000)*0.0004
		cy := 22.2 + float64(i/1000)*0.002
		ring := make(orb.Ring, 0, 9)
		for k := range 8 {
			a := float64(k) * math.Pi / 4
			ring = append(ring, orb.Point{cx + 0.0001*math.Cos(a), cy + 0.0001*math.Sin(a)})
		}
		ring = append(ring, ring[0])
		fs[i] = geo.Feature{
			ID:       uint64(i + 1),
			Geometry: orb.Polygon{ring},
			Properties: map[string]any{
				"BuildingNameEN": fmt.Sprint("Block ", i),
				"BuildingNameTC": fmt.Sprint("第", i, "座"),
				"storeys":        int64(i % 60),
				"height_m":       float64(i%60) * 3.1,
				"completed":      time.Date(1960+i%60, 1, 1, 0, 0, 0, 0, time.UTC),
			},
		}
	}
	return fs
}

func BenchmarkReplaceLayer(b *testing.B) {
	const n = 100_000
	s := open(b, testenv.PostGIS(b))
	feats := buildings(n)
	b.ResetTimer()
	for b.Loop() {
		if _, err := s.ReplaceLayer(b.Context(), catalog.LayerInfo{ID: "buildings"}, seq(feats)); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "features/s")
}

func BenchmarkReadLayer(b *testing.B) {
	const n = 100_000
	s := open(b, testenv.PostGIS(b))
	if _, err := s.ReplaceLayer(b.Context(), catalog.LayerInfo{ID: "buildings"}, seq(buildings(n))); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		count := 0
		if _, err := s.ReadLayer(b.Context(), "buildings", func(geo.Feature) error { count++; return nil }); err != nil {
			b.Fatal(err)
		}
		if count != n {
			b.Fatalf("read %d features, want %d", count, n)
		}
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "features/s")
}
