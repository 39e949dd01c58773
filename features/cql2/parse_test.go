package cql2

import (
	"errors"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

// Every construct in both encodings, which must give the same tree.
var encodings = []struct{ text, json string }{
	{`a = 1`, `{"op":"=","args":[{"property":"a"},1]}`},
	{`a <> 1.5`, `{"op":"<>","args":[{"property":"a"},1.5]}`},
	{`a < -2`, `{"op":"<","args":[{"property":"a"},-2]}`},
	{`a <= 1e21`, `{"op":"<=","args":[{"property":"a"},1e21]}`},
	{`a > 'x'`, `{"op":">","args":[{"property":"a"},"x"]}`},
	{`a >= b`, `{"op":">=","args":[{"property":"a"},{"property":"b"}]}`},
	{`flag = TRUE`, `{"op":"=","args":[{"property":"flag"},true]}`},
	{`flag <> false`, `{"op":"<>","args":[{"property":"flag"},false]}`},
	{`TRUE`, `true`},
	{`'it''s' = name`, `{"op":"=","args":["it's",{"property":"name"}]}`},
	{`a = 1 AND b = 2 and c = 3`, `{"op":"and","args":[{"op":"=","args":[{"property":"a"},1]},{"op":"=","args":[{"property":"b"},2]},{"op":"=","args":[{"property":"c"},3]}]}`},
	{`a = 1 OR b = 2 AND c = 3`, `{"op":"or","args":[{"op":"=","args":[{"property":"a"},1]},{"op":"and","args":[{"op":"=","args":[{"property":"b"},2]},{"op":"=","args":[{"property":"c"},3]}]}]}`},
	{`(a = 1 OR b = 2) AND NOT c = 3`, `{"op":"and","args":[{"op":"or","args":[{"op":"=","args":[{"property":"a"},1]},{"op":"=","args":[{"property":"b"},2]}]},{"op":"not","args":[{"op":"=","args":[{"property":"c"},3]}]}]}`},
	{`not not a = 1`, `{"op":"not","args":[{"op":"not","args":[{"op":"=","args":[{"property":"a"},1]}]}]}`},
	{`a IS NULL`, `{"op":"isNull","args":[{"property":"a"}]}`},
	{`a is not null`, `{"op":"not","args":[{"op":"isNull","args":[{"property":"a"}]}]}`},
	{`name LIKE 'ab%'`, `{"op":"like","args":[{"property":"name"},"ab%"]}`},
	{`name NOT LIKE '100\%'`, `{"op":"not","args":[{"op":"like","args":[{"property":"name"},"100\\%"]}]}`},
	{`name LIKE 'a\_b'`, `{"op":"like","args":[{"property":"name"},"a\\_b"]}`},
	{`CASEI(name) LIKE casei('ab%')`, `{"op":"like","args":[{"op":"casei","args":[{"property":"name"}]},{"op":"casei","args":["ab%"]}]}`},
	{`ACCENTI(name) = ACCENTI('café')`, `{"op":"=","args":[{"op":"accenti","args":[{"property":"name"}]},{"op":"accenti","args":["café"]}]}`},
	{`n BETWEEN 1 AND 5`, `{"op":"between","args":[{"property":"n"},1,5]}`},
	{`n NOT BETWEEN 1 AND 5 AND m = 2`, `{"op":"and","args":[{"op":"not","args":[{"op":"between","args":[{"property":"n"},1,5]}]},{"op":"=","args":[{"property":"m"},2]}]}`},
	{`n IN (1, 2, 3)`, `{"op":"in","args":[{"property":"n"},[1,2,3]]}`},
	{`name NOT IN ('a','b')`, `{"op":"not","args":[{"op":"in","args":[{"property":"name"},["a","b"]]}]}`},
	{`名稱 = '中環'`, `{"op":"=","args":[{"property":"名稱"},"中環"]}`},
	{`"地區 名稱" = '灣仔'`, `{"op":"=","args":[{"property":"地區 名稱"},"灣仔"]}`},
	{`"a""b" = 1 AND "and" = 2`, `{"op":"and","args":[{"op":"=","args":[{"property":"a\"b"},1]},{"op":"=","args":[{"property":"and"},2]}]}`},
	{`ns:name.x = 1`, `{"op":"=","args":[{"property":"ns:name.x"},1]}`},
	{`d = DATE('2020-01-31')`, `{"op":"=","args":[{"property":"d"},{"date":"2020-01-31"}]}`},
	{`ts > TIMESTAMP('2020-01-31T08:00:00+08:00')`, `{"op":">","args":[{"property":"ts"},{"timestamp":"2020-01-31T00:00:00Z"}]}`},
	{`S_INTERSECTS(geometry, POINT(114.1 22.3))`, `{"op":"s_intersects","args":[{"property":"geometry"},{"type":"Point","coordinates":[114.1,22.3]}]}`},
	{`S_CONTAINS(geometry, POINT Z(1 2 3))`, `{"op":"s_contains","args":[{"property":"geometry"},{"type":"Point","coordinates":[1,2,3]}]}`},
	{`s_within(geometry, LINESTRING(0 0, 1 1, 2 0))`, `{"op":"s_within","args":[{"property":"geometry"},{"type":"LineString","coordinates":[[0,0],[1,1],[2,0]]}]}`},
	{`S_DISJOINT(geometry, POLYGON((0 0,4 0,4 4,0 4,0 0),(1 1,1 2,2 2,1 1)))`, `{"op":"s_disjoint","args":[{"property":"geometry"},{"type":"Polygon","coordinates":[[[0,0],[4,0],[4,4],[0,4],[0,0]],[[1,1],[1,2],[2,2],[1,1]]]}]}`},
	{`S_EQUALS(MULTIPOINT((1 2),(3 4)), geometry)`, `{"op":"s_equals","args":[{"type":"MultiPoint","coordinates":[[1,2],[3,4]]},{"property":"geometry"}]}`},
	{`S_EQUALS(MULTIPOINT(1 2, 3 4), geometry)`, `{"op":"s_equals","args":[{"type":"MultiPoint","coordinates":[[1,2],[3,4]]},{"property":"geometry"}]}`},
	{`S_TOUCHES(geometry, MULTILINESTRING((0 0,1 1),(2 2,3 3)))`, `{"op":"s_touches","args":[{"property":"geometry"},{"type":"MultiLineString","coordinates":[[[0,0],[1,1]],[[2,2],[3,3]]]}]}`},
	{`S_CROSSES(geometry, MULTIPOLYGON(((0 0,1 0,1 1,0 0)),((5 5,6 5,6 6,5 5))))`, `{"op":"s_crosses","args":[{"property":"geometry"},{"type":"MultiPolygon","coordinates":[[[[0,0],[1,0],[1,1],[0,0]]],[[[5,5],[6,5],[6,6],[5,5]]]]}]}`},
	{`S_OVERLAPS(geometry, GEOMETRYCOLLECTION(POINT(1 2), LINESTRING(0 0,1 1)))`, `{"op":"s_overlaps","args":[{"property":"geometry"},{"type":"GeometryCollection","geometries":[{"type":"Point","coordinates":[1,2]},{"type":"LineString","coordinates":[[0,0],[1,1]]}]}]}`},
	{`S_INTERSECTS(geometry, BBOX(113.8, 22.1, 114.5, 22.6))`, `{"op":"s_intersects","args":[{"property":"geometry"},{"bbox":[113.8,22.1,114.5,22.6]}]}`},
	{`S_INTERSECTS(geometry, BBOX(170, -10, 0, -170, 10, 20))`, `{"op":"s_intersects","args":[{"property":"geometry"},{"bbox":[170,-10,0,-170,10,20]}]}`},
	{`T_AFTER(d, DATE('2020-01-01'))`, `{"op":"t_after","args":[{"property":"d"},{"date":"2020-01-01"}]}`},
	{`T_BEFORE(ts, TIMESTAMP('2020-01-01T00:00:00Z'))`, `{"op":"t_before","args":[{"property":"ts"},{"timestamp":"2020-01-01T00:00:00Z"}]}`},
	{`T_DURING(d, INTERVAL('2020-01-01', '..'))`, `{"op":"t_during","args":[{"property":"d"},{"interval":["2020-01-01",".."]}]}`},
	{`T_EQUALS(INTERVAL(d, ts), INTERVAL('..', '2020-01-01T10:00:00.5Z'))`, `{"op":"t_equals","args":[{"interval":[{"property":"d"},{"property":"ts"}]},{"interval":["..","2020-01-01T10:00:00.5Z"]}]}`},
	{`T_INTERSECTS(d, INTERVAL(DATE('2020-01-01'), TIMESTAMP('2020-02-01T00:00:00Z')))`, `{"op":"t_intersects","args":[{"property":"d"},{"interval":["2020-01-01","2020-02-01T00:00:00Z"]}]}`},
	{`T_CONTAINS(d, ts) OR T_DISJOINT(d, ts) OR T_FINISHEDBY(d, ts) OR T_FINISHES(d, ts)`, `{"op":"or","args":[{"op":"t_contains","args":[{"property":"d"},{"property":"ts"}]},{"op":"t_disjoint","args":[{"property":"d"},{"property":"ts"}]},{"op":"t_finishedBy","args":[{"property":"d"},{"property":"ts"}]},{"op":"t_finishes","args":[{"property":"d"},{"property":"ts"}]}]}`},
	{`T_MEETS(d, ts) OR T_METBY(d, ts) OR T_OVERLAPPEDBY(d, ts) OR T_OVERLAPS(d, ts) OR T_STARTEDBY(d, ts) OR T_STARTS(d, ts)`, `{"op":"or","args":[{"op":"t_meets","args":[{"property":"d"},{"property":"ts"}]},{"op":"t_metBy","args":[{"property":"d"},{"property":"ts"}]},{"op":"t_overlappedBy","args":[{"property":"d"},{"property":"ts"}]},{"op":"t_overlaps","args":[{"property":"d"},{"property":"ts"}]},{"op":"t_startedBy","args":[{"property":"d"},{"property":"ts"}]},{"op":"t_starts","args":[{"property":"d"},{"property":"ts"}]}]}`},
}

func TestEncodingsAgree(t *testing.T) {
	for _, c := range encodings {
		fromText, err := ParseText(c.text)
		if err != nil {
			t.Errorf("ParseText(%q): %v", c.text, err)
			continue
		}
		fromJSON, err := ParseJSON([]byte(c.json))
		if err != nil {
			t.Errorf("ParseJSON(%s): %v", c.json, err)
			continue
		}
		if !reflect.DeepEqual(fromText, fromJSON) {
			t.Errorf("%q and its JSON parse differently:\ntext: %#v\njson: %#v", c.text, fromText, fromJSON)
		}
		again, err := ParseText(fromText.String())
		if err != nil || !reflect.DeepEqual(again, fromText) {
			t.Errorf("%q printed as %q does not parse back to it: %v", c.text, fromText, err)
		}
	}
}

// Trees built by hand pin down the structure both parsers must give.
func TestParseTextTree(t *testing.T) {
	for _, c := range []struct {
		in   string
		want Expr
	}{
		{`a = 1 OR b = 2 AND c = 3`, Logical{Op: "or", Args: []Expr{
			Compare{Op: "=", L: Property{Name: "a"}, R: Number(1)},
			Logical{Op: "and", Args: []Expr{Compare{Op: "=", L: Property{Name: "b"}, R: Number(2)}, Compare{Op: "=", L: Property{Name: "c"}, R: Number(3)}}},
		}}},
		{`NOT a IS NULL`, Not{IsNull{Property{Name: "a"}}}},
		{`x NOT LIKE 'a\_b'`, Not{Like{X: Property{Name: "x"}, Pattern: Str(`a\_b`)}}},
		{`名稱 IN ('中環', '灣仔')`, In{X: Property{Name: "名稱"}, List: []Expr{Str("中環"), Str("灣仔")}}},
		{`n BETWEEN -1.5 AND 2e3`, Between{X: Property{Name: "n"}, Lo: Number(-1.5), Hi: Number(2000)}},
		{`"IS" = 'it''s'`, Compare{Op: "=", L: Property{Name: "IS"}, R: Str("it's")}},
	} {
		got, err := ParseText(c.in)
		if err != nil {
			t.Errorf("ParseText(%q): %v", c.in, err)
			continue
		}
		if !reflect.DeepEqual(got, c.want) {
			t.Errorf("ParseText(%q) = %#v, want %#v", c.in, got, c.want)
		}
	}
}

func TestParseTextErrors(t *testing.T) {
	for _, c := range []struct {
		in  string
		pos int
		msg string
	}{
		{``, 0, "empty"},
		{`   `, 3, "empty"},
		{`a =`, 3, "expected a value"},
		{`a = 'x`, 4, "unterminated string"},
		{`"a = 1`, 0, "unterminated quoted"},
		{`"" = 1`, 0, "empty quoted"},
		{`a == 1`, 3, "expected a value"},
		{`a != 1`, 2, "<>"},
		{`a = 1 AND`, 9, "expected a value"},
		{`a = 1 b = 2`, 6, "expected AND, OR"},
		{`a`, 1, "expected a comparison operator"},
		{`(a = 1`, 6, "expected ')'"},
		{`foo(1) = 2`, 0, "unknown function foo"},
		{`AND = 1`, 0, "unexpected keyword"},
		{`a LIKE 5`, 7, "expected a pattern"},
		{`a NOT = 1`, 6, "LIKE, BETWEEN or IN"},
		{`A_CONTAINS(tags, ('a')) AND a = 1`, 0, "array functions"},
		{`a BETWEEN 1 2`, 12, "expected AND"},
		{`a IN ()`, 6, "expected a value"},
		{`a IS NOT 1`, 9, "expected NULL"},
		{`d = DATE('2020-13-01')`, 9, "not a date"},
		{`d = DATE(2020)`, 9, "expected a quoted date"},
		{`ts = TIMESTAMP('yesterday')`, 15, "not an RFC 3339"},
		{`a = 1e999`, 4, "out of range"},
		{`a = 1 # 2`, 6, "unexpected character"},
		{`S_INTERSECTS(geometry, POINT(1))`, 30, "expected a number"},
		{`S_INTERSECTS(geometry, 5)`, 23, "expected a geometry"},
		{`S_INTERSECTS(geometry POINT(1 2))`, 22, "expected ','"},
		{`S_WITHIN(geometry, LINESTRING(1 2))`, 29, "at least 2 points"},
		{`S_WITHIN(geometry, POLYGON((0 0,1 0,1 1,0 1)))`, 27, "last equal to the first"},
		{`S_WITHIN(geometry, POINT EMPTY)`, 25, "empty geometries"},
		{`S_WITHIN(geometry, BBOX(1,2,3))`, 19, "4 or 6 numbers"},
		{`S_WITHIN(geometry, GEOMETRYCOLLECTION(5))`, 38, "expected a WKT geometry"},
		{`T_BEFORE(d, 5)`, 12, "expected a date, timestamp or interval"},
		{`T_DURING(d, INTERVAL('2021-01-01', '2020-01-01'))`, 12, "starts after it ends"},
		{`T_DURING(d, INTERVAL('2021-01-01', 5))`, 35, "expected a date, a timestamp, '..'"},
		{"name = '\xdd'", 8, "not valid UTF-8"},
	} {
		_, err := ParseText(c.in)
		var se *SyntaxError
		if !errors.As(err, &se) {
			t.Errorf("ParseText(%q) = %v, want a *SyntaxError", c.in, err)
			continue
		}
		if se.Pos != c.pos || !strings.Contains(se.Msg, c.msg) {
			t.Errorf("ParseText(%q): %v, want position %d: ...%s...", c.in, err, c.pos, c.msg)
		}
		if want := "position " + strconv.Itoa(c.pos) + ": "; !strings.HasPrefix(err.Error(), want) {
			t.Errorf("ParseText(%q): error %q does not start with %q", c.in, err, want)
		}
	}
}

func TestParseJSONErrors(t *testing.T) {
	for _, c := range []struct{ in, msg string }{
		{``, "EOF"},
		{`{"op":"=","args":[{"property":"a"},1]} x`, "after the filter"},
		{`5`, "expected a predicate"},
		{`{"op":"==","args":[1,2]}`, `unknown predicate "=="`},
		{`{"op":"=","args":[1]}`, "takes 2 arguments"},
		{`{"op":"and","args":[true]}`, "at least 2"},
		{`{"op":"=","args":[{"property":"a"},null]}`, "$.args[1]: null is not a value"},
		{`{"op":"=","args":[{"property":""},1]}`, "empty property name"},
		{`{"op":"in","args":[{"property":"a"},[]]}`, "non-empty array"},
		{`{"op":"like","args":[{"property":"a"},5]}`, "pattern"},
		{`{"op":"s_intersects","args":[{"property":"geometry"},5]}`, "$.args[1]: expected a geometry"},
		{`{"op":"s_intersects","args":[{"property":"geometry"},{"type":"LineString","coordinates":[[1,2]]}]}`, "at least 2 points"},
		{`{"op":"s_intersects","args":[{"property":"geometry"},{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,1]]]}]}`, "last equal"},
		{`{"op":"s_intersects","args":[{"property":"geometry"},{"bbox":[1,2,3]}]}`, "4 or 6 numbers"},
		{`{"op":"t_before","args":[{"property":"d"},{"date":"2020-02-30"}]}`, "not a date"},
		{`{"op":"t_before","args":[{"property":"d"},{"interval":["2021-01-01","2020-01-01"]}]}`, "starts after it ends"},
		{`{"op":"t_before","args":[{"property":"d"},5]}`, "expected a date"},
		{`{"op":"=","args":[{"op":"upper","args":[{"property":"a"}]},"A"]}`, `"upper" is not a value or a supported function`},
		{`{"op":"=","args":[{"property":"a"},1e999]}`, "out of range"},
	} {
		_, err := ParseJSON([]byte(c.in))
		if err == nil || !strings.Contains(err.Error(), c.msg) {
			t.Errorf("ParseJSON(%s) = %v, want an error with %q", c.in, err, c.msg)
		}
	}
}
