package jsuri

import (
	"strings"
	"testing"
)

func TestEncodeURIComponentMatchesJavaScript(t *testing.T) {
	// encodeURIComponent("a b/c?d=é+*~'()!") in Node 20.
	if got := EncodeURIComponent("a b/c?d=é+*~'()!"); got != "a%20b%2Fc%3Fd%3D%C3%A9%2B*~'()!" {
		t.Errorf("EncodeURIComponent: %s", got)
	}
}

func TestDecodeURIComponentFailsLikeJavaScript(t *testing.T) {
	for in, want := range map[string]string{"a%20b": "a b", "%C3%A9": "é", "plain+": "plain+", "%2525": "%25"} {
		if got, ok := DecodeURIComponent(in); !ok || got != want {
			t.Errorf("DecodeURIComponent(%q) = %q, %v; want %q", in, got, ok, want)
		}
	}
	// decodeURIComponent throws URIError on each of these.
	for _, in := range []string{"%", "%2", "%zz", "%C3", "%FF", "a%2"} {
		if got, ok := DecodeURIComponent(in); ok {
			t.Errorf("DecodeURIComponent(%q) = %q, want failure", in, got)
		}
	}
}

func TestValidEscapes(t *testing.T) {
	for in, want := range map[string]bool{"": true, "a%2Fb": true, "%aF": true, "%": false, "%g0": false, "x%1": false} {
		if got := ValidEscapes(in); got != want {
			t.Errorf("ValidEscapes(%q) = %v", in, got)
		}
	}
}

func TestUnescapeLenientKeepsMalformedEscapes(t *testing.T) {
	if got := UnescapeLenient("%2F%zz%4"); got != "/%zz%4" {
		t.Errorf("UnescapeLenient = %q", got)
	}
}

func TestParseFormLikeURLSearchParams(t *testing.T) {
	got := ParseForm("a=b+c&&%zz=%FF&k&x=%2B")
	want := []Pair{{"a", "b c"}, {"%zz", "\uFFFD"}, {"k", ""}, {"x", "+"}}
	if len(got) != len(want) {
		t.Fatalf("ParseForm = %q", got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("pair %d = %q, want %q", i, got[i], want[i])
		}
	}
}

func TestEncodeFormAndSetParam(t *testing.T) {
	pairs := SetParam(ParseForm("a=b c&token=old&token=x"), "token", "t é")
	if got := EncodeForm(pairs); got != "a=b+c&token=t+%C3%A9" {
		t.Errorf("EncodeForm = %q", got)
	}
	if got := EncodeForm(SetParam(nil, "k", "*-._~")); got != "k=*-._%7E" {
		t.Errorf("EncodeForm = %q", got)
	}
	var b strings.Builder
	FormEscape(&b, "a b&")
	if b.String() != "a+b%26" {
		t.Errorf("FormEscape = %q", b.String())
	}
}
