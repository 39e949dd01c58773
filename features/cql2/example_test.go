package cql2_test

import (
	"fmt"

	"github.com/paulmach/orb"

	"github.com/csdi-hk/csdi/features/cql2"
	"github.com/csdi-hk/csdi/geo"
)

func Example() {
	fields := []geo.Field{{Name: "名稱", Type: geo.String}, {Name: "座位", Type: geo.Integer}}
	e, err := cql2.ParseText(`名稱 LIKE '%公廁' AND 座位 >= 2 AND S_INTERSECTS(geometry, BBOX(114.1, 22.2, 114.2, 22.3))`)
	if err != nil {
		fmt.Println(err)
		return
	}
	if e, err = cql2.Resolve(e, fields, nil); err != nil {
		fmt.Println(err)
		return
	}
	for _, f := range []geo.Feature{
		{ID: 1, Geometry: orb.Point{114.15, 22.28}, Properties: map[string]any{"名稱": "中環公廁", "座位": int64(4)}},
		{ID: 2, Geometry: orb.Point{114.15, 22.28}, Properties: map[string]any{"名稱": "中環公廁", "座位": nil}},
		{ID: 3, Geometry: orb.Point{114.25, 22.28}, Properties: map[string]any{"名稱": "柴灣公廁", "座位": int64(6)}},
	} {
		fmt.Println(f.ID, cql2.Eval(e, &f))
	}
	// Positions are byte offsets: 座位 takes 6 bytes.
	_, err = cql2.ParseText(`座位 >= 2 AND`)
	fmt.Println(err)
	// Output:
	// 1 true
	// 2 false
	// 3 false
	// position 15: expected a value or property name, found the end of the filter
}
