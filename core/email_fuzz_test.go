package core_test

import (
	"strings"
	"testing"

	"github.com/authd/authd/core"
)

// FuzzNormalizeEmail is security battery 5's email-validator target: any
// address NormalizeEmail accepts is lower-case printable ASCII without
// spaces or line breaks, has exactly one "@", fits RFC 5321, and is a fixed
// point, so nothing accepted can inject a mail header or hide a second
// identity. The seeds run with every `go test`; run the fuzzer itself with
// go test -run '^$' -fuzz FuzzNormalizeEmail ./core/
func FuzzNormalizeEmail(f *testing.F) {
	for _, s := range []string{
		"User@Example.COM", "a@b.co", "a+tag@sub.example.org", "o'neil@x.test",
		"a@b.c\r\nBcc: x@y.test", "a@b.co\nBcc: x@y.co", "victim\uff20example.com", "victim@example\u3002com",
		"a@b@c.co", "\"a b\"@x.test", " a@b.co", "a@b.co ", "a@b.co\x00", "a..b@x.test", ".a@x.test",
		strings.Repeat("a", 300) + "@x.test", "a@" + strings.Repeat("b", 250) + ".co", "ǅ@x.test", "K@x.test",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := core.NormalizeEmail(s)
		if err != nil {
			if n != "" {
				t.Fatalf("rejected %q but returned %q", s, n)
			}
			return
		}
		if len(n) > 254 || strings.Count(n, "@") != 1 || n != strings.ToLower(s) {
			t.Fatalf("accepted %q as %q", s, n)
		}
		for i := range len(n) {
			if c := n[i]; c <= ' ' || c >= 0x7f || (c >= 'A' && c <= 'Z') {
				t.Fatalf("accepted %q with byte %#x at %d", s, c, i)
			}
		}
		if again, err := core.NormalizeEmail(n); err != nil || again != n {
			t.Fatalf("normal form %q is not a fixed point: %q, %v", n, again, err)
		}
	})
}
