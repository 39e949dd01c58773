package features

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/csdi-hk/csdi/catalog"
	"github.com/csdi-hk/csdi/geo"
)

// interval is a closed time interval; an open end is unbounded.
type interval struct {
	start, end         time.Time
	openStart, openEnd bool
}

// day is the length of a date: a date stands for the whole day.
const day = 24*time.Hour - time.Nanosecond

// parseDatetime reads the datetime parameter: an instant (a date stands
// for its whole day) or an interval start/end, either end open with ".."
// or nothing, or given as an ISO 8601 duration from the other end
// (2018-02-12T00:00:00Z/P2D). Older QGIS asks for years 0000 and 9999
// where it means open ends, and is taken at its meaning.
func parseDatetime(s string) (interval, error) {
	bad := func(format string, args ...any) (interval, error) {
		return interval{}, invalidParam("datetime", "%q: %s", s, fmt.Sprintf(format, args...))
	}
	a, b, isInterval := strings.Cut(s, "/")
	if !isInterval {
		t, isDate, err := parseInstant(a)
		if err != nil {
			return bad("not an RFC 3339 date or date-time, nor an interval start/end: %v", err)
		}
		iv := interval{start: t, end: t}
		if isDate {
			iv.end = t.Add(day)
		}
		return iv, nil
	}
	if strings.Contains(b, "/") {
		return bad("an interval has one /")
	}
	var iv interval
	var durA, durB *duration
	var err error
	switch {
	case a == "" || a == "..":
		iv.openStart = true
	case strings.HasPrefix(a, "P"):
		if durA, err = parseDuration(a); err != nil {
			return bad("start: %v", err)
		}
	default:
		if iv.start, _, err = parseInstant(a); err != nil {
			return bad("start: %v", err)
		}
		iv.openStart = iv.start.Year() == 0
	}
	switch {
	case b == "" || b == "..":
		iv.openEnd = true
	case strings.HasPrefix(b, "P"):
		if durB, err = parseDuration(b); err != nil {
			return bad("end: %v", err)
		}
	default:
		var isDate bool
		if iv.end, isDate, err = parseInstant(b); err != nil {
			return bad("end: %v", err)
		}
		if isDate {
			iv.end = iv.end.Add(day)
		}
		iv.openEnd = iv.end.Year() == 9999
	}
	switch {
	case durA != nil && durB != nil:
		return bad("both ends are durations")
	case durA != nil && iv.openEnd, durB != nil && iv.openStart:
		return bad("a duration needs a fixed other end")
	case durA != nil:
		iv.start = durA.before(iv.end)
	case durB != nil:
		iv.end = durB.after(iv.start)
	}
	if !iv.openStart && !iv.openEnd && iv.start.After(iv.end) {
		return bad("the start is after the end")
	}
	return iv, nil
}

// parseInstant reads an RFC 3339 date-time, or a full date (isDate). A
// date-time without an offset is taken as UTC.
func parseInstant(s string) (t time.Time, isDate bool, err error) {
	u := strings.ToUpper(s)
	if t, err := time.Parse(time.DateOnly, u); err == nil {
		return t, true, nil
	}
	if t, err := time.Parse(time.RFC3339Nano, u); err == nil {
		return t, false, nil
	}
	t, err = time.Parse("2006-01-02T15:04:05.999999999", u)
	if err != nil {
		return t, false, fmt.Errorf("%q is not an RFC 3339 date or date-time", s)
	}
	return t, false, nil
}

// duration is an ISO 8601 duration: calendar parts and a clock part.
type duration struct {
	years, months, days int
	clock               time.Duration
}

var durationPattern = regexp.MustCompile(`^P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:[.,]\d+)?)S)?)?$`)

func parseDuration(s string) (*duration, error) {
	m := durationPattern.FindStringSubmatch(s)
	if m == nil || s == "P" || strings.HasSuffix(s, "T") {
		return nil, fmt.Errorf("%q is not an ISO 8601 duration such as P2D or PT12H", s)
	}
	n := func(i int) int {
		v, _ := strconv.Atoi(m[i])
		return v
	}
	d := &duration{years: n(1), months: n(2), days: 7*n(3) + n(4)}
	secs, _ := strconv.ParseFloat(strings.ReplaceAll(m[7], ",", "."), 64)
	d.clock = time.Duration(n(5))*time.Hour + time.Duration(n(6))*time.Minute + time.Duration(secs*float64(time.Second))
	return d, nil
}

func (d *duration) after(t time.Time) time.Time {
	return t.AddDate(d.years, d.months, d.days).Add(d.clock)
}

func (d *duration) before(t time.Time) time.Time {
	return t.AddDate(-d.years, -d.months, -d.days).Add(-d.clock)
}

// timeField is the layer's time property: the date or date-time field
// that LayerInfo.Tiles.TimeField designates, or else the first date or
// date-time field, as most layers have at most one.
func timeField(l *catalog.Layer) (geo.Field, bool) {
	name := l.Info.Tiles.TimeField
	for _, fd := range l.Info.Fields {
		if (fd.Type == geo.Date || fd.Type == geo.DateTime) && (name == "" || fd.Name == name) {
			return fd, true
		}
	}
	return geo.Field{}, false
}

// matchTime reports whether the feature's time, an instant or for a date
// the whole day, meets the interval. A feature without a time does not.
func (iv *interval) matchTime(l *catalog.Layer, i int, fd geo.Field) bool {
	v, _ := l.Value(i, fd.Name)
	t, ok := v.(time.Time)
	if !ok {
		return false
	}
	end := t
	if fd.Type == geo.Date {
		end = t.Add(day)
	}
	return (iv.openStart || !end.Before(iv.start)) && (iv.openEnd || !t.After(iv.end))
}

// timeExtents keeps each layer's temporal extent, which takes a scan of
// the whole layer to find, for the version it was found in.
type timeExtents struct {
	mu sync.Mutex
	m  map[string]timeExtent // by layer id
}

type timeExtent struct {
	version int64
	ext     *TemporalExtent
}

// get returns the temporal extent of l's time property, nil when it has
// none or no feature has a time.
func (t *timeExtents) get(l *catalog.Layer) *TemporalExtent {
	fd, ok := timeField(l)
	if !ok {
		return nil
	}
	t.mu.Lock()
	e, ok := t.m[l.Info.ID]
	t.mu.Unlock()
	if ok && e.version == l.Info.Version {
		return e.ext
	}
	var first, last time.Time
	found := false
	for i := range l.Len() {
		p, _ := l.Value(i, fd.Name)
		v, ok := p.(time.Time)
		if !ok {
			continue
		}
		if !found || v.Before(first) {
			first = v
		}
		if !found || v.After(last) {
			last = v
		}
		found = true
	}
	var ext *TemporalExtent
	if found {
		if fd.Type == geo.Date {
			last = last.Add(day).Truncate(time.Second)
		}
		a, b := first.UTC().Format(time.RFC3339), last.UTC().Format(time.RFC3339)
		ext = &TemporalExtent{Interval: [][2]*string{{&a, &b}}, TRS: "http://www.opengis.net/def/uom/ISO-8601/0/Gregorian"}
	}
	t.mu.Lock()
	if t.m == nil {
		t.m = map[string]timeExtent{}
	}
	t.m[l.Info.ID] = timeExtent{l.Info.Version, ext}
	t.mu.Unlock()
	return ext
}
