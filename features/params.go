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

	"github.com/paulmach/orb"
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

// Query parameters each resource accepts. The OpenAPI document declares
// exactly these, and any other is refused: Part 1 requires a 400 for an
// undeclared parameter, so a typo is not silently ignored.
func resourceParams() []string { return []string{"f"} }
func itemsParams() []string    { return []string{"f", "limit", "bbox", "after"} }
func itemParams() []string     { return []string{"f"} }

// format is a response encoding chosen with the f parameter.
type format int

const (
	formatJSON format = iota // JSON, or GeoJSON for features
	formatHTML
)

// parseFormat reads f; html is honoured only where the resource has an HTML
// encoding, and anything else is not acceptable (406).
func parseFormat(q url.Values, html bool) (format, error) {
	f, err := single(q, "f")
	if err != nil {
		return 0, err
	}
	switch {
	case f == "" || f == "json" || f == "geojson":
		return formatJSON, nil
	case f == "html" && html:
		return formatHTML, nil
	}
	return 0, &apiError{http.StatusNotAcceptable, Exception{
		Code:        "NotAcceptable",
		Description: fmt.Sprintf("query parameter \"f\": encoding %q is not offered here", f),
	}}
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
	// boxes are the search boxes of bbox: none without one, two when it
	// crosses the antimeridian.
	boxes []orb.Bound
	// after is the paging cursor: only features with a greater id are
	// returned. Ids are positive, so 0 is the start.
	after uint64
}

func parseItems(q url.Values, defaultLimit, maxLimit int) (itemsQuery, error) {
	var iq itemsQuery
	if err := checkParams(q, itemsParams()); err != nil {
		return iq, err
	}
	var err error
	if iq.format, err = parseFormat(q, false); err != nil {
		return iq, err
	}
	if iq.limit, err = parseLimit(q, defaultLimit, maxLimit); err != nil {
		return iq, err
	}
	if s, err := single(q, "bbox"); err != nil {
		return iq, err
	} else if _, ok := q["bbox"]; ok {
		if iq.boxes, err = parseBBox(s); err != nil {
			return iq, err
		}
	}
	if s, err := single(q, "after"); err != nil {
		return iq, err
	} else if _, ok := q["after"]; ok {
		if iq.after, err = strconv.ParseUint(s, 10, 64); err != nil {
			return iq, invalidParam("after", "%q is not a feature id (a non-negative integer)", s)
		}
	}
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

// parseBBox reads west,south,east,north (or with heights:
// west,south,min,east,north,max) in CRS84 and returns the boxes to search:
// two when west > east, for a box that crosses the antimeridian.
func parseBBox(s string) ([]orb.Bound, error) {
	parts := strings.Split(s, ",")
	if len(parts) != 4 && len(parts) != 6 {
		return nil, invalidParam("bbox", "%q has %d numbers; want 4 (west,south,east,north) or 6 (with heights)", s, len(parts))
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
	if south > n {
		return nil, invalidParam("bbox", "%q: south (%g) is above north (%g)", s, south, n)
	}
	if w <= e {
		return []orb.Bound{{Min: orb.Point{w, south}, Max: orb.Point{e, n}}}, nil
	}
	return []orb.Bound{
		{Min: orb.Point{w, south}, Max: orb.Point{180, n}},
		{Min: orb.Point{-180, south}, Max: orb.Point{e, n}},
	}, nil
}
