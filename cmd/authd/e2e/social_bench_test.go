package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"testing"

	"github.com/authd/authd/adapters/bunpg/bunpgtest"
)

// BenchmarkSocialSignIn runs whole social sign-ins (start, the provider's
// consent, callback) one after another against authd and better-auth with
// the same loopback provider; each iteration is a new user. Run with
//
//	go test -run '^$' -bench BenchmarkSocialSignIn -benchtime 300x ./cmd/authd/e2e/
func BenchmarkSocialSignIn(b *testing.B) {
	installJS(b)
	idp := startIdP(b)
	for _, name := range []string{"authd", "better-auth"} {
		b.Run(name, func(b *testing.B) {
			db, _ := bunpgtest.NewMigratedDatabase(b)
			var s *server
			if name == "authd" {
				mailDir := b.TempDir()
				s = startAuthd(b, db, startMailSink(b, mailDir), socialSettings(idp)...)
			} else {
				s = startReferenceWith(b, db, b.TempDir(), socialSettings(idp)...)
			}
			b.ResetTimer()
			for i := range b.N {
				br := newGoBrowser(s.Origin)
				res, body := br.do(b, http.MethodPost, s.Origin+"/api/auth/sign-in/social", map[string]any{"provider": "fake",
					"callbackURL": "/dash", "loginHint": fmt.Sprintf("bench-%s-%d@example.com", name, i), "disableRedirect": true})
				var started struct{ URL string }
				if res.StatusCode != 200 || json.Unmarshal(body, &started) != nil {
					b.Fatalf("start: %d %s", res.StatusCode, body)
				}
				res, _ = br.do(b, http.MethodGet, started.URL, nil)
				res, _ = br.do(b, http.MethodGet, res.Header.Get("Location"), nil)
				if res.Header.Get("Location") != "/dash" {
					b.Fatalf("callback went to %q", res.Header.Get("Location"))
				}
			}
		})
	}
}
