//go:build ignore

// Command gen writes the synthetic Hong Kong sample layers in testdata/sample:
// districts, smart lampposts, public toilets and roads. Shapes come from the
// hand-written anchors below plus seeded jitter, so every run writes the same
// bytes; change -seed to get a different but equally plausible set.
//
//	go run testdata/sample/gen/main.go
package main

import (
	"bytes"
	"cmp"
	"encoding/json"
	"flag"
	"fmt"
	"hash/fnv"
	"log"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geo"
	"github.com/paulmach/orb/planar"
)

// nodes are named anchors shared by the districts on both sides of them, so
// neighbours get exactly the same boundary and never overlap.
var nodes = map[string]orb.Point{
	// Hong Kong Island: north shore west to east.
	"hkKT": {114.108, 22.281}, "hkSW": {114.148, 22.290}, "hkCEN": {114.160, 22.288},
	"hkADM": {114.168, 22.284}, "hkWC": {114.175, 22.286}, "hkCWB": {114.193, 22.288},
	"hkNP": {114.200, 22.295}, "hkQB": {114.215, 22.291}, "hkSKW": {114.228, 22.282},
	"hkLYM": {114.237, 22.279}, "hkSSW": {114.252, 22.263}, "hkEB": {114.251, 22.254},
	// Island south coast, east to west.
	"hkBWB": {114.249, 22.244}, "hkSO": {114.256, 22.230}, "hkCDA": {114.259, 22.208},
	"hkTT": {114.226, 22.236}, "hkSTT": {114.214, 22.200}, "hkST": {114.207, 22.217},
	"hkRB": {114.196, 22.234}, "hkDWB": {114.183, 22.242}, "hkWCH": {114.168, 22.243},
	"hkAB": {114.152, 22.246}, "hkWF": {114.136, 22.252}, "hkCP": {114.127, 22.259},
	"hkSB": {114.113, 22.268},
	// Island ridge and district corners.
	"hkPEAK": {114.145, 22.268}, "hkGAP": {114.167, 22.262}, "hkWE": {114.196, 22.273},
	"hkJP": {114.198, 22.258}, "hkMP": {114.220, 22.268},

	// Kowloon west shore, south to north.
	"kTST": {114.169, 22.293}, "kWK": {114.155, 22.301}, "kOL": {114.157, 22.312},
	"kYS": {114.155, 22.323}, "kSCE": {114.142, 22.321}, "kSCS": {114.130, 22.319},
	"kSCW": {114.121, 22.326}, "kSCN": {114.128, 22.333}, "kSK": {114.137, 22.340},
	// Kowloon east shore, south to north, then Kai Tak and Kwun Tong.
	"kHH": {114.178, 22.297}, "kHH2": {114.190, 22.301}, "kTKW": {114.193, 22.317},
	"kRWB": {114.197, 22.321}, "kRWT": {114.216, 22.302}, "kRET": {114.2195, 22.305},
	"kKCKT": {114.204, 22.325}, "kKT1": {114.215, 22.318}, "kKT2": {114.226, 22.307},
	"kYT": {114.232, 22.298}, "kLYM": {114.240, 22.289}, "kDP": {114.247, 22.295},
	// Kowloon inland corners.
	"kYSK": {114.176, 22.324}, "kYK": {114.178, 22.310}, "kSKC": {114.171, 22.337},
	"kKW": {114.190, 22.338}, "kKWK": {114.208, 22.333}, "kWK2": {114.218, 22.340},
	"kKS": {114.236, 22.320}, "kKQ": {114.143, 22.350},
	// Kowloon ridge, west to east.
	"rGH": {114.148, 22.360}, "rBH": {114.172, 22.352}, "rLR": {114.185, 22.352},
	"rTC": {114.216, 22.360}, "rKP": {114.228, 22.343},

	// Sha Tin.
	"stBF": {114.240, 22.375}, "stMOS": {114.258, 22.400}, "stSK": {114.250, 22.432},
	"stWKS": {114.240, 22.433}, "stMC": {114.229, 22.428}, "stMW": {114.222, 22.410},
	"stSTH": {114.199, 22.389}, "stMLS": {114.208, 22.425}, "stTP": {114.196, 22.432},
	"stN": {114.172, 22.420}, "stTRI": {114.155, 22.405}, "stW": {114.150, 22.385},
	"stKTS": {114.150, 22.372},
	// Kwai Tsing and Tsing Yi.
	"ktCT": {114.125, 22.340}, "tySE": {114.110, 22.334}, "tySW": {114.090, 22.341},
	"tyW": {114.085, 22.355}, "tyNW": {114.095, 22.365}, "tyN": {114.105, 22.366},
	"ktTW": {114.118, 22.369}, "ktB1": {114.126, 22.373}, "ktB2": {114.140, 22.378},
	// Tsuen Wan.
	"twW1": {114.100, 22.370}, "twTK": {114.080, 22.369}, "twST": {114.058, 22.367},
	"twTM": {114.035, 22.370}, "twTL": {114.040, 22.386}, "twTTY": {114.050, 22.405},
	"twN": {114.080, 22.415}, "twTYT": {114.110, 22.422}, "twNE": {114.135, 22.413},
	// Tuen Mun.
	"tmGC": {114.002, 22.371}, "tmSS": {113.985, 22.374}, "tmR": {113.975, 22.377},
	"tmBB": {113.963, 22.375}, "tmCP": {113.912, 22.371}, "tmLKT": {113.895, 22.390},
	"tmBP": {113.892, 22.408}, "tmN1": {113.920, 22.420}, "tmN2": {113.985, 22.422},
	"tmN3": {114.020, 22.410},
	// Yuen Long, Deep Bay shore to the border.
	"ylPN": {113.933, 22.440}, "ylLFS": {113.980, 22.470}, "ylTBT": {114.020, 22.490},
	"ylMP": {114.035, 22.501}, "ylLMC": {114.070, 22.513}, "ylB1": {114.076, 22.490},
	"ylB2": {114.086, 22.470}, "ylYNT": {114.105, 22.450},
	// North, border west to east, then Starling Inlet.
	"nLW": {114.112, 22.530}, "nTKL": {114.150, 22.540}, "nHYW": {114.165, 22.552},
	"nLMH": {114.190, 22.558}, "nSTK": {114.222, 22.546}, "nSI1": {114.230, 22.530},
	"nSI2": {114.262, 22.528}, "nSI3": {114.290, 22.520}, "nNTC": {114.290, 22.503},
	"nB1": {114.135, 22.470}, "nB2": {114.165, 22.478}, "nB3": {114.185, 22.490},
	"nB4": {114.235, 22.500},
	// Tai Po around Tolo Harbour.
	"tpE1": {114.305, 22.490}, "tpCN": {114.318, 22.478}, "tpCS": {114.340, 22.465},
	"tpWS": {114.345, 22.432}, "tpSK": {114.330, 22.415}, "tpB1": {114.295, 22.412},
	"tpSS1": {114.262, 22.441}, "tpIS": {114.280, 22.453}, "tpIN": {114.268, 22.463},
	"tpPC": {114.250, 22.461}, "tpTK": {114.220, 22.467}, "tpIE": {114.205, 22.460},
	"tpTown": {114.182, 22.454}, "tpTPK": {114.188, 22.442},
	// Sai Kung, Junk Bay to Tai Long Wan.
	"skTKL": {114.256, 22.300}, "skLOHAS": {114.268, 22.292}, "skIE": {114.278, 22.278},
	"skCWB": {114.305, 22.263}, "skCWE": {114.290, 22.300}, "skPSW": {114.270, 22.360},
	"skTown": {114.275, 22.382}, "skPTC": {114.320, 22.395}, "skHI": {114.345, 22.365},
	"skED": {114.378, 22.362}, "skTLW": {114.378, 22.410},
}

// District rings list node names in order; Islands has several rings.
type district struct {
	nameEN, nameTC string
	population     int64
	rings          [][]string
}

// Populations are rounded census-like figures, not official statistics.
var districts = []district{
	{"Central and Western", "中西區", 235953, [][]string{{"hkSB", "hkPEAK", "hkGAP", "hkADM", "hkCEN", "hkSW", "hkKT"}}},
	{"Wan Chai", "灣仔區", 166695, [][]string{{"hkGAP", "hkJP", "hkWE", "hkCWB", "hkWC", "hkADM"}}},
	{"Eastern", "東區", 529603, [][]string{{"hkJP", "hkMP", "hkEB", "hkSSW", "hkLYM", "hkSKW", "hkQB", "hkNP", "hkCWB", "hkWE"}}},
	{"Southern", "南區", 263278, [][]string{{"hkSB", "hkCP", "hkWF", "hkAB", "hkWCH", "hkDWB", "hkRB", "hkST", "hkSTT", "hkTT", "hkCDA", "hkSO", "hkBWB", "hkEB", "hkMP", "hkJP", "hkGAP", "hkPEAK"}}},
	{"Yau Tsim Mong", "油尖旺區", 310647, [][]string{{"kTST", "kHH", "kYK", "kYSK", "kYS", "kOL", "kWK"}}},
	{"Sham Shui Po", "深水埗區", 431090, [][]string{{"kYS", "kYSK", "kSKC", "rBH", "rGH", "kKQ", "kSK", "kSCN", "kSCW", "kSCS", "kSCE"}}},
	{"Kowloon City", "九龍城區", 410634, [][]string{{"kHH", "kHH2", "kTKW", "kRWB", "kRWT", "kRET", "kKCKT", "kKWK", "kKW", "rLR", "rBH", "kSKC", "kYSK", "kYK"}}},
	{"Wong Tai Sin", "黃大仙區", 406802, [][]string{{"rLR", "kKW", "kKWK", "kWK2", "rKP", "rTC"}}},
	{"Kwun Tong", "觀塘區", 673166, [][]string{{"kKCKT", "kKT1", "kKT2", "kYT", "kLYM", "kDP", "kKS", "rKP", "kWK2", "kKWK"}}},
	{"Kwai Tsing", "葵青區", 495798, [][]string{{"kSK", "kKQ", "rGH", "stKTS", "ktB2", "ktB1", "ktTW", "tyN", "tyNW", "tyW", "tySW", "tySE", "ktCT"}}},
	{"Tsuen Wan", "荃灣區", 320094, [][]string{{"stKTS", "stW", "stTRI", "twNE", "twTYT", "twN", "twTTY", "twTL", "twTM", "twST", "twTK", "twW1", "ktTW", "ktB1", "ktB2"}}},
	{"Tuen Mun", "屯門區", 506879, [][]string{{"twTM", "twTL", "twTTY", "tmN3", "tmN2", "tmN1", "tmBP", "tmLKT", "tmCP", "tmBB", "tmR", "tmSS", "tmGC"}}},
	{"Yuen Long", "元朗區", 668080, [][]string{{"tmBP", "tmN1", "tmN2", "tmN3", "twTTY", "twN", "twTYT", "ylYNT", "ylB2", "ylB1", "ylLMC", "ylMP", "ylTBT", "ylLFS", "ylPN"}}},
	{"North", "北區", 309631, [][]string{{"ylLMC", "ylB1", "ylB2", "ylYNT", "nB1", "nB2", "nB3", "nB4", "nNTC", "nSI3", "nSI2", "nSI1", "nSTK", "nLMH", "nHYW", "nTKL", "nLW"}}},
	{"Tai Po", "大埔區", 316470, [][]string{{"stTRI", "stN", "stTP", "tpTPK", "tpTown", "tpIE", "tpTK", "tpPC", "tpIN", "tpIS", "tpSS1", "stSK", "tpB1", "tpSK", "tpWS", "tpCS", "tpCN", "tpE1", "nNTC", "nB4", "nB3", "nB2", "nB1", "ylYNT", "twTYT", "twNE"}}},
	{"Sha Tin", "沙田區", 692806, [][]string{{"rGH", "rBH", "rLR", "rTC", "stBF", "stMOS", "stSK", "stWKS", "stMC", "stMW", "stSTH", "stMLS", "stTP", "stN", "stTRI", "stW", "stKTS"}}},
	{"Sai Kung", "西貢區", 489037, [][]string{{"rTC", "rKP", "kKS", "kDP", "skTKL", "skLOHAS", "skIE", "skCWB", "skCWE", "skPSW", "skTown", "skPTC", "skHI", "skED", "skTLW", "tpSK", "tpB1", "stSK", "stMOS", "stBF"}}},
	{"Islands", "離島區", 185282, nil}, // rings from islandRings
}

// Islands are not shared with any other district, so they are plain coordinates.
var islandRings = [][]orb.Point{
	// Lantau.
	{{113.840, 22.203}, {113.890, 22.218}, {113.930, 22.228}, {113.955, 22.233}, {113.980, 22.238},
		{114.008, 22.228}, {114.000, 22.262}, {114.025, 22.285}, {114.025, 22.298}, {114.045, 22.312},
		{114.055, 22.340}, {114.025, 22.332}, {113.995, 22.303}, {113.940, 22.290}, {113.900, 22.283},
		{113.862, 22.257}, {113.835, 22.232}},
	// Chek Lap Kok airport platform.
	{{113.897, 22.308}, {113.942, 22.303}, {113.950, 22.322}, {113.905, 22.330}},
	// Lamma.
	{{114.118, 22.190}, {114.150, 22.200}, {114.138, 22.215}, {114.135, 22.236}, {114.122, 22.240},
		{114.100, 22.225}, {114.108, 22.205}},
	// Cheung Chau.
	{{114.022, 22.198}, {114.034, 22.201}, {114.030, 22.212}, {114.033, 22.222}, {114.022, 22.219}, {114.025, 22.208}},
	// Peng Chau.
	{{114.036, 22.282}, {114.044, 22.282}, {114.045, 22.288}, {114.038, 22.290}},
	// Po Toi.
	{{114.245, 22.163}, {114.262, 22.166}, {114.260, 22.180}, {114.248, 22.178}},
}

func main() {
	seed := flag.Uint64("seed", 2021, "random seed")
	out := flag.String("out", "testdata/sample", "output folder")
	flag.Parse()
	g := &generator{seed: *seed}
	dists := g.districtShapes()
	write(*out, "districts.geojson", districtFeatures(dists))
	write(*out, "smart_lampposts.geojson", g.lampposts(dists))
	write(*out, "public_toilets.geojson", g.toilets(dists))
	write(*out, "roads.geojson", g.roads())
}

type generator struct{ seed uint64 }

// rng returns a generator keyed by name, so adding features to one layer does
// not move the features of another.
func (g *generator) rng(key string) *rand.Rand {
	h := fnv.New64a()
	h.Write([]byte(key))
	return rand.New(rand.NewPCG(g.seed, h.Sum64()))
}

type feature struct {
	ID         int            `json:"id"`
	Type       string         `json:"type"`
	Geometry   geometry       `json:"geometry"`
	Properties map[string]any `json:"properties"`
}

type geometry struct {
	Type        string `json:"type"`
	Coordinates any    `json:"coordinates"`
}

func newGeometry(g orb.Geometry) geometry {
	switch g := g.(type) {
	case orb.Point:
		return geometry{"Point", round6(g)}
	case orb.LineString:
		return geometry{"LineString", mapPts(g)}
	case orb.Polygon:
		return geometry{"Polygon", mapRings(g)}
	case orb.MultiPolygon:
		var cs [][][][2]float64
		for _, p := range g {
			cs = append(cs, mapRings(p))
		}
		return geometry{"MultiPolygon", cs}
	}
	panic(fmt.Sprintf("unexpected geometry %T", g))
}

func round6(p orb.Point) [2]float64 {
	return [2]float64{math.Round(p[0]*1e6) / 1e6, math.Round(p[1]*1e6) / 1e6}
}

func mapPts(ps []orb.Point) [][2]float64 {
	out := make([][2]float64, len(ps))
	for i, p := range ps {
		out[i] = round6(p)
	}
	return out
}

func mapRings(p orb.Polygon) [][][2]float64 {
	var out [][][2]float64
	for _, r := range p {
		out = append(out, mapPts(r))
	}
	return out
}

// write puts one feature a line, so a regenerated file diffs feature by feature.
func write(dir, name string, fs []feature) {
	var b bytes.Buffer
	b.WriteString("{\"type\":\"FeatureCollection\",\"features\":[\n")
	for i, f := range fs {
		f.Type = "Feature"
		j, err := json.Marshal(f)
		if err != nil {
			log.Fatalf("%s: feature %d: %v", name, f.ID, err)
		}
		b.Write(j)
		if i < len(fs)-1 {
			b.WriteByte(',')
		}
		b.WriteByte('\n')
	}
	b.WriteString("]}\n")
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		log.Fatal(err)
	}
	log.Printf("%s: %d features, %d bytes", path, len(fs), b.Len())
}

// decimals rounds v to n places, nudging whole results off the integer so
// every value of a "number" field reads back as a float, not an int.
func decimals(v float64, n int) float64 {
	p := math.Pow(10, float64(n))
	r := math.Round(v*p) / p
	if r == math.Trunc(r) {
		r += 1 / p
	}
	return r
}

// edge returns the points strictly between nodes a and b: the same points,
// reversed, whichever direction a ring walks the edge.
func (g *generator) edge(a, b string) []orb.Point {
	if a > b {
		pts := g.edge(b, a)
		slices.Reverse(pts)
		return pts
	}
	return g.wiggle(nodes[a], nodes[b], g.rng("edge "+a+" "+b))
}

// wiggle splits a segment every ~2 km and moves the new points sideways a
// little, so boundaries look drawn rather than ruled.
func (g *generator) wiggle(p, q orb.Point, r *rand.Rand) []orb.Point {
	dx, dy := q[0]-p[0], q[1]-p[1]
	l := math.Hypot(dx, dy)
	n := min(int(l/0.014), 2)
	amp := min(0.12*l/float64(n+1), 0.0012)
	var out []orb.Point
	for i := 1; i <= n; i++ {
		t := float64(i) / float64(n+1)
		o := (r.Float64()*2 - 1) * amp
		out = append(out, orb.Point{p[0] + t*dx - o*dy/l, p[1] + t*dy + o*dx/l})
	}
	return out
}

// ring closes and orients a ring counter-clockwise (RFC 7946) and fails
// loudly on a self-intersection, which would be an anchor typo.
func ring(name string, r orb.Ring) orb.Ring {
	r = append(r, r[0])
	if geo.SignedArea(r) < 0 {
		slices.Reverse(r)
	}
	n := len(r) - 1
	for i := 0; i < n; i++ {
		for j := i + 2; j < n; j++ {
			if i == 0 && j == n-1 {
				continue
			}
			if segmentsCross(r[i], r[i+1], r[j], r[j+1]) {
				log.Fatalf("%s: ring self-intersects at segments %d and %d (%v %v)", name, i, j, r[i], r[j])
			}
		}
	}
	return r
}

func segmentsCross(a, b, c, d orb.Point) bool {
	cross := func(o, p, q orb.Point) float64 { return (p[0]-o[0])*(q[1]-o[1]) - (p[1]-o[1])*(q[0]-o[0]) }
	d1, d2 := cross(c, d, a), cross(c, d, b)
	d3, d4 := cross(a, b, c), cross(a, b, d)
	return ((d1 > 0) != (d2 > 0)) && ((d3 > 0) != (d4 > 0)) && d1 != 0 && d2 != 0 && d3 != 0 && d4 != 0
}

type districtShape struct {
	id     int
	en, tc string
	geom   orb.Geometry
}

func (d districtShape) contains(p orb.Point) bool {
	switch g := d.geom.(type) {
	case orb.Polygon:
		return planar.PolygonContains(g, p)
	case orb.MultiPolygon:
		return planar.MultiPolygonContains(g, p)
	}
	return false
}

func (g *generator) districtShapes() []districtShape {
	var out []districtShape
	for i, d := range districts {
		s := districtShape{id: i + 1, en: d.nameEN, tc: d.nameTC}
		if d.rings == nil {
			var mp orb.MultiPolygon
			for k, pts := range islandRings {
				var r orb.Ring
				rr := g.rng(fmt.Sprintf("island %d", k))
				for j, p := range pts {
					r = append(r, p)
					r = append(r, g.wiggle(p, pts[(j+1)%len(pts)], rr)...)
				}
				mp = append(mp, orb.Polygon{ring(d.nameEN, r)})
			}
			s.geom = mp
		} else {
			var r orb.Ring
			names := d.rings[0]
			for j, a := range names {
				if _, ok := nodes[a]; !ok {
					log.Fatalf("%s: unknown node %q", d.nameEN, a)
				}
				r = append(r, nodes[a])
				r = append(r, g.edge(a, names[(j+1)%len(names)])...)
			}
			s.geom = orb.Polygon{ring(d.nameEN, r)}
		}
		out = append(out, s)
	}
	checkOverlap(out)
	return out
}

// checkOverlap samples a 100 m grid and fails if any point is in two districts.
func checkOverlap(ds []districtShape) {
	for x := 113.82; x < 114.40; x += 0.001 {
		for y := 22.15; y < 22.57; y += 0.001 {
			p := orb.Point{x, y}
			var in []string
			for _, d := range ds {
				if d.contains(p) {
					in = append(in, d.en)
				}
			}
			if len(in) > 1 {
				log.Fatalf("districts overlap at %v: %v", p, in)
			}
		}
	}
}

func districtFeatures(ds []districtShape) []feature {
	var out []feature
	for i, d := range ds {
		n := 0
		switch g := d.geom.(type) {
		case orb.Polygon:
			n = len(g[0]) - 1
		case orb.MultiPolygon:
			for _, p := range g {
				n += len(p[0]) - 1
			}
		}
		log.Printf("district %-20s %3d vertices %7.2f km²", d.en, n, geo.Area(d.geom)/1e6)
		out = append(out, feature{ID: d.id, Geometry: newGeometry(d.geom), Properties: map[string]any{
			"DISTRICT_ID":     d.id,
			"NAME_EN":         d.en,
			"NAME_TC":         d.tc,
			"AREA_KM2":        decimals(geo.Area(d.geom)/1e6, 2),
			"POPULATION_2021": districts[i].population,
		}})
	}
	return out
}

func pip(ds []districtShape, p orb.Point) (districtShape, bool) {
	for _, d := range ds {
		if d.contains(p) {
			return d, true
		}
	}
	return districtShape{}, false
}

// A corridor is a street the lampposts line; points land within ~40 m of it.
type corridor struct {
	prefix string
	count  int
	line   orb.LineString
}

var corridors = []corridor{
	{"NR", 24, orb.LineString{{114.1722, 22.2950}, {114.1713, 22.3045}, {114.1697, 22.3155}, {114.1683, 22.3250}}}, // Nathan Road
	{"KT", 18, orb.LineString{{114.2080, 22.3340}, {114.2130, 22.3250}, {114.2200, 22.3170}, {114.2280, 22.3100}}}, // Kwun Tong Road
	{"KD", 12, orb.LineString{{114.2005, 22.3225}, {114.2100, 22.3123}, {114.2150, 22.3065}}},                      // Kai Tak runway
	{"PE", 10, orb.LineString{{114.1770, 22.3255}, {114.1880, 22.3300}, {114.1960, 22.3340}}},                      // Prince Edward Road East
	{"CS", 10, orb.LineString{{114.1480, 22.3380}, {114.1560, 22.3345}, {114.1640, 22.3300}}},                      // Cheung Sha Wan Road
	{"CW", 14, orb.LineString{{114.1500, 22.2860}, {114.1570, 22.2840}, {114.1645, 22.2790}}},                      // Queen's Road Central
	{"WC", 14, orb.LineString{{114.1690, 22.2785}, {114.1760, 22.2783}, {114.1860, 22.2800}}},                      // Hennessy Road
	{"KR", 10, orb.LineString{{114.1960, 22.2870}, {114.1990, 22.2905}, {114.2110, 22.2875}, {114.2220, 22.2815}}}, // King's Road
	{"ST", 22, orb.LineString{{114.1760, 22.3700}, {114.1870, 22.3810}, {114.1960, 22.3880}, {114.1990, 22.4000}}}, // Sha Tin town centre
	{"TK", 16, orb.LineString{{114.2540, 22.3050}, {114.2590, 22.3110}, {114.2620, 22.3190}, {114.2600, 22.3260}}}, // Tseung Kwan O
}

var devices = [][2]string{
	{"Meteorological sensor", "氣象感應器"},
	{"Air quality sensor", "空氣質素感應器"},
	{"Traffic detector", "交通探測器"},
	{"Bluetooth beacon", "藍牙定位裝置"},
	{"Radiation monitor", "輻射監測器"},
	{"Wi-Fi hotspot", "Wi-Fi 熱點"},
	{"Thermal detector", "熱能探測器"},
	{"5G base station", "5G 基站"},
}

func (g *generator) lampposts(ds []districtShape) []feature {
	var out []feature
	used := map[string]bool{}
	for _, c := range corridors {
		r := g.rng("lamppost " + c.prefix)
		total := planar.Length(c.line)
		for range c.count {
			var p orb.Point
			var d districtShape
			for try := 0; ; try++ {
				if try == 50 {
					log.Fatalf("lampposts %s: no point on land after 50 tries", c.prefix)
				}
				p = alongWithOffset(c.line, r.Float64()*total, (r.Float64()*2-1)*0.0004)
				var ok bool
				if d, ok = pip(ds, p); ok {
					break
				}
			}
			id := fmt.Sprintf("%s%04d", c.prefix, 1000+r.IntN(9000))
			for used[id] {
				id = fmt.Sprintf("%s%04d", c.prefix, 1000+r.IntN(9000))
			}
			used[id] = true
			dev := devices[r.IntN(len(devices))]
			installed := time.Date(2019, 6, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, r.IntN(4*365))
			out = append(out, feature{Geometry: newGeometry(p), Properties: map[string]any{
				"LAMPPOST_ID": id,
				"DEVICE_EN":   dev[0],
				"DEVICE_TC":   dev[1],
				"INSTALLED":   installed.Format(time.DateOnly),
				"IN_SERVICE":  r.Float64() < 0.9,
				"DISTRICT_TC": d.tc,
			}})
		}
	}
	// Ids follow the lamppost number, as a department export sorted by it would.
	slices.SortFunc(out, func(a, b feature) int {
		return cmp.Compare(a.Properties["LAMPPOST_ID"].(string), b.Properties["LAMPPOST_ID"].(string))
	})
	for i := range out {
		out[i].ID = i + 1
	}
	return out
}

// alongWithOffset returns the point at distance s along l, moved off sideways by o.
func alongWithOffset(l orb.LineString, s, o float64) orb.Point {
	for i := 0; i < len(l)-1; i++ {
		a, b := l[i], l[i+1]
		seg := planar.Distance(a, b)
		if s <= seg || i == len(l)-2 {
			t := min(s/seg, 1)
			dx, dy := (b[0]-a[0])/seg, (b[1]-a[1])/seg
			return orb.Point{a[0] + t*(b[0]-a[0]) - o*dy, a[1] + t*(b[1]-a[1]) + o*dx}
		}
		s -= seg
	}
	return l[0]
}

// A toilet is named after the place it serves; district is the 1-based district id.
type toilet struct {
	district           int
	nameEN, nameTC     string
	streetEN, streetTC string
	areaEN, areaTC     string
	lon, lat           float64
}

var toilets = []toilet{
	{1, "Hong Kong Park", "香港公園", "Cotton Tree Drive", "紅棉路", "Central", "中環", 114.1610, 22.2775},
	{1, "Statue Square", "皇后像廣場", "Chater Road", "遮打道", "Central", "中環", 114.1600, 22.2808},
	{1, "Western Street", "西邊街", "Western Street", "西邊街", "Sai Ying Pun", "西營盤", 114.1420, 22.2860},
	{1, "Belcher's Street", "卑路乍街", "Belcher's Street", "卑路乍街", "Kennedy Town", "堅尼地城", 114.1290, 22.2810},
	{1, "Peak Road Garden", "山頂道花園", "Peak Road", "山頂道", "The Peak", "山頂", 114.1490, 22.2710},
	{1, "Possession Street", "水坑口街", "Possession Street", "水坑口街", "Sheung Wan", "上環", 114.1500, 22.2855},
	{2, "Southorn Playground", "修頓球場", "Johnston Road", "莊士敦道", "Wan Chai", "灣仔", 114.1720, 22.2770},
	{2, "Victoria Park", "維多利亞公園", "Causeway Road", "高士威道", "Causeway Bay", "銅鑼灣", 114.1885, 22.2815},
	{2, "Wong Nai Chung Road", "黃泥涌道", "Wong Nai Chung Road", "黃泥涌道", "Happy Valley", "跑馬地", 114.1830, 22.2700},
	{2, "Lockhart Road", "駱克道", "Lockhart Road", "駱克道", "Wan Chai", "灣仔", 114.1760, 22.2790},
	{2, "Tang Lung Street", "登龍街", "Tang Lung Street", "登龍街", "Causeway Bay", "銅鑼灣", 114.1820, 22.2785},
	{3, "Java Road", "渣華道", "Java Road", "渣華道", "North Point", "北角", 114.1995, 22.2910},
	{3, "Quarry Bay Park", "鰂魚涌公園", "Hoi Chak Street", "海澤街", "Quarry Bay", "鰂魚涌", 114.2140, 22.2860},
	{3, "Shau Kei Wan Main Street East", "筲箕灣東大街", "Shau Kei Wan Main Street East", "筲箕灣東大街", "Shau Kei Wan", "筲箕灣", 114.2295, 22.2775},
	{3, "Chai Wan Park", "柴灣公園", "Wan Tsui Road", "環翠道", "Chai Wan", "柴灣", 114.2380, 22.2660},
	{3, "Taikoo Shing Road", "太古城道", "Taikoo Shing Road", "太古城道", "Quarry Bay", "鰂魚涌", 114.2170, 22.2850},
	{4, "Aberdeen Main Road", "香港仔大道", "Aberdeen Main Road", "香港仔大道", "Aberdeen", "香港仔", 114.1545, 22.2500},
	{4, "Stanley Main Street", "赤柱大街", "Stanley Main Street", "赤柱大街", "Stanley", "赤柱", 114.2110, 22.2190},
	{4, "Repulse Bay Beach", "淺水灣泳灘", "Beach Road", "海灘道", "Repulse Bay", "淺水灣", 114.1960, 22.2375},
	{4, "Pok Fu Lam Road", "薄扶林道", "Pok Fu Lam Road", "薄扶林道", "Pok Fu Lam", "薄扶林", 114.1340, 22.2605},
	{4, "Shek O Beach", "石澳泳灘", "Shek O Road", "石澳道", "Shek O", "石澳", 114.2510, 22.2320},
	{4, "Deep Water Bay Beach", "深水灣泳灘", "Island Road", "香島道", "Deep Water Bay", "深水灣", 114.1850, 22.2460},
	{5, "Kowloon Park", "九龍公園", "Austin Road", "柯士甸道", "Tsim Sha Tsui", "尖沙咀", 114.1700, 22.3000},
	{5, "Salisbury Garden", "梳士巴利花園", "Salisbury Road", "梳士巴利道", "Tsim Sha Tsui", "尖沙咀", 114.1720, 22.2950},
	{5, "Temple Street", "廟街", "Temple Street", "廟街", "Yau Ma Tei", "油麻地", 114.1700, 22.3070},
	{5, "Fa Yuen Street", "花園街", "Fa Yuen Street", "花園街", "Mong Kok", "旺角", 114.1720, 22.3190},
	{5, "Cherry Street Park", "櫻桃街公園", "Cherry Street", "櫻桃街", "Tai Kok Tsui", "大角咀", 114.1625, 22.3190},
	{6, "Sham Shui Po Park", "深水埗公園", "Lai Chi Kok Road", "荔枝角道", "Sham Shui Po", "深水埗", 114.1580, 22.3340},
	{6, "Pei Ho Street", "北河街", "Pei Ho Street", "北河街", "Sham Shui Po", "深水埗", 114.1630, 22.3290},
	{6, "Cheung Sha Wan Road", "長沙灣道", "Cheung Sha Wan Road", "長沙灣道", "Cheung Sha Wan", "長沙灣", 114.1550, 22.3360},
	{6, "Shek Kip Mei Park", "石硤尾公園", "Woh Chai Street", "窩仔街", "Shek Kip Mei", "石硤尾", 114.1670, 22.3350},
	{6, "Lai Chi Kok Park", "荔枝角公園", "Lai Wan Road", "荔灣道", "Lai Chi Kok", "荔枝角", 114.1430, 22.3385},
	{7, "Kowloon Walled City Park", "九龍寨城公園", "Tung Tau Tsuen Road", "東頭村道", "Kowloon City", "九龍城", 114.1905, 22.3320},
	{7, "Tak On Street", "德安街", "Tak On Street", "德安街", "Hung Hom", "紅磡", 114.1880, 22.3045},
	{7, "Ma Tau Wai Road", "馬頭圍道", "Ma Tau Wai Road", "馬頭圍道", "To Kwa Wan", "土瓜灣", 114.1880, 22.3170},
	{7, "Kai Tak Runway Park", "啟德跑道公園", "Shing Fung Road", "承豐道", "Kai Tak", "啟德", 114.2100, 22.3123},
	{7, "Nga Tsin Wai Road", "衙前圍道", "Nga Tsin Wai Road", "衙前圍道", "Kowloon City", "九龍城", 114.1920, 22.3300},
	{8, "Morse Park", "摩士公園", "Fung Mo Street", "鳳舞街", "Wong Tai Sin", "黃大仙", 114.1960, 22.3410},
	{8, "Lung Cheung Road", "龍翔道", "Lung Cheung Road", "龍翔道", "Wong Tai Sin", "黃大仙", 114.1950, 22.3430},
	{8, "Nan Lian Garden", "南蓮園池", "Fung Tak Road", "鳳德道", "Diamond Hill", "鑽石山", 114.2040, 22.3390},
	{8, "Tsz Wan Shan Road", "慈雲山道", "Tsz Wan Shan Road", "慈雲山道", "Tsz Wan Shan", "慈雲山", 114.2020, 22.3500},
	{8, "Tai Yau Street", "大有街", "Tai Yau Street", "大有街", "San Po Kong", "新蒲崗", 114.1990, 22.3360},
	{9, "Hoi Bun Road", "海濱道", "Hoi Bun Road", "海濱道", "Kwun Tong", "觀塘", 114.2200, 22.3150},
	{9, "Ngau Tau Kok Road", "牛頭角道", "Ngau Tau Kok Road", "牛頭角道", "Ngau Tau Kok", "牛頭角", 114.2190, 22.3190},
	{9, "Lam Tin Park", "藍田公園", "Kai Tin Road", "啟田道", "Lam Tin", "藍田", 114.2350, 22.3080},
	{9, "Lei Yue Mun Path", "鯉魚門徑", "Lei Yue Mun Path", "鯉魚門徑", "Yau Tong", "油塘", 114.2370, 22.2930},
	{9, "Kowloon Bay Park", "九龍灣公園", "Kai Fuk Road", "啟福道", "Kowloon Bay", "九龍灣", 114.2115, 22.3262},
	{9, "Shui Wo Street", "瑞和街", "Shui Wo Street", "瑞和街", "Kwun Tong", "觀塘", 114.2260, 22.3130},
	{10, "Hing Fong Road", "興芳路", "Hing Fong Road", "興芳路", "Kwai Chung", "葵涌", 114.1280, 22.3570},
	{10, "Tsing Yi Park", "青衣公園", "Tsing Yi Road", "青衣路", "Tsing Yi", "青衣", 114.1040, 22.3560},
	{10, "Kwai Chung Park", "葵涌公園", "Kwai Chung Road", "葵涌道", "Kwai Chung", "葵涌", 114.1360, 22.3540},
	{10, "Lai King Hill Road", "荔景山道", "Lai King Hill Road", "荔景山道", "Lai King", "荔景", 114.1290, 22.3480},
	{11, "Tsuen Wan Park", "荃灣公園", "Wing Shun Street", "永順街", "Tsuen Wan", "荃灣", 114.1100, 22.3720},
	{11, "Sha Tsui Road", "沙咀道", "Sha Tsui Road", "沙咀道", "Tsuen Wan", "荃灣", 114.1180, 22.3730},
	{11, "Sham Tseng Village", "深井村", "Castle Peak Road - Sham Tseng", "青山公路－深井段", "Sham Tseng", "深井", 114.0600, 22.3710},
	{11, "Ting Kau Beach", "汀九泳灘", "Castle Peak Road - Ting Kau", "青山公路－汀九段", "Ting Kau", "汀九", 114.0800, 22.3720},
	{11, "Shing Mun Reservoir", "城門水塘", "Shing Mun Road", "城門道", "Tsuen Wan", "荃灣", 114.1420, 22.3880},
	{12, "Tuen Mun Park", "屯門公園", "Tuen Hi Road", "屯喜路", "Tuen Mun", "屯門", 113.9770, 22.3920},
	{12, "Butterfly Beach", "蝴蝶灣泳灘", "Lung Mun Road", "龍門路", "Tuen Mun", "屯門", 113.9650, 22.3800},
	{12, "Lingnan", "嶺南", "Castle Peak Road - Lingnan", "青山公路－嶺南段", "Tuen Mun", "屯門", 113.9800, 22.4100},
	{12, "Golden Beach", "黃金泳灘", "Castle Peak Road - So Kwun Wat", "青山公路－掃管笏段", "So Kwun Wat", "掃管笏", 114.0000, 22.3760},
	{12, "Siu Hong", "兆康", "Tsing Lun Road", "青麟路", "Siu Hong", "兆康", 113.9780, 22.4130},
	{13, "Yuen Long Park", "元朗公園", "Yuen Long Tai Yuk Road", "元朗大球場路", "Yuen Long", "元朗", 114.0250, 22.4400},
	{13, "Tin Shui Wai Park", "天水圍公園", "Tin Shui Road", "天瑞路", "Tin Shui Wai", "天水圍", 114.0040, 22.4580},
	{13, "Kam Tin", "錦田", "Kam Tin Road", "錦田公路", "Kam Tin", "錦田", 114.0620, 22.4450},
	{13, "Lau Fau Shan", "流浮山", "Deep Bay Road", "深灣路", "Lau Fau Shan", "流浮山", 113.9900, 22.4640},
	{13, "San Tin", "新田", "Castle Peak Road - San Tin", "青山公路－新田段", "San Tin", "新田", 114.0700, 22.4950},
	{13, "Ping Shan", "屏山", "Ping Ha Road", "屏廈路", "Ping Shan", "屏山", 114.0060, 22.4460},
	{14, "San Fung Avenue", "新豐路", "San Fung Avenue", "新豐路", "Sheung Shui", "上水", 114.1270, 22.5020},
	{14, "Luen Wo Hui", "聯和墟", "Luen Hing Street", "聯興街", "Fanling", "粉嶺", 114.1420, 22.4930},
	{14, "Sha Tau Kok", "沙頭角", "Sha Tau Kok Road", "沙頭角公路", "Sha Tau Kok", "沙頭角", 114.2150, 22.5420},
	{14, "Ta Kwu Ling", "打鼓嶺", "Ping Che Road", "坪輋路", "Ta Kwu Ling", "打鼓嶺", 114.1550, 22.5300},
	{14, "Kwu Tung", "古洞", "Castle Peak Road - Kwu Tung", "青山公路－古洞段", "Kwu Tung", "古洞", 114.0950, 22.5000},
	{15, "Tai Po Waterfront Park", "大埔海濱公園", "Dai Fat Street", "大發街", "Tai Po", "大埔", 114.1930, 22.4600},
	{15, "Tai Po Hui", "大埔墟", "Heung Sze Wui Street", "鄉事會街", "Tai Po", "大埔", 114.1700, 22.4470},
	{15, "Tai Mei Tuk", "大美督", "Ting Kok Road", "汀角路", "Tai Mei Tuk", "大美督", 114.2340, 22.4700},
	{15, "Lam Tsuen", "林村", "Lam Kam Road", "林錦公路", "Lam Tsuen", "林村", 114.1400, 22.4550},
	{15, "Shap Sze Heung", "十四鄉", "Sai Sha Road", "西沙路", "Shap Sze Heung", "十四鄉", 114.2750, 22.4270},
	{16, "Sha Tin Park", "沙田公園", "Yuen Wo Road", "源禾路", "Sha Tin", "沙田", 114.1880, 22.3830},
	{16, "Tai Wai", "大圍", "Chik Fuk Street", "積福街", "Tai Wai", "大圍", 114.1780, 22.3730},
	{16, "Ma On Shan Park", "馬鞍山公園", "On Chun Street", "鞍駿街", "Ma On Shan", "馬鞍山", 114.2320, 22.4240},
	{16, "Fo Tan", "火炭", "Au Pui Wan Street", "坳背灣街", "Fo Tan", "火炭", 114.1950, 22.3960},
	{16, "Shek Mun", "石門", "On Ping Street", "安平街", "Shek Mun", "石門", 114.2080, 22.3870},
	{17, "Sai Kung Waterfront Park", "西貢海濱公園", "Wai Man Road", "惠民路", "Sai Kung", "西貢", 114.2680, 22.3810},
	{17, "Tong Ming Street", "唐明街", "Tong Ming Street", "唐明街", "Tseung Kwan O", "將軍澳", 114.2590, 22.3090},
	{17, "Hang Hau", "坑口", "Hang Hau Road", "坑口道", "Hang Hau", "坑口", 114.2640, 22.3160},
	{17, "Clear Water Bay", "清水灣", "Clear Water Bay Road", "清水灣道", "Clear Water Bay", "清水灣", 114.2870, 22.2900},
	{17, "Po Lam", "寶林", "Po Lam Road North", "寶林北路", "Po Lam", "寶林", 114.2580, 22.3230},
	{18, "Mui Wo", "梅窩", "Ngan Wan Road", "銀灣路", "Mui Wo", "梅窩", 113.9950, 22.2700},
	{18, "Tung Chung", "東涌", "Tat Tung Road", "達東路", "Tung Chung", "東涌", 113.9420, 22.2840},
	{18, "Cheung Chau", "長洲", "Praya Street", "海傍街", "Cheung Chau", "長洲", 114.0280, 22.2100},
	{18, "Tai O", "大澳", "Tai O Road", "大澳道", "Tai O", "大澳", 113.8700, 22.2500},
	{18, "Yung Shue Wan", "榕樹灣", "Yung Shue Wan Main Street", "榕樹灣大街", "Lamma Island", "南丫島", 114.1120, 22.2260},
	{18, "Peng Chau", "坪洲", "Wing On Street", "永安街", "Peng Chau", "坪洲", 114.0405, 22.2855},
	{18, "Discovery Bay", "愉景灣", "Discovery Bay Road", "愉景灣道", "Discovery Bay", "愉景灣", 114.0150, 22.2960},
}

var openingHours = []string{"24 hours", "06:00-23:00", "06:30-22:30", "07:00-22:00", "24 hours"}

func (g *generator) toilets(ds []districtShape) []feature {
	r := g.rng("toilets")
	var out []feature
	for i, t := range toilets {
		want := ds[t.district-1]
		anchor := orb.Point{t.lon, t.lat}
		if !want.contains(anchor) {
			got, _ := pip(ds, anchor)
			log.Fatalf("toilet %q at %v is not in %s (it is in %q)", t.nameEN, anchor, want.en, got.en)
		}
		// Jitter within ~60 m, keeping the point inside its district.
		p := anchor
		for range 10 {
			q := orb.Point{t.lon + (r.Float64()*2-1)*0.0006, t.lat + (r.Float64()*2-1)*0.0006}
			if want.contains(q) {
				p = q
				break
			}
		}
		no := 1 + r.IntN(180)
		out = append(out, feature{ID: i + 1, Geometry: newGeometry(p), Properties: map[string]any{
			"NAME_EN":       t.nameEN + " Public Toilet",
			"NAME_TC":       t.nameTC + "公廁",
			"ADDRESS_EN":    fmt.Sprintf("Near %d %s, %s", no, t.streetEN, t.areaEN),
			"ADDRESS_TC":    fmt.Sprintf("%s%s%d號附近", t.areaTC, t.streetTC, no),
			"OPENING_HOURS": openingHours[r.IntN(len(openingHours))],
			"ACCESSIBLE":    r.Float64() < 0.75,
			"DISTRICT_EN":   want.en,
		}})
	}
	return out
}

type road struct {
	en, tc, kind string
	speed        int
	line         orb.LineString
}

var roads = []road{
	{"Nathan Road", "彌敦道", "Primary Distributor", 50, orb.LineString{{114.1722, 22.2950}, {114.1720, 22.2995}, {114.1713, 22.3045}, {114.1705, 22.3100}, {114.1697, 22.3155}, {114.1690, 22.3205}, {114.1683, 22.3250}, {114.1672, 22.3270}}},
	{"Queen's Road Central", "皇后大道中", "District Distributor", 50, orb.LineString{{114.1510, 22.2862}, {114.1545, 22.2850}, {114.1570, 22.2840}, {114.1590, 22.2822}, {114.1620, 22.2805}, {114.1645, 22.2790}}},
	{"Connaught Road Central", "干諾道中", "Trunk Road", 70, orb.LineString{{114.1500, 22.2880}, {114.1530, 22.2877}, {114.1560, 22.2870}, {114.1590, 22.2855}, {114.1625, 22.2830}}},
	{"Hennessy Road", "軒尼詩道", "Primary Distributor", 50, orb.LineString{{114.1680, 22.2785}, {114.1720, 22.2780}, {114.1760, 22.2783}, {114.1800, 22.2790}, {114.1835, 22.2800}}},
	{"Gloucester Road", "告士打道", "Trunk Road", 70, orb.LineString{{114.1700, 22.2815}, {114.1750, 22.2818}, {114.1800, 22.2817}, {114.1850, 22.2822}}},
	{"King's Road", "英皇道", "Primary Distributor", 50, orb.LineString{{114.1905, 22.2830}, {114.1960, 22.2870}, {114.1990, 22.2905}, {114.2050, 22.2895}, {114.2110, 22.2880}, {114.2170, 22.2855}, {114.2220, 22.2825}}},
	{"Island Eastern Corridor", "東區走廊", "Expressway", 70, orb.LineString{{114.1880, 22.2855}, {114.1960, 22.2915}, {114.2050, 22.2925}, {114.2140, 22.2900}, {114.2230, 22.2850}, {114.2300, 22.2805}, {114.2400, 22.2700}}},
	{"Pok Fu Lam Road", "薄扶林道", "District Distributor", 50, orb.LineString{{114.1420, 22.2830}, {114.1380, 22.2760}, {114.1350, 22.2700}, {114.1325, 22.2650}, {114.1330, 22.2600}, {114.1380, 22.2560}, {114.1450, 22.2520}}},
	{"Prince Edward Road East", "太子道東", "Primary Distributor", 70, orb.LineString{{114.1770, 22.3255}, {114.1880, 22.3300}, {114.1960, 22.3340}, {114.2070, 22.3360}}},
	{"Kwun Tong Road", "觀塘道", "Trunk Road", 70, orb.LineString{{114.2080, 22.3350}, {114.2130, 22.3250}, {114.2200, 22.3170}, {114.2280, 22.3100}, {114.2350, 22.3050}}},
	{"Lion Rock Tunnel Road", "獅子山隧道公路", "Trunk Road", 70, orb.LineString{{114.1800, 22.3380}, {114.1820, 22.3500}, {114.1850, 22.3650}, {114.1880, 22.3750}}},
	{"Tseung Kwan O Tunnel Road", "將軍澳隧道公路", "Trunk Road", 70, orb.LineString{{114.2300, 22.3170}, {114.2420, 22.3180}, {114.2560, 22.3220}, {114.2620, 22.3190}}},
	{"Clear Water Bay Road", "清水灣道", "District Distributor", 50, orb.LineString{{114.2100, 22.3370}, {114.2250, 22.3350}, {114.2450, 22.3390}, {114.2620, 22.3330}, {114.2750, 22.3200}, {114.2860, 22.2950}}},
	{"Tai Po Road - Sha Tin", "大埔道－沙田段", "District Distributor", 50, orb.LineString{{114.1630, 22.3350}, {114.1600, 22.3480}, {114.1700, 22.3650}, {114.1780, 22.3750}, {114.1880, 22.3850}, {114.1960, 22.3950}}},
	{"Tolo Highway", "吐露港公路", "Trunk Road", 100, orb.LineString{{114.1990, 22.3950}, {114.2010, 22.4080}, {114.2040, 22.4200}, {114.1930, 22.4300}, {114.1850, 22.4400}, {114.1770, 22.4470}, {114.1650, 22.4580}}},
	{"Fanling Highway", "粉嶺公路", "Expressway", 100, orb.LineString{{114.1650, 22.4580}, {114.1550, 22.4750}, {114.1400, 22.4900}, {114.1200, 22.5000}, {114.1000, 22.4990}, {114.0800, 22.4950}}},
	{"Tsuen Wan Road", "荃灣路", "Expressway", 80, orb.LineString{{114.1380, 22.3450}, {114.1300, 22.3580}, {114.1200, 22.3680}, {114.1100, 22.3720}}},
	{"Tuen Mun Road", "屯門公路", "Expressway", 80, orb.LineString{{114.1100, 22.3740}, {114.0850, 22.3740}, {114.0600, 22.3720}, {114.0350, 22.3770}, {114.0100, 22.3800}, {113.9880, 22.3860}, {113.9760, 22.3960}}},
	{"Castle Peak Road", "青山公路", "Primary Distributor", 70, orb.LineString{{113.9750, 22.3970}, {113.9850, 22.4200}, {113.9950, 22.4300}, {114.0100, 22.4400}, {114.0300, 22.4450}, {114.0450, 22.4480}, {114.0600, 22.4750}, {114.0750, 22.4950}, {114.0950, 22.5000}, {114.1200, 22.5030}}},
	{"Yuen Long Highway", "元朗公路", "Expressway", 100, orb.LineString{{113.9900, 22.4150}, {114.0000, 22.4350}, {114.0250, 22.4380}, {114.0500, 22.4440}}},
	{"North Lantau Highway", "北大嶼山公路", "Expressway", 110, orb.LineString{{114.0500, 22.3400}, {114.0250, 22.3290}, {113.9950, 22.3020}, {113.9700, 22.2920}, {113.9440, 22.2860}, {113.9300, 22.2960}, {113.9250, 22.3080}}},
	{"Lantau Link", "青嶼幹線", "Expressway", 80, orb.LineString{{114.0500, 22.3400}, {114.0620, 22.3490}, {114.0740, 22.3520}, {114.0880, 22.3540}, {114.1000, 22.3580}}},
}

func (g *generator) roads() []feature {
	var out []feature
	for i, rd := range roads {
		r := g.rng("road " + rd.en)
		// Densify with ~25 m of sideways jitter, keeping the anchors.
		var l orb.LineString
		for j, p := range rd.line {
			l = append(l, p)
			if j == len(rd.line)-1 {
				break
			}
			q := rd.line[j+1]
			dx, dy := q[0]-p[0], q[1]-p[1]
			n := min(int(math.Hypot(dx, dy)/0.004), 3)
			for k := 1; k <= n; k++ {
				t := float64(k) / float64(n+1)
				o := (r.Float64()*2 - 1) * 0.00025
				s := math.Hypot(dx, dy)
				l = append(l, orb.Point{p[0] + t*dx - o*dy/s, p[1] + t*dy + o*dx/s})
			}
		}
		out = append(out, feature{ID: i + 1, Geometry: newGeometry(l), Properties: map[string]any{
			"ROUTE_ID":        10000 + (i+1)*37 + r.IntN(30),
			"STREET_ENAME":    rd.en,
			"STREET_CNAME":    rd.tc,
			"ROAD_TYPE":       rd.kind,
			"SPEED_LIMIT_KMH": rd.speed,
			"LENGTH_M":        decimals(geo.Length(l), 1),
		}})
	}
	return out
}
