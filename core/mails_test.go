package core_test

import (
	"strings"
	"sync"
	"testing"

	"github.com/authd/authd/core"
)

// TestLinksEncodeLikeEncodeURIComponent: callbackURLs are escaped exactly as
// JavaScript's encodeURIComponent does, so links match better-auth's.
func TestLinksEncodeLikeEncodeURIComponent(t *testing.T) {
	e := newEnv(t, nil)
	v := e.user("u@x.test", "12345678")
	if err := e.auth.SendVerificationEmail(ctx, &v, "u@x.test", "/a b!~*'()-_.?x=é&y=/#z+"); err != nil {
		t.Fatal(err)
	}
	m := e.mail.to("u@x.test")[0]
	u := link(t, m)
	want := "callbackURL=%2Fa%20b!~*'()-_.%3Fx%3D%C3%A9%26y%3D%2F%23z%2B"
	if !strings.HasSuffix(u.RawQuery, "&"+want) {
		t.Fatalf("query %q, want suffix %q", u.RawQuery, want)
	}
	if !strings.Contains(m.Text, "\n"+baseURL+"/verify-email?token=") {
		t.Fatalf("text = %q", m.Text)
	}
}

func TestBaseURLTrailingSlashIsIgnored(t *testing.T) {
	e := newEnv(t, func(p *core.Policy, _ *core.Deps) { p.BaseURL = baseURL + "/" })
	e.user("u@x.test", "12345678")
	tok := requestReset(t, e, "u@x.test", "")
	if !strings.Contains(e.mail.all()[0].Text, "\n"+baseURL+"/reset-password/"+tok+"?callbackURL=\n") {
		t.Fatalf("text = %q", e.mail.all()[0].Text)
	}
}

func TestConcurrentRefreshAtBoundary(t *testing.T) {
	e := newEnv(t, nil)
	r := e.signUp("u@x.test", "12345678")
	e.clock.Advance(day)
	var wg sync.WaitGroup
	errs := make(chan error, 50)
	for range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			v, _, err := e.auth.GetSession(ctx, r.Session.Token(), core.SessionOptions{})
			if err == nil && v.User.ID() != r.User.ID() {
				t.Error("wrong user")
			}
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	v := e.view(r.Session.Token())
	if !v.Session.ExpiresAt().Equal(e.clock.T.Add(7 * day)) {
		t.Fatalf("expiresAt = %v", v.Session.ExpiresAt())
	}
}
