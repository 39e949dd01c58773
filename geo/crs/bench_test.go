package crs

import (
	"testing"

	"github.com/paulmach/orb"
)

// BenchmarkTransform converts points across Hong Kong one at a time and
// reports points per second for each CRS and direction.
func BenchmarkTransform(b *testing.B) {
	grid := hkGrid(1024)
	wgs := make([]orb.Point, len(grid))
	for i, p := range grid {
		wgs[i] = HK1980Grid.ToWGS84(p)
	}
	for _, c := range All() {
		native := make([]orb.Point, len(wgs))
		for i, p := range wgs {
			native[i] = c.FromWGS84(p)
		}
		for _, dir := range []struct {
			name string
			f    func(orb.Point) orb.Point
			in   []orb.Point
		}{{"ToWGS84", c.ToWGS84, native}, {"FromWGS84", c.FromWGS84, wgs}} {
			b.Run(dir.name+"/"+c.Code(), func(b *testing.B) {
				var sink orb.Point
				i := 0
				for b.Loop() {
					sink = dir.f(dir.in[i&1023])
					i++
				}
				b.ReportMetric(float64(i)/b.Elapsed().Seconds(), "points/s")
				_ = sink
			})
		}
	}
}
