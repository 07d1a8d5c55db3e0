package cookie

import (
	"strings"
	"testing"
)

const testSecret = "test-secret-0123456789abcdefghijklmnopqrstuvwxyz"

// Wire spec §5.3's worked example, byte for byte.
func TestCookieSigning_WorkedExample(t *testing.T) {
	cc := NewCodec([]byte(testSecret), false)
	if got := cc.signature("OxTcgds9uvTu8FX3MF4fysVHpbej8ORd"); got != "pRbFY/eUTJFzOygiEjDrw58ELsFD/Ngcjc1Knn7iXFk=" {
		t.Fatalf("signature %s", got)
	}
	if got := cc.Sign("OxTcgds9uvTu8FX3MF4fysVHpbej8ORd"); got != "OxTcgds9uvTu8FX3MF4fysVHpbej8ORd.pRbFY%2FeUTJFzOygiEjDrw58ELsFD%2FNgcjc1Knn7iXFk%3D" {
		t.Fatalf("cookie value %s", got)
	}
	if got := cc.Sign("true"); got != "true.1Ue91JS%2BcwPpyhFiSTriJ9vlBOt6RG78rdQqJ%2BTjbEk%3D" {
		t.Fatalf("dont_remember value %s", got)
	}
	if got := cc.SetCookie(SessionToken, cc.Sign("OxTcgds9uvTu8FX3MF4fysVHpbej8ORd"), 604800); got !=
		"better-auth.session_token=OxTcgds9uvTu8FX3MF4fysVHpbej8ORd.pRbFY%2FeUTJFzOygiEjDrw58ELsFD%2FNgcjc1Knn7iXFk%3D; Max-Age=604800; Path=/; HttpOnly; SameSite=Lax" {
		t.Fatalf("set-cookie %s", got)
	}
	secure := NewCodec([]byte(testSecret), true)
	if got := secure.SetCookie(secure.Name(SessionToken), "", 0); got != "__Secure-better-auth.session_token=; Max-Age=0; Path=/; HttpOnly; Secure; SameSite=Lax" {
		t.Fatalf("secure expiry %s", got)
	}
	if got := cc.SetCookie(SessionToken, "v", 500*24*3600); !strings.Contains(got, "Max-Age=34560000;") {
		t.Fatalf("Max-Age not capped at 400 days: %s", got)
	}
}

func TestReadSignedCookie(t *testing.T) {
	cc := NewCodec([]byte(testSecret), false)
	const tok = "OxTcgds9uvTu8FX3MF4fysVHpbej8ORd"
	const enc = tok + ".pRbFY%2FeUTJFzOygiEjDrw58ELsFD%2FNgcjc1Knn7iXFk%3D"
	const raw = tok + ".pRbFY/eUTJFzOygiEjDrw58ELsFD/Ngcjc1Knn7iXFk="
	name := SessionToken
	for _, tc := range []struct {
		header string
		want   State
	}{
		{name + "=" + enc, Verified},
		{name + "=" + raw, Verified},
		{"a=b; " + name + "=" + enc + "; c=d", Verified},
		{name + `="` + enc + `"`, Verified},
		{name + "=" + enc + "; " + name + "=junk", Verified}, // first wins
		{name + "=junk; " + name + "=" + enc, Absent},
		{"x" + name + "=" + enc, Absent},
		{name + "=" + tok, Absent},                                                               // unsigned
		{name + "=." + "pRbFY%2FeUTJFzOygiEjDrw58ELsFD%2FNgcjc1Knn7iXFk%3D", Absent},             // dot at 0
		{name + "=" + tok + ".pRbFY", Absent},                                                    // short signature
		{name + "=" + tok + "x" + enc[len(tok):], BadSignature},                                  // other value
		{name + "=" + tok + ".pRbFY%2FeUTJFzOygiEjDrw58ELsFD%2FNgcjc1Knn7iXFl%3D", BadSignature}, // padding bits
		{name + "=" + tok + ".pRbFY-eUTJFzOygiEjDrw58ELsFD_Ngcjc1Knn7iXFk=", BadSignature},       // base64url
		{name + "=%E0%A4%A", Absent},
		{name + "=", Absent},
		{"", Absent},
		{";;;;=;", Absent},
	} {
		got, st := cc.ReadSigned(tc.header, name)
		if st != tc.want || (st == Verified && got != tok) {
			t.Errorf("%q: state %d value %q, want %d", tc.header, st, got, tc.want)
		}
	}
}

func TestCookieValue_ParsesLikeBetterCall(t *testing.T) {
	for _, tc := range []struct{ header, name, want string }{
		{"a=1; b=2", "b", "2"},
		{"a=1;b=2", "b", "2"},
		{" a = 1 ; b = x y ", "b", "x y"},
		{"a; b=2", "b", "2"},
		{"a=%41%42", "a", "AB"},
		{"a=%E0%A4%A", "a", "%E0%A4%A"},
		{`a="q"`, "a", "q"},
		{`a="`, "a", ""},
		{"a=1=2", "a", "1=2"},
	} {
		if got, ok := Value(tc.header, tc.name); !ok || got != tc.want {
			t.Errorf("%q[%s] = %q %v, want %q", tc.header, tc.name, got, ok, tc.want)
		}
	}
	if _, ok := Value("a=1", "b"); ok {
		t.Error("found a missing cookie")
	}
}

// The seeds in testdata/fuzz run with every `go test`; `go test -fuzz`
// explores from them.
func FuzzParseSessionCookie(f *testing.F) {
	cc := NewCodec([]byte(testSecret), false)
	for _, s := range []string{
		"better-auth.session_token=" + cc.Sign("OxTcgds9uvTu8FX3MF4fysVHpbej8ORd"),
		"better-auth.session_token=OxTcgds9uvTu8FX3MF4fysVHpbej8ORd.pRbFY/eUTJFzOygiEjDrw58ELsFD/Ngcjc1Knn7iXFk=",
		`better-auth.session_token="a.b"; x=1`, ";=;better-auth.session_token=%", "",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, header string) {
		v, st := cc.ReadSigned(header, SessionToken)
		if st != Verified {
			return
		}
		// Only a value this secret signed can verify.
		again, st2 := cc.ReadSigned(SessionToken+"="+cc.Sign(v), SessionToken)
		if st2 != Verified || again != v {
			t.Fatalf("verified %q does not round-trip", v)
		}
		other := NewCodec([]byte("another secret entirely"), false)
		if _, st := other.ReadSigned(header, SessionToken); st == Verified {
			t.Fatalf("%q verifies under two secrets", header)
		}
	})
}
