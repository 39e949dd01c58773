package features

import (
	"net/url"
	"reflect"
	"testing"
	"time"

	"github.com/paulmach/orb"

	"github.com/csdi-hk/csdi/geo/crs"
)

func TestParseBBox(t *testing.T) {
	box := func(w, s, e, n float64) orb.Bound { return orb.Bound{Min: orb.Point{w, s}, Max: orb.Point{e, n}} }
	for _, tc := range []struct {
		in   string
		want []orb.Bound // nil: 400
	}{
		{"113.8,22.1,114.5,22.6", []orb.Bound{box(113.8, 22.1, 114.5, 22.6)}},
		{" 113.8, 22.1 ,114.5,22.6", []orb.Bound{box(113.8, 22.1, 114.5, 22.6)}},
		{"113.8,22.1,0,114.5,22.6,100", []orb.Bound{box(113.8, 22.1, 114.5, 22.6)}},
		{"177,65,-177,70", []orb.Bound{box(177, 65, 180, 70), box(-180, 65, -177, 70)}},
		{"-180,-90,180,90", []orb.Bound{box(-180, -90, 180, 90)}},
		{"1,1,1,1", []orb.Bound{box(1, 1, 1, 1)}},
		{"1e1,2,3e1,4", []orb.Bound{box(10, 2, 30, 4)}},
		{"", nil},
		{"1,2,3", nil},
		{"1,2,3,4,5", nil},
		{"1,2,3,4,5,6,7", nil},
		{"1,2,,4", nil},
		{"1,2,x,4", nil},
		{"1,2,Inf,4", nil},
		{"1,NaN,3,4", nil},
		{"1,5,3,4", nil},     // south above north
		{"1,2,9,3,4,5", nil}, // minimum height above maximum
		{"[1,2,3,4]", nil},   // JSON is not the encoding
		{"1;2;3;4", nil},
	} {
		got, err := parseBBox(tc.in, crs.CRS84)
		if tc.want == nil {
			if err == nil {
				t.Errorf("parseBBox(%q) = %v, want an error", tc.in, got)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("parseBBox(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
		}
	}
}

func TestParseLimit(t *testing.T) {
	for _, tc := range []struct {
		query string
		want  int // 0: 400
	}{
		{"", 10},
		{"limit=1", 1},
		{"limit=10000", 10000},
		{"limit=10001", 10000},
		{"limit=18446744073709551616", 10000},
		{"limit=0", 0},
		{"limit=-1", 0},
		{"limit=+5", 0},
		{"limit=5.0", 0},
		{"limit=unlimited", 0},
		{"limit=", 0},
		{"limit=1&limit=2", 0},
	} {
		q, err := url.ParseQuery(tc.query)
		if err != nil {
			t.Fatal(err)
		}
		got, err := parseLimit(q, 10, 10000)
		if tc.want == 0 {
			if err == nil {
				t.Errorf("%q: limit %d, want an error", tc.query, got)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("%q: limit %d, %v; want %d", tc.query, got, err, tc.want)
		}
	}
}

func TestParseDatetime(t *testing.T) {
	ts := func(s string) time.Time {
		v, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	endOfDay := func(s string) time.Time { return ts(s).Add(24*time.Hour - time.Nanosecond) }
	for _, tc := range []struct {
		in   string
		want *interval // nil: 400
	}{
		{"2024-05-06T07:08:09Z", &interval{start: ts("2024-05-06T07:08:09Z"), end: ts("2024-05-06T07:08:09Z")}},
		{"2024-05-06", &interval{start: ts("2024-05-06T00:00:00Z"), end: endOfDay("2024-05-06T00:00:00Z")}},
		{"2024-05-06T07:08:09+08:00", &interval{start: ts("2024-05-05T23:08:09Z"), end: ts("2024-05-05T23:08:09Z")}},
		{"2024-05-06T07:08:09", &interval{start: ts("2024-05-06T07:08:09Z"), end: ts("2024-05-06T07:08:09Z")}},
		{"2024-05-06/2024-05-07", &interval{start: ts("2024-05-06T00:00:00Z"), end: endOfDay("2024-05-07T00:00:00Z")}},
		{"../2024-05-07T00:00:00Z", &interval{openStart: true, end: ts("2024-05-07T00:00:00Z")}},
		{"/2024-05-07T00:00:00Z", &interval{openStart: true, end: ts("2024-05-07T00:00:00Z")}},
		{"2024-05-07T00:00:00Z/..", &interval{start: ts("2024-05-07T00:00:00Z"), openEnd: true}},
		{"2024-05-07T00:00:00Z/", &interval{start: ts("2024-05-07T00:00:00Z"), openEnd: true}},
		{"../..", &interval{openStart: true, openEnd: true}},
		{"0000-01-01T00:00:00Z/9999-12-31T00:00:00Z", &interval{start: ts("0000-01-01T00:00:00Z"), end: ts("9999-12-31T00:00:00Z"), openStart: true, openEnd: true}},
		{"2018-02-12T00:00:00Z/P2D", &interval{start: ts("2018-02-12T00:00:00Z"), end: ts("2018-02-14T00:00:00Z")}},
		{"2018-02-12T00:00:00Z/P1Y2M3DT4H5M6.5S", &interval{start: ts("2018-02-12T00:00:00Z"), end: ts("2019-04-15T04:05:06.5Z")}},
		{"2018-02-12T00:00:00Z/P1W", &interval{start: ts("2018-02-12T00:00:00Z"), end: ts("2018-02-19T00:00:00Z")}},
		{"PT12H/2018-02-12T00:00:00Z", &interval{start: ts("2018-02-11T12:00:00Z"), end: ts("2018-02-12T00:00:00Z")}},
		{"", nil},
		{"2024-02-30", nil},
		{"2024-05-06T25:00:00Z", nil},
		{"2024-05-07/2024-05-06", nil},
		{"P2D", nil},
		{"P2D/P3D", nil},
		{"../P2D", nil},
		{"P2D/..", nil},
		{"2024-05-06/P", nil},
		{"2024-05-06/PT", nil},
		{"2024-05-06/P2X", nil},
		{"a/b/c", nil},
		{"20240506", nil},
	} {
		got, err := parseDatetime(tc.in)
		switch {
		case tc.want == nil && err == nil:
			t.Errorf("%q: %+v, want an error", tc.in, got)
		case tc.want != nil && err != nil:
			t.Errorf("%q: %v", tc.in, err)
		case tc.want != nil && (!got.start.Equal(tc.want.start) || !got.end.Equal(tc.want.end) ||
			got.openStart != tc.want.openStart || got.openEnd != tc.want.openEnd):
			t.Errorf("%q: %+v, want %+v", tc.in, got, *tc.want)
		}
	}
}

func TestParseBBoxCRS(t *testing.T) {
	box := func(w, s, e, n float64) orb.Bound { return orb.Bound{Min: orb.Point{w, s}, Max: orb.Point{e, n}} }
	for _, tc := range []struct {
		in   string
		c    crs.CRS
		want []orb.Bound
	}{
		{"22.1,113.8,22.6,114.5", crs.WGS84, []orb.Bound{box(113.8, 22.1, 114.5, 22.6)}},           // lat, lon
		{"65,177,70,-177", crs.WGS84, []orb.Bound{box(177, 65, 180, 70), box(-180, 65, -177, 70)}}, // across the antimeridian
		{"22.1,113.8,0,22.6,114.5,10", crs.WGS84, []orb.Bound{box(113.8, 22.1, 114.5, 22.6)}},
		{"-20037508.342789244,-1,20037508.342789244,1", crs.WebMercator, []orb.Bound{box(-180, -8.983152841195214e-06, 180, 8.983152841195214e-06)}},
	} {
		got, err := parseBBox(tc.in, tc.c)
		if err != nil || len(got) != len(tc.want) {
			t.Errorf("%q in %s: %v, %v; want %v", tc.in, tc.c, got, err, tc.want)
			continue
		}
		for i := range got {
			if !near(coords(got[i].ToPolygon()), coords(tc.want[i].ToPolygon()), 1e-9) {
				t.Errorf("%q in %s: %v, want %v", tc.in, tc.c, got, tc.want)
			}
		}
	}
	// Projected boxes: the north-first EPSG:2326 takes northings first.
	en, err := parseBBox("800000,830000,810000,840000", crs.HK1980Grid) // N 800000..810000, E 830000..840000
	if err != nil {
		t.Fatal(err)
	}
	want := crs.ToWGS84(crs.HK1980Grid, box(830000, 800000, 840000, 810000)).(orb.Bound)
	if len(en) != 1 || en[0] != want {
		t.Errorf("EPSG:2326 box: %v, want %v", en, want)
	}
	if _, err := parseBBox("840000,800000,830000,810000", crs.HK1980Grid); err == nil {
		t.Error("a projected box with south above north: no error")
	}
}

func TestAcceptQuality(t *testing.T) {
	for _, tc := range []struct {
		accept, media string
		want          float64
	}{
		{"text/html", "text/html", 1},
		{"text/html;q=0.5", "text/html", 0.5},
		{"text/*;q=0.3, text/html;q=0.7", "text/html", 0.7},
		{"text/html;q=0.7, text/*;q=0.3", "text/html", 0.7},
		{"text/*;q=0.3", "text/html", 0.3},
		{"*/*;q=0.1, text/html;q=0", "text/html", 0},
		{"*/*;q=0.1", "text/html", 0.1},
		{"application/json", "text/html", 0},
		{"TEXT/HTML", "text/html", 1},
		{"text/html; level=1; q=0.4", "text/html", 0.4},
	} {
		if got := acceptQuality(tc.accept, tc.media); got != tc.want {
			t.Errorf("Accept %q, %s: %v, want %v", tc.accept, tc.media, got, tc.want)
		}
	}
}
