// Package crs converts coordinates between WGS 84 longitude/latitude, the
// feature model's coordinates, and the few coordinate reference systems
// Hong Kong data arrives in or is asked for: the Hong Kong 1980 Grid
// (EPSG:2326), Hong Kong 1980 geographic (EPSG:4611) and Web Mercator
// (EPSG:3857). It is pure Go so that imports and the OGC API need no PROJ.
//
// An orb.Point is always {x, y} = {east, north}: {lon, lat} for the
// geographic CRSs and {easting, northing} for the projected ones, whatever
// axis order the EPSG registry defines. Axis order is a matter of how
// coordinates are written and read, which CRS.NorthFirst reports.
//
// HK1980 to WGS 84 uses the official 7-parameter transformation EPSG:1825,
// whose stated accuracy is 1 m; the arithmetic here agrees with PROJ to
// well under 1 mm, which is a statement about the code, not about the datum.
package crs

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/project"
)

// CRS is one supported coordinate reference system. The zero value is not a
// CRS; get one from the constants, Lookup or FromWKT.
type CRS uint8

// The supported CRSs.
const (
	CRS84       CRS = iota + 1 // OGC:CRS84, WGS 84 lon/lat
	WGS84                      // EPSG:4326, WGS 84 with lat/lon axes in its definition
	HK1980Grid                 // EPSG:2326, Hong Kong 1980 Grid System
	HK1980                     // EPSG:4611, Hong Kong 1980 geographic
	WebMercator                // EPSG:3857, WGS 84 / Pseudo-Mercator
)

// All lists the supported CRSs, CRS84 first as OGC API Features wants it.
func All() []CRS { return []CRS{CRS84, WGS84, HK1980Grid, HK1980, WebMercator} }

// hk1980Grid is EPSG:19897 "Hong Kong 1980 Grid" with the origin given in
// sexagesimal as the Survey and Mapping Office publishes it. Read-only.
var hk1980Grid = newTmerc(intl1924,
	22+18.0/60+43.68/3600,  // 22°18'43.68"N
	114+10.0/60+42.80/3600, // 114°10'42.80"E
	1, 836694.05, 819069.80)

// Code returns the CRS as AUTHORITY:CODE, e.g. "EPSG:2326", or "" for a
// value that is not a CRS.
func (c CRS) Code() string {
	switch c {
	case CRS84:
		return "OGC:CRS84"
	case WGS84:
		return "EPSG:4326"
	case HK1980Grid:
		return "EPSG:2326"
	case HK1980:
		return "EPSG:4611"
	case WebMercator:
		return "EPSG:3857"
	}
	return ""
}

func (c CRS) String() string {
	if s := c.Code(); s != "" {
		return s
	}
	return "crs.CRS(" + strconv.Itoa(int(c)) + ")"
}

// URI returns the OGC http URI that OGC API Features uses for the CRS.
func (c CRS) URI() string {
	auth, code, ok := strings.Cut(c.Code(), ":")
	if !ok {
		return ""
	}
	if auth == "OGC" {
		return "http://www.opengis.net/def/crs/OGC/1.3/" + code
	}
	return "http://www.opengis.net/def/crs/EPSG/0/" + code
}

// NorthFirst reports whether the EPSG definition of the CRS lists the north
// axis first: latitude, longitude for EPSG:4326 and EPSG:4611, northing,
// easting for EPSG:2326. OGC API Features Part 2, WFS 2 and GML follow the
// definition; GeoJSON, WKT/WKB, PostGIS, shapefiles and GIS software put
// east first whatever the CRS, as this package's orb.Points do.
func (c CRS) NorthFirst() bool {
	return c == WGS84 || c == HK1980 || c == HK1980Grid
}

// ToWGS84 converts a point of c to WGS 84 {lon, lat}. It panics if c is not
// a CRS, which only a programming error can cause.
func (c CRS) ToWGS84(p orb.Point) orb.Point {
	switch c {
	case CRS84, WGS84:
		return p
	case HK1980Grid:
		lon, lat := hk1980Grid.inverse(p[0], p[1])
		return hk1980ToWGS84Deg(lon, lat)
	case HK1980:
		return hk1980ToWGS84Deg(p[0], p[1])
	case WebMercator:
		return project.Mercator.ToWGS84(p)
	}
	panic("crs: ToWGS84 on " + c.String())
}

// FromWGS84 converts a WGS 84 {lon, lat} point to c, the inverse of
// ToWGS84 to well under a millimetre. Web Mercator clamps latitudes beyond
// ±85.0511° as web maps do. It panics if c is not a CRS.
func (c CRS) FromWGS84(p orb.Point) orb.Point {
	switch c {
	case CRS84, WGS84:
		return p
	case HK1980Grid:
		q := wgs84ToHK1980Deg(p[0], p[1])
		e, n := hk1980Grid.forward(q[0], q[1])
		return orb.Point{e, n}
	case HK1980:
		return wgs84ToHK1980Deg(p[0], p[1])
	case WebMercator:
		return project.WGS84.ToMercator(p)
	}
	panic("crs: FromWGS84 on " + c.String())
}

const rad = math.Pi / 180

func hk1980ToWGS84Deg(lon, lat float64) orb.Point {
	lon, lat = hk1980ToWGS84.forward(lon*rad, lat*rad)
	return orb.Point{lon / rad, lat / rad}
}

func wgs84ToHK1980Deg(lon, lat float64) orb.Point {
	lon, lat = hk1980ToWGS84.reverse(lon*rad, lat*rad)
	return orb.Point{lon / rad, lat / rad}
}

// ToWGS84 converts every point of g from c to WGS 84 in place, as
// orb/project does, and returns g. A bound becomes the bound of its
// converted edges, which bulge by tens of metres from its corners in the
// HK1980 Grid.
func ToWGS84(c CRS, g orb.Geometry) orb.Geometry {
	if isLonLat(c) {
		return g
	}
	return geometry(g, c.ToWGS84)
}

// FromWGS84 converts every point of g from WGS 84 to c in place and returns
// g, with bounds handled as in ToWGS84.
func FromWGS84(c CRS, g orb.Geometry) orb.Geometry {
	if isLonLat(c) {
		return g
	}
	return geometry(g, c.FromWGS84)
}

// boundSteps is how many pieces each edge of a bound is cut into. Sixteen
// leave under 0.2 m of the edge's bulge in a bound the size of Hong Kong.
const boundSteps = 16

func geometry(g orb.Geometry, proj orb.Projection) orb.Geometry {
	b, ok := g.(orb.Bound)
	if !ok {
		return project.Geometry(g, proj)
	}
	out := orb.Bound{Min: proj(b.Min)}
	out.Max = out.Min
	for i := range boundSteps {
		f := float64(i) / boundSteps
		x := b.Min[0] + f*(b.Max[0]-b.Min[0])
		y := b.Min[1] + f*(b.Max[1]-b.Min[1])
		out = out.Extend(proj(orb.Point{x, b.Min[1]})).
			Extend(proj(orb.Point{b.Max[0], y})).
			Extend(proj(orb.Point{b.Max[0] - (x - b.Min[0]), b.Max[1]})).
			Extend(proj(orb.Point{b.Min[0], b.Max[1] - (y - b.Min[1])}))
	}
	return out
}

// Lookup finds a CRS by any of the names OGC services and clients use:
// "EPSG:2326", "2326", "urn:ogc:def:crs:EPSG::2326",
// "http://www.opengis.net/def/crs/EPSG/0/2326", "OGC:CRS84", "CRS84",
// "CRS:84", "urn:ogc:def:crs:OGC:1.3:CRS84",
// "http://www.opengis.net/def/crs/OGC/1.3/CRS84". Case and surrounding
// space do not matter. ESRI:102100 and EPSG:900913, the names ArcGIS and
// old clients give Web Mercator, are WebMercator.
func Lookup(s string) (CRS, error) {
	auth, code := splitName(strings.ToUpper(strings.TrimSpace(s)))
	switch auth + ":" + code {
	case "OGC:CRS84", "CRS:84":
		return CRS84, nil
	case "EPSG:4326":
		return WGS84, nil
	case "EPSG:2326":
		return HK1980Grid, nil
	case "EPSG:4611":
		return HK1980, nil
	case "EPSG:3857", "EPSG:900913", "ESRI:102100":
		return WebMercator, nil
	}
	return 0, fmt.Errorf("crs: %q is not a supported CRS; use one of EPSG:2326, EPSG:4326, EPSG:4611, EPSG:3857, OGC:CRS84 or their OGC URIs", s)
}

// splitName splits an upper-cased CRS name into authority and code.
func splitName(s string) (auth, code string) {
	for _, p := range []string{"HTTP://WWW.OPENGIS.NET/DEF/CRS/", "HTTPS://WWW.OPENGIS.NET/DEF/CRS/"} {
		if rest, ok := strings.CutPrefix(s, p); ok {
			// AUTHORITY/VERSION/CODE
			parts := strings.Split(rest, "/")
			if len(parts) != 3 {
				return "", ""
			}
			return parts[0], parts[2]
		}
	}
	if rest, ok := strings.CutPrefix(s, "URN:OGC:DEF:CRS:"); ok {
		// AUTHORITY:VERSION:CODE, the version often empty
		parts := strings.Split(rest, ":")
		if len(parts) != 3 {
			return "", ""
		}
		return parts[0], parts[2]
	}
	if auth, code, ok := strings.Cut(s, ":"); ok {
		return auth, code
	}
	if s == "CRS84" {
		return "OGC", s
	}
	if _, err := strconv.ParseUint(s, 10, 32); err == nil {
		return "EPSG", s
	}
	return "", ""
}
