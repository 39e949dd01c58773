package crs_test

import (
	"fmt"

	"github.com/paulmach/orb"

	"github.com/csdi-hk/csdi/geo/crs"
)

func Example() {
	c, err := crs.Lookup("http://www.opengis.net/def/crs/EPSG/0/2326")
	if err != nil {
		panic(err)
	}
	// The origin of the Hong Kong 1980 Grid, easting first.
	p := c.ToWGS84(orb.Point{836694.05, 819069.80})
	fmt.Printf("%s: lon %.6f, lat %.6f\n", c, p[0], p[1])
	q := c.FromWGS84(p)
	fmt.Printf("back: E %.3f, N %.3f\n", q[0], q[1])
	// Output:
	// EPSG:2326: lon 114.181009, lat 22.310602
	// back: E 836694.050, N 819069.800
}

func ExampleFromWKT() {
	prj := `PROJCS["Hong_Kong_1980_Grid",GEOGCS["GCS_Hong_Kong_1980",DATUM["D_Hong_Kong_1980",SPHEROID["International_1924",6378388.0,297.0]],PRIMEM["Greenwich",0.0],UNIT["Degree",0.0174532925199433]],PROJECTION["Transverse_Mercator"],PARAMETER["False_Easting",836694.05],PARAMETER["False_Northing",819069.8],PARAMETER["Central_Meridian",114.178555555556],PARAMETER["Scale_Factor",1.0],PARAMETER["Latitude_Of_Origin",22.3121333333333],UNIT["Meter",1.0]]`
	c, err := crs.FromWKT(prj)
	fmt.Println(c, c.URI(), c.NorthFirst(), err)
	// Output:
	// EPSG:2326 http://www.opengis.net/def/crs/EPSG/0/2326 true <nil>
}
