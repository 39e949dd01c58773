package cql2

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/paulmach/orb"

	"github.com/csdi-hk/csdi/geo"
)

var evalFields = []geo.Field{
	{Name: "name", Type: geo.String}, {Name: "名稱", Type: geo.String}, {Name: "n", Type: geo.Integer},
	{Name: "x", Type: geo.Number}, {Name: "flag", Type: geo.Boolean}, {Name: "d", Type: geo.Date}, {Name: "ts", Type: geo.DateTime},
}

// hole is a square 0..10 with the hole 3..7, in a corner of the plane
// away from the rest of the data.
var hole = orb.Polygon{
	{{0, 0}, {10, 0}, {10, 10}, {0, 10}, {0, 0}},
	{{3, 3}, {3, 7}, {7, 7}, {7, 3}, {3, 3}},
}

func evalFeatures() []geo.Feature {
	date := func(y, m, d int) time.Time { return time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC) }
	at := func(d, h int) time.Time { return time.Date(2020, 1, d, h, 0, 0, 0, time.UTC) }
	feat := func(id uint64, g orb.Geometry, kv ...any) geo.Feature {
		m := map[string]any{}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i].(string)] = kv[i+1]
		}
		return geo.Feature{ID: id, Geometry: g, Properties: m}
	}
	return []geo.Feature{
		feat(1, orb.Point{114.155, 22.284}, "name", "Central Market", "名稱", "中環街市", "n", int64(5), "x", 1.5, "flag", true, "d", date(2020, 1, 1), "ts", at(1, 8)),
		feat(2, orb.Point{5, 5}, "name", "100%", "名稱", "灣仔", "n", int64(100), "x", -2.0, "flag", false, "d", date(2020, 1, 2), "ts", at(1, 9)),
		feat(3, orb.LineString{{1, 5}, {9, 5}}, "name", "a_b", "x", 0.0),
		feat(4, orb.Polygon{{{4, 4}, {6, 4}, {6, 6}, {4, 6}, {4, 4}}}, "name", "axb", "n", int64(7), "flag", true, "d", date(2020, 1, 3), "ts", at(3, 0)),
		feat(5, orb.Point{1, 1}, "n", int64(3), "x", 2.5, "flag", false, "d", date(2019, 12, 31), "ts", at(2, 23)),
		feat(6, orb.Point{3, 5}, "name", "it's", "n", int64(-1), "d", date(2020, 1, 5)),
		feat(7, orb.Point{179.5, 0.5}, "name", "Café", "名稱", "灣仔碼頭", "n", int64(3), "x", 3.25, "ts", at(5, 12)),
		feat(8, orb.Point{-179.5, -0.5}, "name", "CAFE", "n", int64(0), "flag", true, "d", date(2020, 1, 4)),
		feat(9, orb.Point{0, 0.5}, "name", `a\b`, "n", int64(12), "x", 1e-3),
		feat(10, nil, "name", "no geometry", "n", int64(5)),
		feat(11, hole, "name", "Bcd"),
		feat(12, orb.Polygon{{{7, 7}, {8, 7}, {8, 8}, {7, 8}, {7, 7}}}, "name", "corner", "n", int64(8)),
		feat(13, orb.Polygon{{{3, 3}, {5, 3}, {5, 5}, {3, 5}, {3, 3}}}, "name", "along the hole"),
		feat(14, orb.Polygon{{{3, 3}, {7, 3}, {7, 7}, {3, 7}, {3, 3}}}, "name", "the hole"),
		feat(15, orb.LineString{{3, 4}, {3, 6}}, "name", "on the hole's edge"),
	}
}

// TestEvalAgainstPostGIS runs filters here and their hand translation to
// SQL in PostGIS over the same rows, which must match the same ids.
func TestEvalAgainstPostGIS(t *testing.T) {
	conn := pg(t)
	ctx := context.Background()
	fs := evalFeatures()
	for _, q := range []string{
		`CREATE EXTENSION unaccent`,
		`CREATE TABLE t (id int PRIMARY KEY, name text, "名稱" text, n bigint, x float8, flag bool, d date, ts timestamptz, geom geometry)`,
	} {
		if _, err := conn.Exec(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	for _, f := range fs {
		var wkt any
		if f.Geometry != nil {
			wkt = Geometry{G: f.Geometry}.String()
		}
		p := f.Properties
		if _, err := conn.Exec(ctx, `INSERT INTO t VALUES ($1, $2, $3, $4, $5, $6, $7, $8, ST_GeomFromText($9, 4326))`,
			f.ID, p["name"], p["名稱"], p["n"], p["x"], p["flag"], p["d"], p["ts"], wkt); err != nil {
			t.Fatalf("insert feature %d: %v", f.ID, err)
		}
	}
	holeSQL := `ST_GeomFromText('POLYGON((0 0,10 0,10 10,0 10,0 0),(3 3,3 7,7 7,7 3,3 3))', 4326)`
	for _, c := range []struct{ filter, sql string }{
		// Comparisons and NULL.
		{`n = 5`, `n = 5`},
		{`n <> 5`, `n <> 5`},
		{`NOT n = 5`, `NOT n = 5`},
		{`n IS NULL`, `n IS NULL`},
		{`n IS NOT NULL`, `n IS NOT NULL`},
		{`n >= 3 AND n < 8`, `n >= 3 AND n < 8`},
		{`5 > n`, `5 > n`},
		{`x <= 1.5`, `x <= 1.5`},
		{`x > n`, `x > n`},
		{`n > 3 OR name = 'axb'`, `n > 3 OR name = 'axb'`},
		{`NOT (n > 3 AND flag = TRUE)`, `NOT (n > 3 AND flag = TRUE)`},
		{`NOT (n > 3 OR flag = TRUE)`, `NOT (n > 3 OR flag = TRUE)`},
		{`flag = FALSE`, `flag = FALSE`},
		{`flag <> TRUE`, `flag <> TRUE`},
		{`TRUE`, `TRUE`},
		{`FALSE OR name IS NULL`, `FALSE OR name IS NULL`},
		{`name = 'it''s'`, `name = 'it''s'`},
		{`name > 'B'`, `name COLLATE "C" > 'B'`},
		{`名稱 = '中環街市'`, `"名稱" = '中環街市'`},
		{`"名稱" <> '灣仔'`, `"名稱" <> '灣仔'`},
		// Advanced comparisons.
		{`n IN (3, 5, 7)`, `n IN (3, 5, 7)`},
		{`n NOT IN (3, 5)`, `n NOT IN (3, 5)`},
		{`name IN ('axb', 'Bcd')`, `name IN ('axb', 'Bcd')`},
		{`n BETWEEN 3 AND 7`, `n BETWEEN 3 AND 7`},
		{`n NOT BETWEEN 3 AND 7`, `n NOT BETWEEN 3 AND 7`},
		{`x BETWEEN -2 AND 1.5`, `x BETWEEN -2 AND 1.5`},
		{`name LIKE '100\%'`, `name LIKE '100\%'`},
		{`name LIKE '1%'`, `name LIKE '1%'`},
		{`name LIKE 'a\_b'`, `name LIKE 'a\_b'`},
		{`name LIKE 'a_b'`, `name LIKE 'a_b'`},
		{`name LIKE 'a\\b'`, `name LIKE 'a\\b'`},
		{`name LIKE '%''%'`, `name LIKE '%''%'`},
		{`name NOT LIKE 'C%'`, `name NOT LIKE 'C%'`},
		{`"名稱" LIKE '灣仔%'`, `"名稱" LIKE '灣仔%'`},
		{`名稱 LIKE '_仔'`, `"名稱" LIKE '_仔'`},
		{`CASEI(name) = CASEI('cafe')`, `lower(name) = lower('cafe')`},
		{`CASEI(name) LIKE CASEI('CAF%')`, `lower(name COLLATE "und-x-icu") LIKE lower('CAF%')`},
		{`ACCENTI(name) = ACCENTI('Cafe')`, `unaccent(name) = unaccent('Cafe')`},
		{`ACCENTI(CASEI(name)) = ACCENTI(CASEI('CAFÉ'))`, `unaccent(lower(name COLLATE "und-x-icu")) = unaccent(lower('CAFÉ' COLLATE "und-x-icu"))`},
		// Dates and times; a date is its whole day in the temporal functions.
		{`d = DATE('2020-01-01')`, `d = '2020-01-01'`},
		{`d < DATE('2020-01-02')`, `d < '2020-01-02'`},
		{`ts >= TIMESTAMP('2020-01-01T09:00:00Z')`, `ts >= '2020-01-01T09:00:00Z'`},
		{`ts > TIMESTAMP('2020-01-02T07:00:00+08:00')`, `ts > '2020-01-01T23:00:00Z'`},
		{`d BETWEEN DATE('2020-01-01') AND DATE('2020-01-03')`, `d BETWEEN '2020-01-01' AND '2020-01-03'`},
		{`T_BEFORE(d, DATE('2020-01-02'))`, `d < '2020-01-02'`},
		{`T_AFTER(d, DATE('2020-01-02'))`, `d > '2020-01-02'`},
		{`T_AFTER(ts, TIMESTAMP('2020-01-01T09:00:00Z'))`, `ts > '2020-01-01T09:00:00Z'`},
		{`T_EQUALS(ts, TIMESTAMP('2020-01-01T09:00:00Z'))`, `ts = '2020-01-01T09:00:00Z'`},
		{`T_DISJOINT(d, DATE('2020-01-01'))`, `d <> '2020-01-01'`},
		{`T_DURING(ts, INTERVAL('2020-01-01T08:00:00Z', '..'))`, `ts > '2020-01-01T08:00:00Z'`},
		{`T_DURING(ts, INTERVAL('..', '2020-01-02'))`, `ts < '2020-01-03'`},
		{`T_INTERSECTS(d, INTERVAL('2020-01-02', '2020-01-03'))`, `d BETWEEN '2020-01-02' AND '2020-01-03'`},
		{`T_INTERSECTS(ts, DATE('2020-01-01'))`, `ts >= '2020-01-01' AND ts < '2020-01-02'`},
		{`T_CONTAINS(INTERVAL('2019-12-31', '2020-01-05'), d)`, `d > '2019-12-31' AND d < '2020-01-05'`},
		{`T_STARTS(ts, INTERVAL('2020-01-01T08:00:00Z', '..'))`, `ts = '2020-01-01T08:00:00Z'`},
		{`T_FINISHES(d, INTERVAL('2019-01-01', '2020-01-02'))`, `d = '2020-01-02'`},
		{`T_MEETS(INTERVAL('2019-01-01', ts), INTERVAL(ts, '..'))`, `ts IS NOT NULL`},
		{`T_OVERLAPS(INTERVAL(d, ts), INTERVAL('2020-01-01T12:00:00Z', '2020-01-04'))`, `d < '2020-01-01T12:00:00Z' AND ts > '2020-01-01T12:00:00Z' AND ts < '2020-01-05'`},
		{`T_FINISHEDBY(INTERVAL('2019-12-30', d), DATE('2020-01-02'))`, `d = '2020-01-02'`},
		{`T_METBY(INTERVAL(ts, '..'), INTERVAL('2019-01-01', '2020-01-01T09:00:00Z'))`, `ts = '2020-01-01T09:00:00Z'`},
		{`T_OVERLAPPEDBY(INTERVAL(d, '..'), INTERVAL('2019-12-31T12:00:00Z', '2020-01-02T12:00:00Z'))`, `d IN ('2020-01-01', '2020-01-02')`},
		{`T_STARTEDBY(INTERVAL(d, '..'), DATE('2020-01-03'))`, `d = '2020-01-03'`},
		{`T_STARTEDBY(INTERVAL(ts, '..'), TIMESTAMP('2020-01-03T00:00:00Z'))`, `ts = '2020-01-03T00:00:00Z'`},
		{`T_EQUALS(d, DATE('2020-01-04'))`, `d = '2020-01-04'`},
		{`T_DURING(d, INTERVAL('2020-01-01', '2020-01-04'))`, `d > '2020-01-01' AND d < '2020-01-04'`},
		{`T_BEFORE(INTERVAL(d, ts), DATE('2020-01-03'))`, `d IS NOT NULL AND ts < '2020-01-03'`},
		{`T_BEFORE(ts, TIMESTAMP('2020-01-02T23:00:00Z'))`, `ts < '2020-01-02T23:00:00Z'`},
		// NULLs: a comparison with a missing value is unknown, and NOT of
		// unknown stays unknown, as in SQL.
		{`d IS NULL`, `d IS NULL`},
		{`NOT (ts IS NULL)`, `NOT (ts IS NULL)`},
		{`NOT (n IN (3, 5))`, `NOT (n IN (3, 5))`},
		{`NOT (x BETWEEN 0 AND 2)`, `NOT (x BETWEEN 0 AND 2)`},
		{`n <> 5 OR n IS NULL`, `n <> 5 OR n IS NULL`},
		{`NOT (name LIKE 'a%' OR n > 4)`, `NOT (name LIKE 'a%' OR n > 4)`},
		{`CASEI(name) <> CASEI('cafe')`, `lower(name) <> lower('cafe')`},
		{`NOT T_AFTER(ts, TIMESTAMP('2020-01-02T00:00:00Z'))`, `NOT ts > '2020-01-02T00:00:00Z'`},
		{`flag = TRUE OR NOT flag = TRUE`, `flag = TRUE OR NOT flag = TRUE`},
		// LIKE escapes: an escaped wildcard is itself, an escaped
		// backslash one backslash, and regexp characters are plain.
		{`name LIKE '%\%'`, `name LIKE '%\%'`},
		{`name LIKE 'a\%'`, `name LIKE 'a\%'`},
		{`name LIKE '_t''s'`, `name LIKE '_t''s'`},
		{`name LIKE 'Caf_'`, `name LIKE 'Caf_'`},
		{`name LIKE '.*'`, `name LIKE '.*'`},
		{`name LIKE '%(%'`, `name LIKE '%(%'`},
		// Spatial functions, with a polygon with a hole (features 2, 4
		// and 12 are in the hole or in its corner) and a box across the
		// antimeridian.
		{`S_INTERSECTS(geometry, POLYGON((0 0,10 0,10 10,0 10,0 0),(3 3,3 7,7 7,7 3,3 3)))`, `ST_Intersects(geom, ` + holeSQL + `)`},
		{`S_WITHIN(geometry, POLYGON((0 0,10 0,10 10,0 10,0 0),(3 3,3 7,7 7,7 3,3 3)))`, `ST_Within(geom, ` + holeSQL + `)`},
		{`S_TOUCHES(geometry, POLYGON((0 0,10 0,10 10,0 10,0 0),(3 3,3 7,7 7,7 3,3 3)))`, `ST_Touches(geom, ` + holeSQL + `)`},
		{`S_DISJOINT(geometry, POLYGON((0 0,10 0,10 10,0 10,0 0),(3 3,3 7,7 7,7 3,3 3)))`, `ST_Disjoint(geom, ` + holeSQL + `)`},
		{`S_CROSSES(geometry, POLYGON((0 0,10 0,10 10,0 10,0 0),(3 3,3 7,7 7,7 3,3 3)))`, `ST_Crosses(geom, ` + holeSQL + `)`},
		{`S_CONTAINS(geometry, POINT(5 5))`, `ST_Contains(geom, ST_GeomFromText('POINT(5 5)', 4326))`},
		{`S_EQUALS(geometry, MULTIPOINT((1 1)))`, `ST_Equals(geom, ST_GeomFromText('MULTIPOINT((1 1))', 4326))`},
		{`S_OVERLAPS(geometry, BBOX(5, 5, 12, 12))`, `ST_Overlaps(geom, ST_MakeEnvelope(5, 5, 12, 12, 4326))`},
		{`S_INTERSECTS(geometry, BBOX(179, -1, -179, 1))`, `ST_Intersects(geom, ST_Collect(ST_MakeEnvelope(179, -1, 180, 1, 4326), ST_MakeEnvelope(-180, -1, -179, 1, 4326)))`},
		{`S_INTERSECTS(geometry, BBOX(-1, 0, 1, 1))`, `ST_Intersects(geom, ST_MakeEnvelope(-1, 0, 1, 1, 4326))`},
		{`NOT S_INTERSECTS(geometry, BBOX(113, 22, 115, 23))`, `NOT ST_Intersects(geom, ST_MakeEnvelope(113, 22, 115, 23, 4326))`},
		{`S_EQUALS(geometry, POLYGON((0 0,10 0,10 10,0 10,0 0),(3 3,3 7,7 7,7 3,3 3)))`, `ST_Equals(geom, ` + holeSQL + `)`},
		{`S_OVERLAPS(geometry, POLYGON((0 0,10 0,10 10,0 10,0 0),(3 3,3 7,7 7,7 3,3 3)))`, `ST_Overlaps(geom, ` + holeSQL + `)`},
		{`S_CONTAINS(POLYGON((0 0,10 0,10 10,0 10,0 0),(3 3,3 7,7 7,7 3,3 3)), geometry)`, `ST_Contains(` + holeSQL + `, geom)`},
		{`S_EQUALS(geometry, POLYGON((3 3,7 3,7 7,3 7,3 3)))`, `ST_Equals(geom, ST_GeomFromText('POLYGON((3 3,7 3,7 7,3 7,3 3))', 4326))`},
		{`S_TOUCHES(geometry, MULTIPOLYGON(((3 3,7 3,7 7,3 7,3 3)),((20 20,21 20,21 21,20 20))))`, `ST_Touches(geom, ST_GeomFromText('MULTIPOLYGON(((3 3,7 3,7 7,3 7,3 3)),((20 20,21 20,21 21,20 20)))', 4326))`},
		{`S_CROSSES(geometry, LINESTRING(2 5, 8 5))`, `ST_Crosses(geom, ST_GeomFromText('LINESTRING(2 5, 8 5)', 4326))`},
		{`S_WITHIN(geometry, BBOX(179, -1, -179, 1))`, `ST_Within(geom, ST_Collect(ST_MakeEnvelope(179, -1, 180, 1, 4326), ST_MakeEnvelope(-180, -1, -179, 1, 4326)))`},
		{`S_DISJOINT(geometry, BBOX(179, -1, -179, 1))`, `ST_Disjoint(geom, ST_Collect(ST_MakeEnvelope(179, -1, 180, 1, 4326), ST_MakeEnvelope(-180, -1, -179, 1, 4326)))`},
		{`S_INTERSECTS(geometry, BBOX(170, -1, 0, -179, 1, 10))`, `ST_Intersects(geom, ST_Collect(ST_MakeEnvelope(170, -1, 180, 1, 4326), ST_MakeEnvelope(-180, -1, -179, 1, 4326)))`},
		{`geometry IS NULL`, `geom IS NULL`},
		{`n = 5 AND S_INTERSECTS(geometry, POINT(114.155 22.284))`, `n = 5 AND ST_Intersects(geom, ST_GeomFromText('POINT(114.155 22.284)', 4326))`},
	} {
		got := matching(t, c.filter, evalFields, fs)
		want := ids(t, conn, `SELECT id FROM t WHERE `+c.sql+` ORDER BY id`)
		if !slices.Equal(got, want) {
			t.Errorf("%s: got %v, PostGIS (%s) %v", c.filter, got, c.sql, want)
		}
	}
}

func TestResolve(t *testing.T) {
	for _, c := range []struct{ filter, err string }{
		{`nope = 1`, `unknown property "nope"`},
		{`n = 1 AND "地址" = 'x'`, `unknown property "地址"`},
		{`n = 'five'`, `n is a number but 'five' is a string`},
		{`name < 5`, `name is a string but 5 is a number`},
		{`d = TIMESTAMP('2020-01-01T00:00:00Z') AND d > 5`, `d is a date or timestamp but 5 is a number`},
		{`flag IN (TRUE, 1)`, `is a number`},
		{`n LIKE '1%'`, `LIKE needs a string`},
		{`CASEI(n) = 'a'`, `needs a string`},
		{`geometry = 1`, `spatial functions`},
		{`S_INTERSECTS(name, POINT(1 2))`, `not "name"`},
		{`T_BEFORE(n, DATE('2020-01-01'))`, `property "n" is a number`},
		{`T_BEFORE(nope, DATE('2020-01-01'))`, `unknown property "nope"`},
		{`flag BETWEEN TRUE AND FALSE`, `BETWEEN needs`},
		{`S_INTERSECTS(geometry, POINT(1 2)) AND x = 1`, ``},
		{`geometry IS NOT NULL AND name IS NULL`, ``},
	} {
		e, err := ParseText(c.filter)
		if err != nil {
			t.Fatalf("ParseText(%q): %v", c.filter, err)
		}
		_, err = Resolve(e, evalFields, nil)
		switch {
		case c.err == "" && err != nil:
			t.Errorf("Resolve(%q): %v", c.filter, err)
		case c.err != "" && (err == nil || !strings.Contains(err.Error(), c.err)):
			t.Errorf("Resolve(%q) = %v, want an error with %q", c.filter, err, c.err)
		}
	}
}
