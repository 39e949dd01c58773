//go:build tools

// Package csdi pins the modules the packages below use while they are being
// written side by side; it is deleted once every import is in real code.
package csdi

import (
	_ "github.com/jackc/pgx/v5"
	_ "github.com/jackc/pgx/v5/pgxpool"
	_ "github.com/labstack/echo/v4"
	_ "github.com/labstack/echo/v4/middleware"
	_ "github.com/paulmach/orb/clip"
	_ "github.com/paulmach/orb/encoding/mvt"
	_ "github.com/paulmach/orb/encoding/wkb"
	_ "github.com/paulmach/orb/geojson"
	_ "github.com/paulmach/orb/maptile"
	_ "github.com/paulmach/orb/simplify"
	_ "github.com/tidwall/rtree"
	_ "modernc.org/sqlite"
)
