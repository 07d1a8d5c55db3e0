package core_test

import (
	"bytes"
	"errors"
	"io"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/authd/authd/core"
)

// scriptedReader serves script, then fails.
type scriptedReader struct{ r *bytes.Reader }

func (s scriptedReader) Read(p []byte) (int, error) {
	n, _ := s.r.Read(p)
	if n == 0 {
		return 0, errors.New("entropy exhausted")
	}
	return n, nil
}

func TestIDsUseRejectionSampling(t *testing.T) {
	// Bytes >= 248 are skipped; the rest map to alphabet[b % 62].
	script := []byte{248, 0, 255, 25, 26, 51, 52, 61, 62, 247}
	for len(script) < 4096 {
		script = append(script, 1)
	}
	e := newEnv(t, func(_ *core.Policy, d *core.Deps) { d.Random = scriptedReader{bytes.NewReader(script)} })
	r := e.signUp("r@x.test", "12345678")
	want := "azAZ09a9" + strings.Repeat("b", 24)
	if r.User.ID() != want {
		t.Fatalf("id = %q, want %q", r.User.ID(), want)
	}
}

func TestFailingRandomSourceFailsTheOperation(t *testing.T) {
	// Enough bytes for the user id only: the account id, session id or token
	// would come from an exhausted source.
	for _, n := range []int{0, 16, 37, 80, 120} {
		e := newEnv(t, func(_ *core.Policy, d *core.Deps) {
			d.Random = scriptedReader{bytes.NewReader(bytes.Repeat([]byte{7}, n))}
		})
		_, err := e.auth.SignUpEmail(ctx, core.SignUpInput{Name: "N", Email: "n@x.test", Password: "12345678", RememberMe: true})
		if err == nil {
			t.Fatalf("%d bytes: sign-up succeeded on a failing random source", n)
		}
		var ce *core.Error
		if errors.As(err, &ce) && ce.Kind != core.KindInternal {
			t.Fatalf("%d bytes: error %v has a client kind", n, err)
		}
		if _, err := e.store.Users().ByEmail(ctx, "n@x.test"); !errors.Is(err, core.ErrUserNotFound) {
			t.Fatalf("%d bytes: user stored", n)
		}
	}
}

func TestRandomSourceOfRejectedBytesFails(t *testing.T) {
	allHigh := io.Reader(repeatByte(0xff))
	e := newEnv(t, func(_ *core.Policy, d *core.Deps) { d.Random = allHigh })
	if _, err := e.auth.SignUpEmail(ctx, core.SignUpInput{Name: "N", Email: "n@x.test", Password: "12345678"}); err == nil {
		t.Fatal("sign-up succeeded with a source that yields only rejected bytes")
	}
}

type repeatByte byte

func (b repeatByte) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(b)
	}
	return len(p), nil
}

func TestTokensAreWellFormedAndUnique(t *testing.T) {
	e := newEnv(t, nil)
	seen := map[string]bool{}
	v := e.user("u@x.test", "12345678")
	seen[v.Session.Token()] = true
	for range 500 {
		r := e.signIn("u@x.test", "12345678")
		tok := r.Session.Token()
		if !alnum32.MatchString(tok) || seen[tok] {
			t.Fatalf("bad or repeated session token %q", tok)
		}
		seen[tok] = true
	}
	reset := regexp.MustCompile(`^[A-Za-z0-9]{24}$`)
	for range 200 {
		e.clock.Advance(time.Minute) // one mail per cooldown
		if err := e.auth.RequestPasswordReset(ctx, "u@x.test", ""); err != nil {
			t.Fatal(err)
		}
	}
	for _, m := range e.mail.all() {
		tok := strings.TrimPrefix(link(t, m).Path, "/api/auth/reset-password/")
		if !reset.MatchString(tok) || seen[tok] {
			t.Fatalf("bad or repeated reset token %q", tok)
		}
		seen[tok] = true
	}
	del := regexp.MustCompile(`^[0-9a-z]{32}$`)
	for range 200 {
		e.clock.Advance(time.Minute)
		if _, err := e.auth.DeleteUser(ctx, v, core.DeleteUserInput{}); err != nil {
			t.Fatal(err)
		}
	}
	n := 0
	for _, m := range e.mail.all() {
		if u := link(t, m); strings.HasSuffix(u.Path, "/delete-user/callback") {
			tok := u.Query().Get("token")
			if !del.MatchString(tok) || seen[tok] {
				t.Fatalf("bad or repeated delete token %q", tok)
			}
			seen[tok] = true
			n++
		}
	}
	if n != 200 {
		t.Fatalf("%d delete mails", n)
	}
}
