package jsonw

import (
	"bytes"
	"encoding/json"
	"math"
	"math/rand/v2"
	"strconv"
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
			if got, want := AppendString(nil, s, html), marshal(t, s, html); !bytes.Equal(got, want) {
				t.Errorf("AppendString(%q, html %v) = %s, want %s", s, html, got, want)
			}
		}
	}
}

func FuzzAppendString(f *testing.F) {
	for _, s := range cases {
		f.Add(s, true)
	}
	f.Fuzz(func(t *testing.T, s string, html bool) {
		if got, want := AppendString([]byte("x"), s, html), append([]byte("x"), marshal(t, s, html)...); !bytes.Equal(got, want) {
			t.Fatalf("AppendString(%q, html %v) = %s, want %s", s, html, got, want)
		}
	})
}

// jsonOf is encoding/json's text of v, the reference.
func jsonOf(t testing.TB, v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestAppendFloat(t *testing.T) {
	tests := []float64{0, math.Copysign(0, -1), 1, -1, 114.1694, 22.3193, 0.1 + 0.2, 1e-6, 9.99e-7, 1e-7, -1.5e-9,
		1e20, 1e21, 123456789e15, math.MaxFloat64, math.SmallestNonzeroFloat64, 5e-324, 1 / 3.0, 836000.123456789}
	rng := rand.New(rand.NewPCG(3, 4))
	for range 10000 {
		tests = append(tests, math.Float64frombits(rng.Uint64()), 113+rng.Float64()*2, rng.NormFloat64()*1e-8)
	}
	for _, f := range tests {
		got, ok := AppendFloat(nil, f)
		if math.IsNaN(f) || math.IsInf(f, 0) {
			if ok {
				t.Errorf("AppendFloat(%v) = %s, want a refusal", f, got)
			}
			continue
		}
		if want := string(jsonOf(t, f)); !ok || string(got) != want {
			t.Errorf("AppendFloat(%v) = %s, %v; encoding/json writes %s", f, got, ok, want)
		}
		if back, err := strconv.ParseFloat(string(got), 64); err != nil || back != f {
			t.Errorf("AppendFloat(%v) = %s reads back as %v (%v)", f, got, back, err)
		}
	}
}
