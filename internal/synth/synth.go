// Package synth generates Hong Kong-like layers from a seed: building
// footprints, street furniture points, road centrelines, housing estates with
// courtyards and one long coastline. Tests and benchmarks use it where real
// data would be too large to keep in the repository; the same seed and count
// always give the same features.
//
// Every generator returns a sequence that can be ranged over any number of
// times, each time yielding the same features with ids 1 to n, so one
// sequence can feed a store (catalog.Store.ReplaceLayer takes it as it is)
// and an in-memory layer. The error is always nil; it is there so that the
// sequences fit where features read from files do.
//
// Geometries are valid: polygon rings are closed and simple, exteriors are
// counter-clockwise and holes clockwise, holes lie strictly inside their
// exterior and apart from each other.
package synth

import (
	"fmt"
	"iter"
	"math"
	"math/rand/v2"

	"github.com/paulmach/orb"

	"github.com/csdi-hk/csdi/geo"
)

// Core is the dense core the generators cluster around: Kowloon and the
// north shore of Hong Kong Island.
var Core = orb.Bound{Min: orb.Point{114.13, 22.26}, Max: orb.Point{114.21, 22.34}}

// Metres per degree at the latitude of Victoria Harbour. A local flat-earth
// approximation is enough to make shapes of the right size; nothing here is
// surveyed.
const (
	mPerDegLat = 110_760.0
	mPerDegLon = 102_990.0
)

// district is a cluster centre: buildings of one district share a street
// grid orientation, as they do in Mong Kok or Causeway Bay.
type district struct {
	en, tc   string
	lon, lat float64
	spread   float64 // standard deviation, metres
	angle    float64 // street grid orientation, radians
}

var districts = [...]district{
	{"Tsim Sha Tsui", "尖沙咀", 114.172, 22.298, 700, 0.10},
	{"Yau Ma Tei", "油麻地", 114.170, 22.309, 600, 0.12},
	{"Mong Kok", "旺角", 114.169, 22.320, 700, 0.15},
	{"Sham Shui Po", "深水埗", 114.161, 22.331, 800, 0.70},
	{"Kowloon City", "九龍城", 114.190, 22.329, 800, 0.55},
	{"Hung Hom", "紅磡", 114.184, 22.306, 600, 0.40},
	{"To Kwa Wan", "土瓜灣", 114.189, 22.318, 600, 0.45},
	{"Sheung Wan", "上環", 114.150, 22.286, 500, 0.25},
	{"Central", "中環", 114.158, 22.281, 500, 0.30},
	{"Wan Chai", "灣仔", 114.173, 22.277, 600, 0.05},
	{"Causeway Bay", "銅鑼灣", 114.185, 22.280, 600, 0.02},
	{"North Point", "北角", 114.199, 22.290, 700, 0.35},
	{"Sai Ying Pun", "西營盤", 114.142, 22.286, 500, 0.20},
	{"Kwun Tong", "觀塘", 114.224, 22.312, 900, 0.60},
}

// Names are built from parallel English and Chinese word lists.
var (
	nameEN  = [...]string{"Wing On", "Kwong Fat", "Fook Lee", "Golden", "Harbour", "Ocean", "Lucky", "Hing Shing", "Tai Ping", "Man Yee", "Kam Fung", "Po Wah"}
	nameTC  = [...]string{"永安", "廣發", "福利", "金", "海港", "海洋", "幸運", "興盛", "太平", "文儀", "金豐", "寶華"}
	bldgEN  = [...]string{"Building", "Mansion", "House", "Court", "Centre", "Tower"}
	bldgTC  = [...]string{"大廈", "大樓", "樓", "閣", "中心", "大廈"}
	streetE = [...]string{"Nathan", "Shanghai", "Portland", "Reclamation", "Canton", "Queen's", "Hennessy", "Des Voeux", "King's", "Lockhart", "Argyle", "Prince Edward"}
	streetC = [...]string{"彌敦", "上海", "砵蘭", "新填地", "廣東", "皇后大", "軒尼詩", "德輔", "英皇", "駱克", "亞皆老", "太子"}
	roadEN  = [...]string{"Road", "Street", "Road", "Street", "Avenue", "Lane"}
	roadTC  = [...]string{"道", "街", "道", "街", "大道", "里"}
	usages  = [...]string{"residential", "residential", "residential", "commercial", "composite", "industrial", "government", "education"}
	classes = [...]string{"primary", "secondary", "tertiary", "tertiary", "local", "local", "local", "service"}
)

// Each generator draws from its own stream of the seed, so that changing one
// layer's count does not change another layer.
const (
	streamBuildings = iota + 1
	streamPoints
	streamRoads
	streamEstates
	streamCoastline
)

func newRand(seed, stream uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, stream)) }

// centre picks a place in a district most of the time, else anywhere in the
// core or in a wider box around it. The district it returns gives the
// street grid orientation wherever the place is.
func centre(rng *rand.Rand) (orb.Point, *district) {
	d := &districts[rng.IntN(len(districts))]
	switch r := rng.Float64(); {
	case r < 0.15:
		return orb.Point{
			Core.Min[0] + rng.Float64()*(Core.Max[0]-Core.Min[0]),
			Core.Min[1] + rng.Float64()*(Core.Max[1]-Core.Min[1]),
		}, d
	case r < 0.25:
		return orb.Point{113.95 + rng.Float64()*0.35, 22.22 + rng.Float64()*0.20}, d
	}
	return orb.Point{
		d.lon + rng.NormFloat64()*d.spread/mPerDegLon,
		d.lat + rng.NormFloat64()*d.spread/mPerDegLat,
	}, d
}

// toLonLat turns local metres around c, rotated by angle, into degrees.
func toLonLat(c orb.Point, angle float64, x, y float64) orb.Point {
	s, co := math.Sincos(angle)
	return orb.Point{
		c[0] + (x*co-y*s)/mPerDegLon,
		c[1] + (x*s+y*co)/mPerDegLat,
	}
}

// Buildings yields n building footprints of 4 to 8 vertices, 10 to 60 m a
// side: rectangles, L-shapes and U-shapes aligned with their district's
// streets.
func Buildings(seed uint64, n int) iter.Seq2[geo.Feature, error] {
	return func(yield func(geo.Feature, error) bool) {
		rng := newRand(seed, streamBuildings)
		for i := range n {
			c, d := centre(rng)
			angle := d.angle + rng.NormFloat64()*0.05
			if rng.Float64() < 0.1 {
				angle = rng.Float64() * math.Pi
			}
			ring := footprint(rng)
			for j, p := range ring {
				ring[j] = toLonLat(c, angle, p[0], p[1])
			}
			floors := int64(1 + math.Min(79, math.Abs(rng.NormFloat64())*20))
			k := rng.IntN(len(nameEN))
			b := rng.IntN(len(bldgEN))
			f := geo.Feature{
				ID:       uint64(i + 1),
				Geometry: orb.Polygon{ring},
				Properties: map[string]any{
					"id":       int64(i + 1),
					"name_en":  fmt.Sprintf("%s %s %d", nameEN[k], bldgEN[b], 1+rng.IntN(30)),
					"name_tc":  fmt.Sprintf("%s%s%d座", nameTC[k], bldgTC[b], 1+rng.IntN(30)),
					"height_m": math.Round((float64(floors)*3.2+rng.Float64()*6)*10) / 10,
					"floors":   floors,
					"year":     int64(1950 + rng.IntN(75)),
					"usage":    usages[rng.IntN(len(usages))],
				},
			}
			if !yield(f, nil) {
				return
			}
		}
	}
}

// footprint is a closed counter-clockwise ring in local metres centred near
// the origin: a rectangle, an L (a corner notched out) or a U (a notch in the
// middle of one side). Notches stay strictly inside the rectangle, so the
// rings are simple.
func footprint(rng *rand.Rand) orb.Ring {
	w, h := 10+rng.Float64()*50, 10+rng.Float64()*50
	x0, y0 := -w/2, -h/2
	x1, y1 := w/2, h/2
	switch r := rng.Float64(); {
	case r < 0.5:
		return orb.Ring{{x0, y0}, {x1, y0}, {x1, y1}, {x0, y1}, {x0, y0}}
	case r < 0.8:
		// Notch the top-right corner.
		nx := x1 - w*(0.3+0.4*rng.Float64())
		ny := y1 - h*(0.3+0.4*rng.Float64())
		return orb.Ring{{x0, y0}, {x1, y0}, {x1, ny}, {nx, ny}, {nx, y1}, {x0, y1}, {x0, y0}}
	default:
		// Notch the middle of the top side.
		a := x0 + w*(0.2+0.15*rng.Float64())
		b := x1 - w*(0.2+0.15*rng.Float64())
		ny := y1 - h*(0.3+0.4*rng.Float64())
		return orb.Ring{{x0, y0}, {x1, y0}, {x1, y1}, {b, y1}, {b, ny}, {a, ny}, {a, y1}, {x0, y1}, {x0, y0}}
	}
}

// Points yields n points: lampposts and bus stops, scattered the way the
// buildings are.
func Points(seed uint64, n int) iter.Seq2[geo.Feature, error] {
	return func(yield func(geo.Feature, error) bool) {
		rng := newRand(seed, streamPoints)
		for i := range n {
			c, _ := centre(rng)
			k := rng.IntN(len(streetE))
			props := map[string]any{"id": int64(i + 1)}
			if rng.Float64() < 0.2 {
				props["kind"] = "bus_stop"
				props["ref"] = fmt.Sprintf("BS%05d", rng.IntN(100_000))
				props["name_en"] = streetE[k] + " " + roadEN[rng.IntN(2)]
				props["name_tc"] = streetC[k] + roadTC[rng.IntN(2)]
				props["routes"] = int64(1 + rng.IntN(12))
			} else {
				props["kind"] = "lamppost"
				props["ref"] = fmt.Sprintf("%c%04d", 'A'+rng.IntN(26), rng.IntN(10_000))
			}
			if !yield(geo.Feature{ID: uint64(i + 1), Geometry: c, Properties: props}, nil) {
				return
			}
		}
	}
}

// Roads yields n road centrelines of 10 to 60 vertices, 15 to 60 m apart,
// that mostly follow their district's grid and now and then turn a corner.
func Roads(seed uint64, n int) iter.Seq2[geo.Feature, error] {
	return func(yield func(geo.Feature, error) bool) {
		rng := newRand(seed, streamRoads)
		for i := range n {
			c, d := centre(rng)
			heading := d.angle + float64(rng.IntN(4))*math.Pi/2
			nv := 10 + rng.IntN(51)
			ls := make(orb.LineString, nv)
			var x, y float64
			for j := range nv {
				ls[j] = toLonLat(c, 0, x, y)
				if rng.Float64() < 0.08 {
					heading += math.Pi / 2 * float64(1-2*rng.IntN(2))
				} else {
					heading += rng.NormFloat64() * 0.08
				}
				step := 15 + rng.Float64()*45
				x += step * math.Cos(heading)
				y += step * math.Sin(heading)
			}
			k, r := rng.IntN(len(streetE)), rng.IntN(len(roadEN))
			f := geo.Feature{
				ID:       uint64(i + 1),
				Geometry: ls,
				Properties: map[string]any{
					"id":      int64(i + 1),
					"name_en": streetE[k] + " " + roadEN[r],
					"name_tc": streetC[k] + roadTC[r],
					"class":   classes[rng.IntN(len(classes))],
					"lanes":   int64(1 + rng.IntN(4)),
					"oneway":  rng.Float64() < 0.4,
				},
			}
			if !yield(f, nil) {
				return
			}
		}
	}
}

// Estates yields n housing estates: strongly concave outlines 300 m to 3 km
// across, with one to four courtyards as holes. At z14 and deeper they leave
// and re-enter tiles, which is what polygon clipping gets wrong most often.
func Estates(seed uint64, n int) iter.Seq2[geo.Feature, error] {
	return func(yield func(geo.Feature, error) bool) {
		rng := newRand(seed, streamEstates)
		for i := range n {
			c, d := centre(rng)
			radius := 150 + rng.Float64()*1350
			lobes := 3 + rng.IntN(5)
			depth := 0.35 + rng.Float64()*0.3 // the inner radius is (1-depth)*radius
			ext, inner := star(rng, 16+rng.IntN(185), radius, lobes, depth, false)
			p := orb.Polygon{ext}
			holes := 1 + rng.IntN(4)
			// One hole in the middle, or several on a circle of half the
			// inner radius, apart from each other. An edge of the exterior
			// spans at most 1.8 of its n >= 16 angle steps, so it comes no
			// nearer the centre than cos(0.9*2*pi/16) = 0.94 times the
			// inner radius; holes keep within 0.85 of it.
			dist, hr := 0.0, 0.35*inner
			if holes > 1 {
				dist = inner / 2
				hr = math.Min(hr, 0.9*dist*math.Sin(math.Pi/float64(holes)))
			}
			turn := rng.Float64() * 2 * math.Pi
			for h := range holes {
				a := turn + 2*math.Pi*float64(h)/float64(holes)
				hole, _ := star(rng, 6+rng.IntN(20), hr, 2+rng.IntN(3), 0.3, true)
				off := orb.Point{dist * math.Cos(a), dist * math.Sin(a)}
				for j := range hole {
					hole[j] = orb.Point{hole[j][0] + off[0], hole[j][1] + off[1]}
				}
				p = append(p, hole)
			}
			for _, r := range p {
				for j, q := range r {
					r[j] = toLonLat(c, d.angle, q[0], q[1])
				}
			}
			f := geo.Feature{
				ID:       uint64(i + 1),
				Geometry: p,
				Properties: map[string]any{
					"id":      int64(i + 1),
					"name_en": fmt.Sprintf("%s %s Estate", d.en, nameEN[rng.IntN(len(nameEN))]),
					"name_tc": fmt.Sprintf("%s%s邨", d.tc, nameTC[rng.IntN(len(nameTC))]),
					"blocks":  int64(2 + rng.IntN(40)),
				},
			}
			if !yield(f, nil) {
				return
			}
		}
	}
}

// star is a closed ring of n vertices in local metres, star-shaped about the
// origin: one vertex per angle, in increasing order, at a radius between
// (1-depth)*radius and radius that rises and falls lobes times around. A ray
// from the origin meets such a ring once, so it is simple. It also returns
// the smallest radius used. clockwise winds it as a hole.
func star(rng *rand.Rand, n int, radius float64, lobes int, depth float64, clockwise bool) (orb.Ring, float64) {
	phase := rng.Float64() * 2 * math.Pi
	r := make(orb.Ring, n+1)
	inner := radius
	for j := range n {
		a := 2 * math.Pi * (float64(j) + 0.8*rng.Float64()) / float64(n)
		k := radius * (1 - depth*(0.5+0.5*math.Sin(float64(lobes)*a+phase)))
		k *= 0.92 + 0.08*rng.Float64()
		inner = math.Min(inner, k)
		if clockwise {
			a = -a
		}
		r[j] = orb.Point{k * math.Cos(a), k * math.Sin(a)}
	}
	r[n] = r[0]
	return r, inner
}

// Coastline returns one polygon of n vertices (n >= 3) around the whole
// territory, about 60 by 45 km with bays and headlands at every scale down to
// a few metres: at z12 it crosses tens of tiles and at z14 hundreds, each
// holding thousands of its vertices. Its id is 1.
func Coastline(seed uint64, n int) geo.Feature {
	rng := newRand(seed, streamCoastline)
	// A sum of sinusoids at doubling frequencies with amplitudes falling as
	// frequency^-0.6: a rough fractal outline, star-shaped about the centre
	// so that it cannot cross itself.
	type wave struct{ k, amp, phase float64 }
	var waves []wave
	total := 0.0
	for k := 2.0; k < float64(n)/4; k *= 2 {
		amp := math.Pow(k, -0.6)
		// Whole frequencies, so that the outline closes smoothly.
		waves = append(waves, wave{math.Round(k * (1 + 0.2*rng.Float64())), amp, rng.Float64() * 2 * math.Pi})
		total += amp
	}
	c := orb.Point{114.15, 22.35}
	const rx, ry = 30_000.0, 22_000.0
	ring := make(orb.Ring, n+1)
	for j := range n {
		a := 2 * math.Pi * float64(j) / float64(n)
		s := 0.0
		for _, w := range waves {
			s += w.amp * math.Sin(w.k*a+w.phase)
		}
		k := 1 + 0.6*s/total // between 0.4 and 1.6
		ring[j] = orb.Point{c[0] + rx*k*math.Cos(a)/mPerDegLon, c[1] + ry*k*math.Sin(a)/mPerDegLat}
	}
	ring[n] = ring[0]
	return geo.Feature{
		ID:       1,
		Geometry: orb.Polygon{ring},
		Properties: map[string]any{
			"id":      int64(1),
			"name_en": "Coastline",
			"name_tc": "海岸線",
		},
	}
}

// Collect gathers a sequence into a slice.
func Collect(seq iter.Seq2[geo.Feature, error]) ([]geo.Feature, error) {
	var out []geo.Feature
	for f, err := range seq {
		if err != nil {
			return nil, err
		}
		out = append(out, f)
	}
	return out, nil
}
