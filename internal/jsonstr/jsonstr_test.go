package jsonstr

import (
	"bytes"
	"encoding/json"
	"testing"
)

// marshal is the reference: encoding/json, with or without HTML escaping.
func marshal(t testing.TB, s string, html bool) []byte {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(html)
	if err := enc.Encode(s); err != nil {
		t.Fatal(err)
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
}

var cases = []string{
	"", "plain", "中環 Central", `quote " and \ backslash`, "tab\tnew\nline\rcr\bbs\fff",
	"\x00\x01\x1f\x7f", "<b>&amp;</b>", "line\u2028para\u2029", "bad \xff utf8 \xe4\xb8", "emoji 🗺️",
}

func TestAppendMatchesEncodingJSON(t *testing.T) {
	all := cases
	for c := range 0x80 { // every ASCII character between two letters
		all = append(all, "x"+string(rune(c))+"y")
	}
	for _, s := range all {
		for _, html := range []bool{false, true} {
			if got, want := Append(nil, s, html), marshal(t, s, html); !bytes.Equal(got, want) {
				t.Errorf("Append(%q, html %v) = %s, want %s", s, html, got, want)
			}
		}
	}
}

func FuzzAppend(f *testing.F) {
	for _, s := range cases {
		f.Add(s, true)
	}
	f.Fuzz(func(t *testing.T, s string, html bool) {
		if got, want := Append([]byte("x"), s, html), append([]byte("x"), marshal(t, s, html)...); !bytes.Equal(got, want) {
			t.Fatalf("Append(%q, html %v) = %s, want %s", s, html, got, want)
		}
	})
}
