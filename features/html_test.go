package features

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geojson"
	"golang.org/x/net/html"
	"golang.org/x/net/websocket"

	"github.com/csdi-hk/csdi/catalog"
	"github.com/csdi-hk/csdi/geo"
	"github.com/csdi-hk/csdi/internal/testenv"
	webmap "github.com/csdi-hk/csdi/web-map"
)

// getHTML gets u with an Accept header and parses the page, failing
// unless it is 200 text/html that parses.
func getHTML(t *testing.T, u, accept string) (string, *html.Node) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	if res.StatusCode != 200 || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("GET %s (Accept %q): %d %s\n%s", u, accept, res.StatusCode, res.Header.Get("Content-Type"), body)
	}
	doc, err := html.Parse(bytes.NewReader(body))
	if err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
	return string(body), doc
}

// hrefs lists the href of every a element of a page.
func hrefs(doc *html.Node) []string {
	var out []string
	for n := range doc.Descendants() {
		if n.Type == html.ElementNode && n.Data == "a" {
			for _, a := range n.Attr {
				if a.Key == "href" {
					out = append(out, a.Val)
				}
			}
		}
	}
	return out
}

// text is the text of a page, outside scripts and styles.
func text(doc *html.Node) string {
	var b strings.Builder
	for n := range doc.Descendants() {
		if n.Type == html.TextNode && n.Parent != nil && n.Parent.Data != "script" && n.Parent.Data != "style" {
			b.WriteString(n.Data)
		}
	}
	return b.String()
}

func TestHTMLPages(t *testing.T) {
	f := newFixture(t, Options{})
	base := f.url + "/ogc"
	// The toilets with 3 seats, worked out from the data.
	three := selectIDs(f.want["toilets"], func(p map[string]any) bool { return p["seats"] == int64(3) })
	page := fmt.Sprintf("5 of %d features", len(three))
	next := fmt.Sprintf("%s/collections/toilets/items?after=%d&f=html&limit=5&seats=3", base, three[4])
	browser := "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
	for _, tc := range []struct {
		path  string
		texts []string // the page shows these
		links []string // and links these
	}{
		{"", []string{"Hong Kong Common Spatial Data Infrastructure"}, []string{base + "/collections", base + "/conformance", base + "/api"}},
		{"/conformance", []string{"http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/html"}, nil},
		{"/collections", []string{"Public toilets", "公廁", "食環署管理的公廁", "Nothing yet"},
			[]string{base + "/collections/toilets?f=html", base + "/collections/toilets/items?f=html"}},
		{"/collections/toilets", []string{"Public toilets", "公廁", "FEHD", "http://www.opengis.net/def/crs/EPSG/0/2326", "2024-05-06T07:08:09Z"},
			[]string{base + "/collections/toilets/items?f=html", base + "/collections/toilets/queryables"}},
		{"/collections/toilets/items?limit=5&seats=3", []string{"Public toilets", "公廁", page, `Toilet 3, "Central" <&>`, "2020-01-04"},
			[]string{base + "/collections/toilets/items/9?f=html", next}},
		{"/collections/toilets/items/9", []string{"Public toilets", "公廁", `Toilet 3, "Central" <&>`, "2024-05-06T10:08:09Z"},
			[]string{base + "/collections/toilets/items?f=html"}},
		{"/api", []string{"/collections/toilets/items", "limit", "bbox-crs", "datetime", "seats"},
			[]string{base + "/collections/toilets/items?f=html"}},
	} {
		for _, how := range []string{"f", "accept"} {
			t.Run(how+tc.path, func(t *testing.T) {
				u, accept := base+tc.path, browser
				if how == "f" {
					u, accept = u+map[bool]string{true: "&", false: "?"}[strings.Contains(u, "?")]+"f=html", ""
				} else {
					// Links keep the query as given: no f=html.
					for i, l := range tc.links {
						tc.links[i] = strings.Replace(l, "&f=html", "", 1)
					}
				}
				body, doc := getHTML(t, u, accept)
				txt := text(doc)
				for _, want := range tc.texts {
					if !strings.Contains(txt, want) {
						t.Errorf("the page does not show %q", want)
					}
				}
				links := hrefs(doc)
				for _, want := range tc.links {
					if !slices.Contains(links, want) {
						t.Errorf("the page does not link %s; it links %v", want, links)
					}
				}
				// The value with quotes and <&> is escaped, never raw.
				if strings.Contains(body, `"Central" <&>`) {
					t.Error("a property value is not escaped")
				}
			})
		}
	}
}

// TestHTMLItemsMap checks the map data of an items page: the page's
// features, in WGS84 whatever crs says, and their bounds.
func TestHTMLItemsMap(t *testing.T) {
	f := newFixture(t, Options{})
	body, _ := getHTML(t, f.url+"/ogc/collections/hk_areas/items?f=html&crs=http://www.opengis.net/def/crs/EPSG/0/2326", "")
	m := regexp.MustCompile(`const data = (.*);\n`).FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no map data in the page:\n%s", body)
	}
	fc, err := geojson.UnmarshalFeatureCollection([]byte(m[1]))
	if err != nil {
		t.Fatalf("map data: %v\n%s", err, m[1])
	}
	want := f.want["hk_areas"]
	if len(fc.Features) != len(want) {
		t.Fatalf("map has %d features, want %d", len(fc.Features), len(want))
	}
	for i, w := range want {
		if id, _ := fc.Features[i].ID.(float64); uint64(id) != w.ID || !orb.Equal(fc.Features[i].Geometry, w.Geometry) {
			t.Errorf("map feature %d: %v %v, want %d %v", i, fc.Features[i].ID, fc.Features[i].Geometry, w.ID, w.Geometry)
		}
	}
	b := regexp.MustCompile(`const bounds = (.*);\n`).FindStringSubmatch(body)
	var bounds [][2]float64
	if b == nil || json.Unmarshal([]byte(b[1]), &bounds) != nil || len(bounds) != 2 || bounds[0][0] > 114 || bounds[1][0] < 114 {
		t.Errorf("map bounds %v", b)
	}
}

// TestHTMLEscapes serves a layer whose metadata and values try to break out
// of the page and its script: they must come out as text.
func TestHTMLEscapes(t *testing.T) {
	evil := `</script><script>alert("x")</script><b onmouseover=alert(1)>`
	l, _ := newLayer(t, catalog.LayerInfo{ID: "evil", Title: evil, TitleZH: evil, Description: evil}, []geo.Feature{
		{ID: 1, Geometry: orb.Point{114.1, 22.3}, Properties: map[string]any{evil: evil}},
	})
	e := echo.New()
	NewHandler(testLayers{"evil": l}, Options{Title: evil, Log: slog.New(slog.DiscardHandler)}).Register(e)
	srv := httptest.NewServer(e)
	t.Cleanup(srv.Close)
	for _, path := range []string{"", "/collections", "/collections/evil", "/collections/evil/items", "/collections/evil/items/1", "/api"} {
		body, doc := getHTML(t, srv.URL+"/ogc"+path+"?f=html", "")
		if strings.Contains(body, "<script>alert") || strings.Contains(body, "<b onmouseover") {
			t.Errorf("%s: markup from the data is in the page", path)
		}
		if path != "/api" && !strings.Contains(text(doc), evil) {
			t.Errorf("%s: the data is not shown as text", path)
		}
		scripts := 0
		for n := range doc.Descendants() {
			if n.Type == html.ElementNode && n.Data == "script" {
				scripts++
			}
		}
		if want := map[bool]int{true: 2, false: 0}[strings.Contains(path, "items")]; scripts != want {
			t.Errorf("%s: %d script elements, want %d", path, scripts, want)
		}
	}
}

// TestHTMLMapInBrowser loads pages in headless Chromium, with MapLibre
// served as the web-map package serves it, and checks that each map draws
// every feature of its page.
func TestHTMLMapInBrowser(t *testing.T) {
	if _, err := fs.Stat(webmap.FS(), "vendor/maplibre-gl.js"); err != nil {
		testenv.Missing(t, "MapLibre is not in web-map/static/vendor (make web): %v", err)
	}
	f := newFixture(t, Options{})
	e := echo.New()
	NewHandler(f.layers, Options{Log: slog.New(slog.DiscardHandler)}).Register(e)
	e.GET("/*", echo.WrapHandler(webmap.Handler()))
	srv := httptest.NewServer(e)
	t.Cleanup(srv.Close)
	b := startBrowser(t)
	for _, tc := range []struct {
		path string
		want int
	}{
		{"/ogc/collections/hk_areas/items?f=html", len(f.want["hk_areas"])},
		{"/ogc/collections/toilets/items?f=html&limit=25", 25},
		{"/ogc/collections/hk_areas/items/1?f=html", 1},
	} {
		// The page writes data-drawn on the map once it is idle.
		got := b.eval(t, srv.URL+tc.path, `new Promise((resolve) => {
			const check = () => {
				const m = document.getElementById("map");
				if (m && m.dataset.drawn !== undefined) resolve(m.dataset.drawn); else setTimeout(check, 50);
			};
			check();
		})`)
		if got != fmt.Sprint(tc.want) {
			t.Errorf("%s: the map draws %q features, want %d", tc.path, got, tc.want)
		}
		t.Logf("%s: the map draws %s features", tc.path, got)
	}
}

// browser is headless Chromium driven through the DevTools protocol.
type browser struct {
	ws   *websocket.Conn
	next int
}

func startBrowser(t *testing.T) *browser {
	t.Helper()
	bin := testenv.Command(t, "chromium")
	ctx, cancel := context.WithCancel(context.Background())
	// Not t.TempDir: Chromium's helper processes may still write there
	// after it exits, which fails that cleanup.
	dir, err := os.MkdirTemp("", "csdi-chromium-")
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.CommandContext(ctx, bin, "--headless", "--no-sandbox", "--use-angle=swiftshader", "--enable-unsafe-swiftshader",
		"--remote-debugging-port=0", "--remote-allow-origins=*", "--user-data-dir="+dir, "--no-first-run", "about:blank")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	t.Cleanup(func() {
		cancel()
		cmd.Wait()
		time.Sleep(100 * time.Millisecond)
		os.RemoveAll(dir)
	})
	// Chromium says where its DevTools endpoint is on stderr.
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			if _, u, ok := strings.Cut(sc.Text(), "DevTools listening on "); ok {
				found <- u
			}
		}
	}()
	var u string
	select {
	case u = <-found:
	case <-time.After(30 * time.Second):
		t.Fatal("chromium did not open its DevTools endpoint within 30s")
	}
	ws, err := websocket.Dial(u, "", "http://127.0.0.1/")
	if err != nil {
		t.Fatalf("connect to chromium: %v", err)
	}
	t.Cleanup(func() { ws.Close() })
	return &browser{ws: ws}
}

// call sends a DevTools command and returns its result.
func (b *browser) call(t *testing.T, session, method string, params any) map[string]any {
	t.Helper()
	res, err := b.try(t, session, method, params)
	if err != nil {
		t.Fatalf("%s: %v", method, err)
	}
	return res
}

// try is call that returns the protocol's errors.
func (b *browser) try(t *testing.T, session, method string, params any) (map[string]any, error) {
	t.Helper()
	b.next++
	msg := map[string]any{"id": b.next, "method": method, "params": params}
	if session != "" {
		msg["sessionId"] = session
	}
	if err := websocket.JSON.Send(b.ws, msg); err != nil {
		t.Fatalf("%s: %v", method, err)
	}
	b.ws.SetReadDeadline(time.Now().Add(time.Minute))
	for {
		var res struct {
			ID     int
			Result map[string]any
			Error  map[string]any
		}
		if err := websocket.JSON.Receive(b.ws, &res); err != nil {
			t.Fatalf("%s: %v", method, err)
		}
		if res.ID != b.next {
			continue // an event, or another command's answer
		}
		if res.Error != nil {
			return nil, fmt.Errorf("%v", res.Error)
		}
		return res.Result, nil
	}
}

// eval opens u in a new tab and returns the value of a JavaScript
// expression there, awaited if it is a promise.
func (b *browser) eval(t *testing.T, u, expr string) string {
	t.Helper()
	target := b.call(t, "", "Target.createTarget", map[string]any{"url": u})["targetId"]
	session := b.call(t, "", "Target.attachToTarget", map[string]any{"targetId": target, "flatten": true})["sessionId"].(string)
	defer b.call(t, "", "Target.closeTarget", map[string]any{"targetId": target})
	// The tab starts on about:blank and navigates; evaluating during the
	// navigation fails, and is tried again.
	deadline := time.Now().Add(time.Minute)
	for {
		res, err := b.try(t, session, "Runtime.evaluate", map[string]any{"expression": "location.href === " + strconv.Quote(u) + " ? (" + expr + ") : null",
			"awaitPromise": true, "returnByValue": true, "timeout": 30000})
		if ex, ok := res["exceptionDetails"]; ok {
			t.Fatalf("%s: %v", u, ex)
		}
		if err == nil {
			if v := res["result"].(map[string]any)["value"]; v != nil {
				return fmt.Sprint(v)
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: no answer within a minute (last error %v)", u, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
