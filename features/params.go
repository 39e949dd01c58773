package features

import (
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/paulmach/orb"

	"github.com/csdi-hk/csdi/catalog"
	"github.com/csdi-hk/csdi/geo"
	"github.com/csdi-hk/csdi/geo/crs"
)

// apiError is an error answered to the client as an OGC exception.
type apiError struct {
	status int
	Exception
}

func (e *apiError) Error() string { return e.Description }

func invalidParam(name, format string, args ...any) *apiError {
	return &apiError{http.StatusBadRequest, Exception{
		Code:        "InvalidParameterValue",
		Description: fmt.Sprintf("query parameter %q: ", name) + fmt.Sprintf(format, args...),
	}}
}

func notFound(format string, args ...any) *apiError {
	return &apiError{http.StatusNotFound, Exception{Code: "NotFound", Description: fmt.Sprintf(format, args...)}}
}

func notAcceptable(format string, args ...any) *apiError {
	return &apiError{http.StatusNotAcceptable, Exception{Code: "NotAcceptable", Description: fmt.Sprintf(format, args...)}}
}

// Query parameters each resource accepts. The OpenAPI document declares
// exactly these, and any other is refused: Part 1 requires a 400 for an
// undeclared parameter, so a typo is not silently ignored.
func resourceParams() []string { return []string{"f"} }
func itemParams() []string     { return []string{"f", "crs"} }

// itemsParams are the parameters of every /items path; each layer adds a
// property filter per field (see propertyParams).
func (h *Handler) itemsParams() []string {
	p := []string{"f", "limit", "bbox", "bbox-crs", "datetime", "crs", "sortby", "after"}
	if h.filters {
		p = append(p, "filter", "filter-lang", "filter-crs")
	}
	return p
}

// propertyParams are the fields of l that can be filtered on with
// ?name=value: all of them but those whose name is taken by a parameter.
func (h *Handler) propertyParams(l *catalog.Layer) []geo.Field {
	reserved := h.itemsParams()
	var out []geo.Field
	for _, fd := range l.Info.Fields {
		if !slices.Contains(reserved, fd.Name) {
			out = append(out, fd)
		}
	}
	return out
}

// format is a response encoding, chosen with f or the Accept header.
type format int

const (
	formatJSON format = iota // JSON, or GeoJSON for features
	formatHTML
)

// negotiate picks the encoding: the f parameter when given, else the
// Accept header. html is offered only where the resource has an HTML
// encoding; anything else is not acceptable (406).
func negotiate(r *http.Request, q url.Values, html bool) (format, error) {
	f, err := single(q, "f")
	if err != nil {
		return 0, err
	}
	if _, ok := q["f"]; ok {
		switch {
		case f == "json" || f == "geojson":
			return formatJSON, nil
		case f == "html" && html:
			return formatHTML, nil
		}
		return 0, notAcceptable("query parameter \"f\": encoding %q is not offered here", f)
	}
	accept := r.Header.Get("Accept")
	if strings.TrimSpace(accept) == "" {
		return formatJSON, nil
	}
	jsonQ := acceptQuality(accept, "application/json", "application/geo+json",
		"application/vnd.oai.openapi+json", "application/schema+json")
	htmlQ := 0.0
	if html {
		htmlQ = acceptQuality(accept, "text/html")
	}
	switch {
	case htmlQ > jsonQ:
		return formatHTML, nil
	case jsonQ > 0:
		return formatJSON, nil
	}
	offered := "JSON"
	if html {
		offered = "JSON and HTML"
	}
	return 0, notAcceptable("Accept %q: this resource is offered as %s", accept, offered)
}

// acceptQuality is the quality an Accept header gives the best of media
// types; for each, the most specific matching range decides (RFC 9110).
func acceptQuality(accept string, media ...string) float64 {
	best := 0.0
	for _, m := range media {
		typ, _, _ := strings.Cut(m, "/")
		q, spec := 0.0, -1
		for r := range strings.SplitSeq(accept, ",") {
			params := strings.Split(r, ";")
			rng := strings.ToLower(strings.TrimSpace(params[0]))
			s := -1
			switch rng {
			case m:
				s = 2
			case typ + "/*":
				s = 1
			case "*/*":
				s = 0
			}
			if s <= spec {
				continue
			}
			spec, q = s, 1
			for _, p := range params[1:] {
				if v, ok := strings.CutPrefix(strings.TrimSpace(p), "q="); ok {
					if f, err := strconv.ParseFloat(v, 64); err == nil {
						q = f
					}
				}
			}
		}
		best = max(best, q)
	}
	return best
}

// checkParams refuses any query parameter outside allowed.
func checkParams(q url.Values, allowed []string) error {
	for name := range q {
		if !slices.Contains(allowed, name) {
			return invalidParam(name, "unknown parameter; accepted here: %s", strings.Join(allowed, ", "))
		}
	}
	return nil
}

// single returns the one value of a parameter, "" when absent.
func single(q url.Values, name string) (string, error) {
	switch v := q[name]; len(v) {
	case 0:
		return "", nil
	case 1:
		return v[0], nil
	}
	return "", invalidParam(name, "given %d times; give it once", len(q[name]))
}

// itemsQuery is a parsed /items request.
type itemsQuery struct {
	format format
	limit  int
	// boxes are the search boxes of bbox in WGS84: none without one, two
	// when it crosses the antimeridian.
	boxes []orb.Bound
	when  *interval    // datetime
	props []propFilter // ?name=value
	sort  []sortKey    // sortby; ids break ties and order the rest
	cql   *filter      // filter (Part 3), nil without one
	crs   crs.CRS      // of the output
	after uint64       // paging cursor: the last feature of the previous page
	key   string       // what selects and orders the features, for the match cache
	query url.Values   // as given, for links
}

// selective reports whether the query selects or orders features beyond
// the plain id order of the whole layer.
func (q *itemsQuery) selective() bool {
	return q.boxes != nil || q.when != nil || q.props != nil || q.sort != nil || q.cql != nil
}

// parseItems reads an /items query against the layer it is for: property
// filters and sort keys name its fields.
func (h *Handler) parseItems(r *http.Request, l *catalog.Layer) (itemsQuery, error) {
	q := r.URL.Query()
	iq := itemsQuery{crs: crs.CRS84, query: q}
	fields := h.propertyParams(l)
	allowed := h.itemsParams()
	for _, fd := range fields {
		allowed = append(allowed, fd.Name)
	}
	if err := checkParams(q, allowed); err != nil {
		return iq, err
	}
	var err error
	if iq.format, err = negotiate(r, q, true); err != nil {
		return iq, err
	}
	if iq.limit, err = parseLimit(q, h.opts.DefaultLimit, h.opts.MaxLimit); err != nil {
		return iq, err
	}
	if iq.crs, err = parseCRS(q, "crs"); err != nil {
		return iq, err
	}
	bboxCRS, err := parseCRS(q, "bbox-crs")
	if err != nil {
		return iq, err
	}
	if s, err := single(q, "bbox"); err != nil {
		return iq, err
	} else if _, ok := q["bbox"]; ok {
		if iq.boxes, err = parseBBox(s, bboxCRS); err != nil {
			return iq, err
		}
	} else if _, ok := q["bbox-crs"]; ok {
		return iq, invalidParam("bbox-crs", "given without bbox")
	}
	if s, err := single(q, "datetime"); err != nil {
		return iq, err
	} else if _, ok := q["datetime"]; ok {
		iv, err := parseDatetime(s)
		if err != nil {
			return iq, err
		}
		iq.when = &iv
	}
	for _, fd := range fields {
		s, err := single(q, fd.Name)
		if err != nil {
			return iq, err
		}
		if _, ok := q[fd.Name]; !ok {
			continue
		}
		pf, err := parsePropFilter(fd, s)
		if err != nil {
			return iq, err
		}
		iq.props = append(iq.props, pf)
	}
	if s, err := single(q, "sortby"); err != nil {
		return iq, err
	} else if _, ok := q["sortby"]; ok {
		if iq.sort, err = parseSortBy(s, l.Info.Fields); err != nil {
			return iq, err
		}
	}
	if iq.cql, err = h.parseFilter(q, l); err != nil {
		return iq, err
	}
	if s, err := single(q, "after"); err != nil {
		return iq, err
	} else if _, ok := q["after"]; ok {
		if iq.after, err = strconv.ParseUint(s, 10, 64); err != nil {
			return iq, invalidParam("after", "%q is not a feature id (a non-negative integer)", s)
		}
	}
	// Parameters that neither select nor order are left out of the key, so
	// every page of a query and every output CRS share one match list.
	sel := url.Values{}
	for name, v := range q {
		switch name {
		case "f", "limit", "after", "crs":
		default:
			sel[name] = v
		}
	}
	iq.key = sel.Encode()
	return iq, nil
}

// parseLimit clamps a limit above the maximum, as clients expect, and
// refuses anything that is not an integer of at least 1.
func parseLimit(q url.Values, def, max int) (int, error) {
	s, err := single(q, "limit")
	if err != nil {
		return 0, err
	}
	if _, ok := q["limit"]; !ok {
		return def, nil
	}
	n, err := strconv.ParseUint(s, 10, 63)
	switch {
	case errors.Is(err, strconv.ErrRange):
		return max, nil
	case err != nil || n < 1:
		return 0, invalidParam("limit", "%q is not an integer between 1 and %d", s, max)
	}
	return int(min(n, uint64(max))), nil
}

// parseCRS reads a CRS parameter (crs, bbox-crs, filter-crs): one of the
// URIs the collections list, CRS84 when absent. Safe CURIEs such as
// [EPSG:2326] and the other spellings crs.Lookup knows are accepted too.
func parseCRS(q url.Values, name string) (crs.CRS, error) {
	s, err := single(q, name)
	if err != nil {
		return 0, err
	}
	if _, ok := q[name]; !ok {
		return crs.CRS84, nil
	}
	c, err := crs.Lookup(strings.TrimSuffix(strings.TrimPrefix(s, "["), "]"))
	if err != nil {
		return 0, invalidParam(name, "%q is not one of the CRSs offered: %s", s, strings.Join(crsURIs(), ", "))
	}
	return c, nil
}

// crsURIs lists the CRSs of every collection, CRS84 first.
func crsURIs() []string {
	var out []string
	for _, c := range crs.All() {
		out = append(out, c.URI())
	}
	return out
}

// geographic reports whether c has degrees for coordinates, where a box
// whose west is east of its east crosses the antimeridian.
func geographic(c crs.CRS) bool { return c == crs.CRS84 || c == crs.WGS84 || c == crs.HK1980 }

// parseBBox reads a bbox in c with c's axis order: west,south,east,north
// in CRS84 and Web Mercator (or with heights:
// west,south,min,east,north,max), south,west,north,east in EPSG:4326 and
// EPSG:4611, and south,west,north,east as northings and eastings in
// EPSG:2326. It returns the boxes to search in WGS84: two when a
// geographic box crosses the antimeridian.
func parseBBox(s string, c crs.CRS) ([]orb.Bound, error) {
	parts := strings.Split(s, ",")
	if len(parts) != 4 && len(parts) != 6 {
		return nil, invalidParam("bbox", "%q has %d numbers; want 4 (two corners) or 6 (with heights)", s, len(parts))
	}
	v := make([]float64, len(parts))
	for i, p := range parts {
		f, err := strconv.ParseFloat(strings.TrimSpace(p), 64)
		if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			return nil, invalidParam("bbox", "%q: item %d (%q) is not a finite number", s, i+1, p)
		}
		v[i] = f
	}
	if len(v) == 6 {
		if v[2] > v[5] {
			return nil, invalidParam("bbox", "%q: the minimum height is above the maximum", s)
		}
		v = []float64{v[0], v[1], v[3], v[4]} // the layers are 2D
	}
	w, south, e, n := v[0], v[1], v[2], v[3]
	if c.NorthFirst() {
		south, w, n, e = v[0], v[1], v[2], v[3]
	}
	if south > n {
		return nil, invalidParam("bbox", "%q: the south edge (%g) is north of the north edge (%g) in %s", s, south, n, c.URI())
	}
	box := func(w, s, e, n float64) orb.Bound {
		b := orb.Bound{Min: orb.Point{w, s}, Max: orb.Point{e, n}}
		return crs.ToWGS84(c, b).(orb.Bound)
	}
	switch {
	case w <= e:
		return []orb.Bound{box(w, south, e, n)}, nil
	case !geographic(c):
		return nil, invalidParam("bbox", "%q: the west edge (%g) is east of the east edge (%g) in %s", s, w, e, c.URI())
	}
	return []orb.Bound{box(w, south, 180, n), box(-180, south, e, n)}, nil
}

// propFilter is a ?name=value filter: the feature's value equals v, as
// the field's type compares.
type propFilter struct {
	field geo.Field
	v     any // of the field's type: string, int64, float64, bool, time.Time
}

func parsePropFilter(fd geo.Field, s string) (propFilter, error) {
	pf := propFilter{field: fd}
	var err error
	switch fd.Type {
	case geo.Integer:
		pf.v, err = strconv.ParseInt(s, 10, 64)
	case geo.Number:
		var f float64
		f, err = strconv.ParseFloat(s, 64)
		if err == nil && (math.IsNaN(f) || math.IsInf(f, 0)) {
			err = errors.New("not finite")
		}
		pf.v = f
	case geo.Boolean:
		pf.v, err = strconv.ParseBool(s)
	case geo.Date:
		pf.v, err = time.Parse(time.DateOnly, s)
	case geo.DateTime:
		var isDate bool
		if pf.v, isDate, err = parseInstant(s); err == nil && isDate {
			err = errors.New("a date where a date-time is needed")
		}
	default:
		pf.v = s
	}
	if err != nil {
		return pf, invalidParam(fd.Name, "%q is not a value of this %s property", s, fd.Type)
	}
	return pf, nil
}

func (pf propFilter) match(l *catalog.Layer, i int) bool {
	v, ok := l.Value(i, pf.field.Name)
	return ok && v != nil && compareValues(v, pf.v) == 0
}

// sortKey is one key of sortby.
type sortKey struct {
	name string
	desc bool
}

// parseSortBy reads sortby: a comma-separated list of field names, each
// optionally prefixed with + (ascending, the default) or - (descending).
// A + left unescaped in a URL arrives as a space, and is taken as a +.
func parseSortBy(s string, fields []geo.Field) ([]sortKey, error) {
	var keys []sortKey
	for part := range strings.SplitSeq(s, ",") {
		var k sortKey
		name := strings.TrimLeft(part, " ")
		if rest, ok := strings.CutPrefix(name, "-"); ok {
			name, k.desc = rest, true
		} else {
			name = strings.TrimPrefix(name, "+")
		}
		if !slices.ContainsFunc(fields, func(fd geo.Field) bool { return fd.Name == name }) {
			return nil, invalidParam("sortby", "%q is not a property of this collection (see its queryables)", name)
		}
		k.name = name
		keys = append(keys, k)
	}
	return keys, nil
}

// compareValues orders two property values of one field; integers and
// numbers compare by value. Values of different kinds, which a field
// should never hold, order by kind so that sorting stays consistent.
func compareValues(a, b any) int {
	switch x := a.(type) {
	case string:
		if y, ok := b.(string); ok {
			return strings.Compare(x, y)
		}
	case int64:
		switch y := b.(type) {
		case int64:
			return cmpOrdered(x, y)
		case float64:
			return cmpOrdered(float64(x), y)
		}
	case float64:
		switch y := b.(type) {
		case float64:
			return cmpOrdered(x, y)
		case int64:
			return cmpOrdered(x, float64(y))
		}
	case bool:
		if y, ok := b.(bool); ok {
			return cmpOrdered(btoi(x), btoi(y))
		}
	case time.Time:
		if y, ok := b.(time.Time); ok {
			return x.Compare(y)
		}
	}
	return cmpOrdered(kind(a), kind(b))
}

func cmpOrdered[T int | int64 | float64](a, b T) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

func kind(v any) int {
	switch v.(type) {
	case bool:
		return 1
	case int64, float64:
		return 2
	case string:
		return 3
	case time.Time:
		return 4
	}
	return 5
}
