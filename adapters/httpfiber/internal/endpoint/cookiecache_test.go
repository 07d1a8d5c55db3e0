package endpoint

import (
	"testing"
	"time"

	"github.com/authd/authd/adapters/httpfiber/internal/cookie"
	"github.com/authd/authd/core"
)

var t0 = time.Date(2026, 11, 26, 4, 40, 27, 253_000_000, time.UTC)

const testSecret = "test-secret-0123456789abcdefghijklmnopqrstuvwxyz"

// The seeds run with every `go test`; `go test -fuzz` explores from them.
func FuzzDecodeSessionData(f *testing.F) {
	srv := func(secret string) *Env {
		return &Env{Cookies: cookie.NewCodec([]byte(secret), false), CookieCacheVersion: "1"}
	}
	s, other := srv(testSecret), srv("another secret entirely")
	sess, err := core.NewSession("sid", "tok", "uid", t0, time.Hour, "", "")
	if err != nil {
		f.Fatal(err)
	}
	user := core.RehydrateUser(core.UserRecord{ID: "uid", Name: "N", Email: "n@example.com", CreatedAt: t0, UpdatedAt: t0})
	valid := s.encodeSessionData(core.SessionView{Session: sess, User: user}, t0, t0.Add(time.Minute))
	for _, v := range []string{valid, valid + "==", valid[:len(valid)-3], "", "e30", "bnVsbA"} {
		f.Add(v)
	}
	f.Fuzz(func(t *testing.T, value string) {
		v, ok := s.decodeSessionData(value, "tok", t0)
		if !ok {
			return
		}
		if v.Session.Token() != "tok" || v.User.ID() != v.Session.UserID() {
			t.Fatalf("accepted a cache for %q/%q", v.Session.Token(), v.User.ID())
		}
		if _, ok := other.decodeSessionData(value, "tok", t0); ok {
			t.Fatalf("%q verifies under two secrets", value)
		}
	})
}
