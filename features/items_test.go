package features

import (
	"cmp"
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/csdi-hk/csdi/geo"
)

// pageAll follows next links from u to the end and returns the ids in the
// order served, failing unless numberMatched is the same on every page and
// equals the number of features.
func pageAll(t *testing.T, f *fixture, u string) []uint64 {
	t.Helper()
	var got []uint64
	matched := json.Number("")
	for pages := 0; u != ""; pages++ {
		if pages > 300 {
			t.Fatal("next links do not end")
		}
		fc := getOK(t, u, "application/geo+json").json
		if pages == 0 {
			matched = fc["numberMatched"].(json.Number)
		} else if fc["numberMatched"] != matched {
			t.Fatalf("%s: numberMatched %v, the first page said %v", u, fc["numberMatched"], matched)
		}
		got = append(got, featureIDs(t, fc)...)
		u = ""
		if hasLink(fc, "next") {
			u = linkByRel(t, fc, "next", f.url+"/ogc")["href"].(string)
		}
	}
	if n := json.Number(fmt.Sprint(len(got))); n != matched {
		t.Errorf("paging gave %s features, numberMatched %s", n, matched)
	}
	return got
}

// select returns the ids of the features of a layer that pass keep.
func selectIDs(feats []geo.Feature, keep func(p map[string]any) bool) []uint64 {
	var out []uint64
	for _, f := range feats {
		if keep(f.Properties) {
			out = append(out, f.ID)
		}
	}
	return out
}

func TestItemsDatetime(t *testing.T) {
	f := newFixture(t, Options{})
	at := func(s string) time.Time {
		v, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	// The toilets' time property is inspected: 07:08:09Z on 6 May 2024
	// plus j hours, j from 0 to 249.
	between := func(from, to string) func(p map[string]any) bool {
		return func(p map[string]any) bool {
			v := p["inspected"].(time.Time)
			return (from == "" || !v.Before(at(from))) && (to == "" || !v.After(at(to)))
		}
	}
	for _, tc := range []struct {
		datetime string
		keep     func(p map[string]any) bool
	}{
		{"2024-05-06T07:08:09Z", between("2024-05-06T07:08:09Z", "2024-05-06T07:08:09Z")},
		{"2024-05-06T08:08:09.000Z", between("2024-05-06T08:08:09Z", "2024-05-06T08:08:09Z")},
		{"2024-05-06t15:08:09+08:00", between("2024-05-06T07:08:09Z", "2024-05-06T07:08:09Z")},
		{"2024-05-07", between("2024-05-07T00:00:00Z", "2024-05-07T23:59:59Z")}, // the whole day
		{"2024-05-06T10:00:00Z/2024-05-06T13:08:09Z", between("2024-05-06T10:00:00Z", "2024-05-06T13:08:09Z")},
		{"../2024-05-06T09:08:09Z", between("", "2024-05-06T09:08:09Z")},
		{"/2024-05-06T09:08:09Z", between("", "2024-05-06T09:08:09Z")},
		{"2024-05-16T14:00:00Z/..", between("2024-05-16T14:00:00Z", "")},
		{"2024-05-16T14:00:00Z/", between("2024-05-16T14:00:00Z", "")},
		{"../..", between("", "")},
		// Older QGIS asks for everything this way.
		{"0000-01-01T00:00:00Z/9999-12-31T23:59:59Z", between("", "")},
		{"0000-01-01T00:00:00Z/2024-05-06T09:08:09Z", between("", "2024-05-06T09:08:09Z")},
		{"2024-05-16T14:00:00Z/9999-12-31T23:59:59Z", between("2024-05-16T14:00:00Z", "")},
		{"2024-05-06T07:08:09Z/P2D", between("2024-05-06T07:08:09Z", "2024-05-08T07:08:09Z")},
		{"2024-05-06T07:08:09Z/PT1H30M", between("2024-05-06T07:08:09Z", "2024-05-06T08:38:09Z")},
		{"P1D/2024-05-07T07:08:09Z", between("2024-05-06T07:08:09Z", "2024-05-07T07:08:09Z")},
		{"2024-05-06/2024-05-06", between("2024-05-06T00:00:00Z", "2024-05-06T23:59:59Z")},
		{"2023-01-01T00:00:00Z", between("2023-01-01T00:00:00Z", "2023-01-01T00:00:00Z")},
	} {
		t.Run(tc.datetime, func(t *testing.T) {
			want := selectIDs(f.want["toilets"], tc.keep)
			u := f.url + "/ogc/collections/toilets/items?limit=40&datetime=" + url.QueryEscape(tc.datetime)
			if got := pageAll(t, f, u); !slices.Equal(got, want) {
				t.Errorf("ids %v, want %v", got, want)
			}
		})
	}
	// A layer can name its time property: the toilets' opened, a date.
	info, feats := toilets()
	info.Tiles.TimeField = "opened"
	l, _ := newLayer(t, info, feats)
	f.layers["toilets"] = l
	want := selectIDs(f.want["toilets"], func(p map[string]any) bool {
		d := p["opened"].(time.Time)
		return !d.Before(at("2020-01-05T00:00:00Z")) && !d.After(at("2020-01-07T00:00:00Z"))
	})
	if got := pageAll(t, f, f.url+"/ogc/collections/toilets/items?datetime=2020-01-05T12:00:00Z/2020-01-07T00:00:00Z"); !slices.Equal(got, want) || len(want) != 3 {
		t.Errorf("datetime on opened: %v, want %v (3 days)", got, want)
	}

	// A layer without a time property: datetime restricts nothing.
	fc := getOK(t, f.url+"/ogc/collections/places/items?limit=100&datetime=2020-01-01T00:00:00Z", "application/geo+json").json
	if got := featureIDs(t, fc); !slices.Equal(got, ids(f.want["places"])) {
		t.Errorf("places with datetime: %v, want every feature", got)
	}
}

func TestItemsPropertyFilters(t *testing.T) {
	f := newFixture(t, Options{})
	inspected := time.Date(2024, 5, 6, 12, 8, 9, 0, time.UTC)
	for _, tc := range []struct {
		layer, query string
		keep         func(p map[string]any) bool
	}{
		{"toilets", "seats=3", func(p map[string]any) bool { return p["seats"] == int64(3) }},
		{"toilets", "seats=03", func(p map[string]any) bool { return p["seats"] == int64(3) }}, // compared as numbers
		{"toilets", "seats=-1", func(p map[string]any) bool { return false }},
		{"toilets", "open=true", func(p map[string]any) bool { return p["open"] == true }},
		{"toilets", "open=false", func(p map[string]any) bool { return p["open"] == false }},
		{"toilets", "rating=1.25", func(p map[string]any) bool { return p["rating"] == 1.25 }},
		{"toilets", "rating=1.250", func(p map[string]any) bool { return p["rating"] == 1.25 }},
		{"toilets", "rating=12", func(p map[string]any) bool { return p["rating"] == 12.0 }},
		{"toilets", "name_tc=" + url.QueryEscape("公廁 5 號"), func(p map[string]any) bool { return p["name_tc"] == "公廁 5 號" }},
		{"toilets", "name_tc=" + url.QueryEscape("公廁 5"), func(p map[string]any) bool { return false }},
		{"toilets", "name_en=" + url.QueryEscape(`Toilet 7, "Central" <&>`), func(p map[string]any) bool { return p["name_en"] == `Toilet 7, "Central" <&>` }},
		{"toilets", "opened=2020-01-06", func(p map[string]any) bool {
			return p["opened"].(time.Time).Equal(time.Date(2020, 1, 6, 0, 0, 0, 0, time.UTC))
		}},
		{"toilets", "inspected=2024-05-06T12:08:09Z", func(p map[string]any) bool { return p["inspected"].(time.Time).Equal(inspected) }},
		{"toilets", "inspected=" + url.QueryEscape("2024-05-06T20:08:09+08:00"), func(p map[string]any) bool { return p["inspected"].(time.Time).Equal(inspected) }},
		{"toilets", "seats=3&open=true", func(p map[string]any) bool { return p["seats"] == int64(3) && p["open"] == true }},
		{"toilets", "seats=2&bbox=113.8,22.2,114.0,22.35&datetime=2024-05-07T00:00:00Z/..", func(p map[string]any) bool {
			// bbox: the first 8 columns of the grid, rows 0 to 4.
			j := int(p["rating"].(float64) * 4)
			return p["seats"] == int64(2) && j%25 < 8 && j/25 <= 4 && !p["inspected"].(time.Time).Before(time.Date(2024, 5, 7, 0, 0, 0, 0, time.UTC))
		}},
		{"hk_areas", url.QueryEscape("名稱") + "=" + url.QueryEscape("區域 2"), func(p map[string]any) bool { return p["名稱"] == "區域 2" }},
	} {
		t.Run(tc.layer+"?"+tc.query, func(t *testing.T) {
			want := selectIDs(f.want[tc.layer], tc.keep)
			got := pageAll(t, f, f.url+"/ogc/collections/"+tc.layer+"/items?limit=9&"+tc.query)
			if !slices.Equal(got, want) {
				t.Errorf("ids %v, want %v", got, want)
			}
			if len(want) == 0 && !strings.Contains(tc.query, "-1") && !strings.Contains(tc.query, "5") {
				t.Error("the case selects nothing: it tests little")
			}
		})
	}
}

func TestItemsSortBy(t *testing.T) {
	f := newFixture(t, Options{})
	// sortBy sorts the toilets as sortby says, written here independently:
	// nulls after every value ascending, ties by ascending id.
	type key struct {
		name string
		desc bool
	}
	sortBy := func(keys ...key) []uint64 {
		feats := slices.Clone(f.want["toilets"])
		slices.SortStableFunc(feats, func(a, b geo.Feature) int {
			for _, k := range keys {
				va, vb := a.Properties[k.name], b.Properties[k.name]
				var c int
				switch {
				case va == nil && vb == nil:
				case va == nil:
					c = 1
				case vb == nil:
					c = -1
				default:
					switch x := va.(type) {
					case int64:
						c = cmp.Compare(x, vb.(int64))
					case float64:
						c = cmp.Compare(x, vb.(float64))
					case string:
						c = strings.Compare(x, vb.(string))
					case bool:
						c = cmp.Compare(fmt.Sprint(x), fmt.Sprint(vb)) // false < true
					case time.Time:
						c = x.Compare(vb.(time.Time))
					}
				}
				if k.desc {
					c = -c
				}
				if c != 0 {
					return c
				}
			}
			return cmp.Compare(a.ID, b.ID)
		})
		return ids(feats)
	}
	for _, tc := range []struct {
		sortby string
		want   []uint64
	}{
		{"seats", sortBy(key{"seats", false})},
		{"%2Bseats", sortBy(key{"seats", false})},
		{"+seats", sortBy(key{"seats", false})}, // an unescaped + arrives as a space
		{"-seats", sortBy(key{"seats", true})},
		{"-open,rating", sortBy(key{"open", true}, key{"rating", false})},
		{"name_tc", sortBy(key{"name_tc", false})},
		{"-inspected", sortBy(key{"inspected", true})},
		{"seats,-opened", sortBy(key{"seats", false}, key{"opened", true})},
	} {
		t.Run(tc.sortby, func(t *testing.T) {
			base := f.url + "/ogc/collections/toilets/items?limit=7&sortby=" + tc.sortby
			got := pageAll(t, f, base)
			if !slices.Equal(got, tc.want) {
				t.Fatalf("order %v..., want %v...", got[:10], tc.want[:10])
			}
			// Back from the last page with prev links.
			last := len(got) % 7
			if last == 0 {
				last = 7
			}
			fc := getOK(t, base+"&after="+fmt.Sprint(got[len(got)-last-1]), "application/geo+json").json
			var back []uint64
			for {
				back = append(featureIDs(t, fc), back...)
				if !hasLink(fc, "prev") {
					break
				}
				fc = getOK(t, linkByRel(t, fc, "prev", f.url+"/ogc")["href"].(string), "application/geo+json").json
			}
			if !slices.Equal(back, got) {
				t.Errorf("prev links gave %v..., want %v...", back[:10], got[:10])
			}
		})
	}
	// With a filter: the open toilets, best rated first.
	var want []uint64
	for _, id := range sortBy(key{"rating", true}) {
		ft := f.want["toilets"][slices.Index(ids(f.want["toilets"]), id)]
		if ft.Properties["open"] == true {
			want = append(want, id)
		}
	}
	if got := pageAll(t, f, f.url+"/ogc/collections/toilets/items?limit=10&open=true&sortby=-rating"); !slices.Equal(got, want) {
		t.Errorf("open=true&sortby=-rating: %v, want %v", got, want)
	}
}

// TestTemporalExtentTimeField checks that the temporal extent follows the
// layer's designated time property, a date here, whose last day counts
// whole; without a designation it is the first date or date-time field.
func TestTemporalExtentTimeField(t *testing.T) {
	for _, tc := range []struct {
		field string
		want  []any
	}{
		{"opened", []any{"2020-01-01T00:00:00Z", time.Date(2020, 1, 1+249, 23, 59, 59, 0, time.UTC).Format(time.RFC3339)}},
		{"inspected", []any{"2024-05-06T07:08:09Z", "2024-05-16T16:08:09Z"}},
		{"", []any{"2024-05-06T07:08:09Z", "2024-05-16T16:08:09Z"}},
	} {
		f := newFixture(t, Options{})
		info, feats := toilets()
		info.Tiles.TimeField = tc.field
		f.layers["toilets"], _ = newLayer(t, info, feats)
		c := getOK(t, f.url+"/ogc/collections/toilets", "application/json").json
		got := c["extent"].(map[string]any)["temporal"].(map[string]any)["interval"].([]any)[0]
		if !slices.Equal(got.([]any), tc.want) {
			t.Errorf("time field %q: interval %v, want %v", tc.field, got, tc.want)
		}
	}
}
