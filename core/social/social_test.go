package social_test

import (
	"context"
	"crypto/rand"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/authd/authd/adapters/memory"
	"github.com/authd/authd/adapters/oauth"
	"github.com/authd/authd/adapters/oauth/oauthtest"
	"github.com/authd/authd/core"
	"github.com/authd/authd/core/social"
)

const base = "http://app.test/api/auth"

type env struct {
	t     *testing.T
	store *memory.Store
	clock *core.FixedClock
	auth  *core.Auth
	idp   *oauthtest.IdP
	svc   *social.Service
	cfg   social.Config
}

var alice = oauthtest.User{Sub: "alice-sub", Email: "Alice@Example.com", EmailVerified: true, Name: "Alice", Picture: "http://img.test/a.png"}

func newEnv(t *testing.T, tweak func(*social.Config)) *env {
	t.Helper()
	return newEnvWith(t, tweak, nil)
}

// newEnvWith is newEnv with the provider's settings tweaked too.
func newEnvWith(t *testing.T, tweak func(*social.Config), provider func(*oauth.GenericConfig)) *env {
	t.Helper()
	idp := oauthtest.Start("client-1", "secret-1")
	t.Cleanup(idp.Close)
	idp.AddUser(alice)
	store := memory.NewStore()
	e := &env{t: t, store: store, clock: &core.FixedClock{T: time.Now().UTC().Truncate(time.Millisecond)}, idp: idp}
	deps := core.Deps{Users: store.Users(), Sessions: store.Sessions(), Accounts: store.Accounts(),
		Verifications: store.Verifications(), Tx: store.Tx(), Clock: e.clock, Random: rand.Reader}
	e.auth = core.NewAuth(deps, core.DefaultPolicy(base))
	e.cfg = social.Config{BaseURL: base, Linking: social.Linking{Enabled: true}}
	if tweak != nil {
		tweak(&e.cfg)
	}
	cipher, err := oauth.NewCipher("test-secret-test-secret-test-secret!")
	if err != nil {
		t.Fatal(err)
	}
	pc := oauth.GenericConfig{ID: "fake", ClientID: "client-1", ClientSecret: "secret-1",
		DiscoveryURL: idp.DiscoveryURL(), Scopes: []string{"email", "profile"}, PKCE: true}
	if provider != nil {
		provider(&pc)
	}
	e.svc = social.New(social.Deps{Auth: e.auth, Users: store.Users(), Sessions: store.Sessions(), Accounts: store.Accounts(),
		Verifications: store.Verifications(), Tx: store.Tx(), Clock: e.clock, Cipher: cipher},
		e.cfg, map[string]social.Provider{"fake": oauth.NewGeneric(pc)})
	return e
}

// authorize follows the authorization URL to the provider, which consents
// at once, and returns the callback query it redirects to.
func (e *env) authorize(authURL string) url.Values {
	e.t.Helper()
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Get(authURL)
	if err != nil {
		e.t.Fatal(err)
	}
	resp.Body.Close()
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil || resp.StatusCode != http.StatusFound {
		e.t.Fatalf("authorize: %d %v", resp.StatusCode, err)
	}
	if !strings.HasPrefix(loc.String(), base+"/callback/fake?") {
		e.t.Fatalf("authorize redirected to %s", loc)
	}
	return loc.Query()
}

type flow struct {
	started social.Started
	back    url.Values
}

func (e *env) start(in social.StartInput) flow {
	e.t.Helper()
	in.ProviderID = "fake"
	st, err := e.svc.StartSignIn(context.Background(), in)
	if err != nil {
		e.t.Fatal(err)
	}
	return flow{started: st, back: e.authorize(st.URL)}
}

func (e *env) callback(f flow, cookie string) social.CallbackResult {
	e.t.Helper()
	res, err := e.svc.Callback(context.Background(), social.CallbackInput{ProviderID: "fake", Code: f.back.Get("code"),
		State: f.back.Get("state"), Iss: f.back.Get("iss"), Error: f.back.Get("error"),
		ErrorDesc: f.back.Get("error_description"), StateCookie: cookie})
	if err != nil {
		e.t.Fatal(err)
	}
	return res
}

func (e *env) signIn(in social.StartInput) social.CallbackResult {
	e.t.Helper()
	f := e.start(in)
	return e.callback(f, f.started.State)
}

func wantError(t *testing.T, res social.CallbackResult, prefix, code string) {
	t.Helper()
	sep := "?"
	if strings.Contains(prefix, "?") {
		sep = "&"
	}
	want := prefix + sep + "error=" + code
	if !strings.HasPrefix(res.Location, want) || res.Session != nil {
		t.Fatalf("redirect %q (session %v), want %q…", res.Location, res.Session != nil, want)
	}
}

func (e *env) accounts(userID string) []core.Account {
	e.t.Helper()
	accs, err := e.store.Accounts().ListByUser(context.Background(), userID)
	if err != nil {
		e.t.Fatal(err)
	}
	return accs
}

func TestAuthorizationURLCarriesStatePKCEAndNonce(t *testing.T) {
	e := newEnv(t, nil)
	st, err := e.svc.StartSignIn(context.Background(), social.StartInput{ProviderID: "fake", Scopes: []string{"extra"},
		LoginHint: "a@b.c", Params: []social.Param{{Key: "prompt", Value: "consent"}}})
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(st.URL)
	q := u.Query()
	for k, want := range map[string]string{"response_type": "code", "client_id": "client-1", "state": st.State,
		"scope": "openid extra email profile", "redirect_uri": base + "/callback/fake", "login_hint": "a@b.c",
		"code_challenge_method": "S256", "prompt": "consent"} {
		if q.Get(k) != want {
			t.Errorf("%s = %q, want %q", k, q.Get(k), want)
		}
	}
	if len(q.Get("nonce")) != 32 || len(q.Get("code_challenge")) != 43 || len(st.State) != 32 {
		t.Errorf("nonce %q, challenge %q, state %q", q.Get("nonce"), q.Get("code_challenge"), st.State)
	}
	v, err := e.store.Verifications().Latest(context.Background(), "auth-state:"+st.State)
	if err != nil || !strings.Contains(v.Value(), `"oauthState":"`+st.State+`"`) || !v.ExpiresAt().Equal(e.clock.T.Add(10*time.Minute)) {
		t.Fatalf("state row %v %q", err, v.Value())
	}

	_, err = e.svc.StartSignIn(context.Background(), social.StartInput{ProviderID: "fake", Params: []social.Param{{Key: "redirect_uri", Value: "http://evil.test"}}})
	if !errors.Is(err, social.ErrReservedParam) {
		t.Fatalf("reserved parameter: %v", err)
	}
	_, err = e.svc.StartSignIn(context.Background(), social.StartInput{ProviderID: "github"})
	if !errors.Is(err, social.ErrProviderNotFound) {
		t.Fatalf("unknown provider: %v", err)
	}
}

func TestNewUserThenReturningUser(t *testing.T) {
	e := newEnv(t, nil)
	res := e.signIn(social.StartInput{CallbackURL: "/dash", NewUserCallbackURL: "/welcome"})
	if res.Location != "/welcome" || res.Session == nil || !res.ClearStateCookie {
		t.Fatalf("first sign-in: %+v", res)
	}
	u := res.User
	if u.Email() != "alice@example.com" || !u.EmailVerified() || u.Name() != "Alice" || *u.Image() != alice.Picture {
		t.Fatalf("user %+v", u.Record())
	}
	accs := e.accounts(u.ID())
	if len(accs) != 1 {
		t.Fatalf("accounts %d", len(accs))
	}
	r := accs[0].Record()
	if r.ProviderID != "fake" || r.AccountID != alice.Sub || *r.Scope != "openid,email,profile" || r.IDToken == nil ||
		r.AccessToken == nil || r.RefreshToken == nil || !r.AccessTokenExpiresAt.Equal(e.clock.T.Add(time.Hour)) ||
		r.RefreshTokenExpiresAt != nil || r.Password != nil {
		t.Fatalf("account %+v", r)
	}

	// A returning sign-in: same user, tokens replaced, scope kept, no
	// new-user redirect.
	e.clock.T = e.clock.T.Add(time.Minute)
	res2 := e.signIn(social.StartInput{CallbackURL: "/dash", NewUserCallbackURL: "/welcome", Scopes: []string{"more"}})
	if res2.Location != "/dash" || res2.Session == nil || res2.User.ID() != u.ID() {
		t.Fatalf("second sign-in: %+v", res2)
	}
	r2 := e.accounts(u.ID())[0].Record()
	if *r2.AccessToken == *r.AccessToken || *r2.Scope != *r.Scope || !r2.AccessTokenExpiresAt.Equal(e.clock.T.Add(time.Hour)) {
		t.Fatalf("returning account %+v", r2)
	}
}

func TestStateIsSingleUse(t *testing.T) {
	e := newEnv(t, nil)
	f := e.start(social.StartInput{})
	if res := e.callback(f, f.started.State); res.Session == nil {
		t.Fatalf("first callback: %+v", res)
	}
	wantError(t, e.callback(f, f.started.State), base+"/error", "state_mismatch")
	if n := len(e.idp.TokenRequests()); n != 1 {
		t.Fatalf("the replay reached the token endpoint: %d requests", n)
	}
}

func TestStateCookieBindsTheFlowToItsBrowser(t *testing.T) {
	e := newEnv(t, nil)
	f := e.start(social.StartInput{ErrorCallbackURL: "/oops?x=1"})
	other := e.start(social.StartInput{})
	for _, cookie := range []string{"", other.started.State} {
		res := e.callback(f, cookie)
		wantError(t, res, "/oops?x=1", "state_mismatch")
		if res.ClearStateCookie {
			t.Fatal("a foreign browser cleared the state cookie")
		}
	}
	if n := len(e.idp.TokenRequests()); n != 0 {
		t.Fatalf("the code was redeemed without the state cookie: %d token requests", n)
	}
	// The flow is still the rightful browser's.
	if res := e.callback(f, f.started.State); res.Session == nil {
		t.Fatalf("rightful callback: %+v", res)
	}
}

func TestExpiredStateIsRefused(t *testing.T) {
	e := newEnv(t, nil)
	f := e.start(social.StartInput{ErrorCallbackURL: "/oops"})
	e.clock.T = e.clock.T.Add(10*time.Minute + time.Millisecond)
	wantError(t, e.callback(f, f.started.State), "/oops", "state_mismatch")
}

func TestCallbackWithoutStateOrCode(t *testing.T) {
	e := newEnv(t, nil)
	res, err := e.svc.Callback(context.Background(), social.CallbackInput{ProviderID: "fake", Code: "x", Error: "access_denied"})
	if err != nil {
		t.Fatal(err)
	}
	wantError(t, res, base+"/error", "state_not_found")
	res, _ = e.svc.Callback(context.Background(), social.CallbackInput{ProviderID: "fake", Code: "x", State: "unknown", StateCookie: "unknown"})
	wantError(t, res, base+"/error", "state_mismatch")

	f := e.start(social.StartInput{})
	f.back.Del("code")
	wantError(t, e.callback(f, f.started.State), base+"/error", "no_code")
}

func TestProviderErrorIsPassedOn(t *testing.T) {
	e := newEnv(t, nil)
	st, _ := e.svc.StartSignIn(context.Background(), social.StartInput{ProviderID: "fake", ErrorCallbackURL: "/oops",
		Params: []social.Param{{Key: "deny", Value: "1"}}})
	f := flow{started: st, back: e.authorize(st.URL)}
	res := e.callback(f, st.State)
	if res.Location != "/oops?error=access_denied&error_description=The+user+said+no" || !res.ClearStateCookie {
		t.Fatalf("%+v", res)
	}
}

// A mix-up attack: an authorization response from another issuer must not
// have its code sent to this provider.
func TestIssuerMismatchStopsBeforeTheTokenRequest(t *testing.T) {
	e := newEnv(t, nil)
	f := e.start(social.StartInput{})
	f.back.Set("iss", "http://evil.test")
	wantError(t, e.callback(f, f.started.State), base+"/error", "issuer_mismatch")
	if n := len(e.idp.TokenRequests()); n != 0 {
		t.Fatalf("%d token requests", n)
	}
}

// Code injection: a code obtained in one flow pasted into another
// browser's flow fails PKCE at the provider.
func TestCodeFromAnotherFlowIsRefused(t *testing.T) {
	e := newEnv(t, nil)
	attacker, victim := e.start(social.StartInput{}), e.start(social.StartInput{})
	victim.back.Set("code", attacker.back.Get("code"))
	wantError(t, e.callback(victim, victim.started.State), base+"/error", "invalid_code")
}

func TestTokenRequestIsClientSecretPost(t *testing.T) {
	e := newEnv(t, nil)
	f := e.start(social.StartInput{})
	e.callback(f, f.started.State)
	reqs := e.idp.TokenRequests()
	if len(reqs) != 1 {
		t.Fatalf("%d token requests", len(reqs))
	}
	q := reqs[0]
	if q.Get("grant_type") != "authorization_code" || q.Get("client_secret") != "secret-1" || len(q.Get("code_verifier")) != 128 ||
		q.Get("redirect_uri") != base+"/callback/fake" {
		t.Fatalf("token request %v", q)
	}
}

func (e *env) localUser(email string, verified bool) core.User {
	e.t.Helper()
	id, _ := e.auth.NewID()
	u, err := core.NewUser(id, "Local", email, nil, e.clock.T)
	if err != nil {
		e.t.Fatal(err)
	}
	if verified {
		u.MarkEmailVerified(e.clock.T)
	}
	if err := e.store.Users().Create(context.Background(), u); err != nil {
		e.t.Fatal(err)
	}
	return u
}

func TestImplicitLinking(t *testing.T) {
	t.Run("unverified local email", func(t *testing.T) {
		e := newEnv(t, nil)
		u := e.localUser(alice.Email, false)
		wantError(t, e.signIn(social.StartInput{}), base+"/error", "account_not_linked")
		if n := len(e.accounts(u.ID())); n != 0 {
			t.Fatalf("%d accounts", n)
		}
	})
	t.Run("unverified provider email, untrusted provider", func(t *testing.T) {
		e := newEnv(t, nil)
		e.idp.AddUser(oauthtest.User{Sub: "bob-sub", Email: "bob@example.com", Name: "Bob"})
		e.localUser("bob@example.com", true)
		wantError(t, e.signIn(social.StartInput{LoginHint: "bob@example.com"}), base+"/error", "account_not_linked")
	})
	t.Run("unverified provider email, trusted provider", func(t *testing.T) {
		e := newEnv(t, func(c *social.Config) { c.Linking.TrustedProviders = []string{"fake"} })
		e.idp.AddUser(oauthtest.User{Sub: "bob-sub", Email: "bob@example.com", Name: "Bob"})
		u := e.localUser("bob@example.com", true)
		res := e.signIn(social.StartInput{LoginHint: "bob@example.com", CallbackURL: "/dash", NewUserCallbackURL: "/new"})
		if res.Session == nil || res.User.ID() != u.ID() || res.Location != "/dash" || res.User.Name() != "Local" {
			t.Fatalf("%+v", res)
		}
	})
	t.Run("linking disabled", func(t *testing.T) {
		e := newEnv(t, func(c *social.Config) { c.Linking.Enabled = false })
		e.localUser(alice.Email, true)
		wantError(t, e.signIn(social.StartInput{}), base+"/error", "account_not_linked")
	})
	t.Run("verified on both sides", func(t *testing.T) {
		e := newEnv(t, nil)
		u := e.localUser(alice.Email, true)
		res := e.signIn(social.StartInput{})
		if res.Session == nil || res.User.ID() != u.ID() || len(e.accounts(u.ID())) != 1 {
			t.Fatalf("%+v", res)
		}
	})
}

func (e *env) session(u core.User) core.SessionView {
	e.t.Helper()
	s, err := e.auth.IssueSession(context.Background(), core.SessionGrant{UserID: u.ID()})
	if err != nil {
		e.t.Fatal(err)
	}
	return core.SessionView{Session: s, User: u}
}

func (e *env) link(v core.SessionView, hint string) social.CallbackResult {
	e.t.Helper()
	st, err := e.svc.StartLink(context.Background(), v, social.StartInput{ProviderID: "fake", CallbackURL: "/linked", LoginHint: hint})
	if err != nil {
		e.t.Fatal(err)
	}
	return e.callback(flow{started: st, back: e.authorize(st.URL)}, st.State)
}

func TestLinkSocial(t *testing.T) {
	e := newEnv(t, nil)
	u := e.localUser(alice.Email, false)
	v := e.session(u)
	res := e.link(v, "")
	if res.Location != "/linked" || res.Session != nil {
		t.Fatalf("link: %+v", res)
	}
	if accs := e.accounts(u.ID()); len(accs) != 1 || accs[0].AccountID() != alice.Sub {
		t.Fatalf("accounts %v", accs)
	}
	got, _ := e.store.Users().ByID(context.Background(), u.ID())
	if got.EmailVerified() {
		t.Fatal("linking verified the user")
	}

	// Another email is refused unless allowed.
	e.idp.AddUser(oauthtest.User{Sub: "carol-sub", Email: "carol@example.com", EmailVerified: true})
	wantError(t, e.link(v, "carol@example.com"), base+"/error", "email_does_not_match")

	// The account now belongs to u: another user cannot take it.
	other := e.localUser("dave@example.com", true)
	e.cfg.Linking.AllowDifferentEmails = true
	e2 := *e
	e2.svc = social.New(social.Deps{Auth: e.auth, Users: e.store.Users(), Sessions: e.store.Sessions(), Accounts: e.store.Accounts(),
		Verifications: e.store.Verifications(), Tx: e.store.Tx(), Clock: e.clock, Cipher: mustCipher(t)}, e.cfg,
		map[string]social.Provider{"fake": oauth.NewGeneric(oauth.GenericConfig{ID: "fake", ClientID: "client-1",
			ClientSecret: "secret-1", DiscoveryURL: e.idp.DiscoveryURL(), PKCE: true})})
	wantError(t, e2.link(e2.session(other), ""), base+"/error", "account_already_linked_to_different_user")

	// A link whose session ended meanwhile is refused.
	v2 := e2.session(other)
	st, _ := e2.svc.StartLink(context.Background(), v2, social.StartInput{ProviderID: "fake", LoginHint: "carol@example.com"})
	back := e2.authorize(st.URL)
	if _, err := e.store.Sessions().DeleteByToken(context.Background(), v2.Session.Token()); err != nil {
		t.Fatal(err)
	}
	wantError(t, e2.callback(flow{started: st, back: back}, st.State), base+"/error", "unable_to_link_account")
}

func mustCipher(t *testing.T) *oauth.Cipher {
	c, err := oauth.NewCipher("test-secret-test-secret-test-secret!")
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestTokensAndUnlink(t *testing.T) {
	e := newEnv(t, func(c *social.Config) { c.EncryptTokens = true })
	res := e.signIn(social.StartInput{})
	v := core.SessionView{Session: *res.Session, User: res.User}
	acc := e.accounts(res.User.ID())[0]
	stored := *acc.Tokens().AccessToken
	if strings.HasPrefix(stored, "at-") {
		t.Fatal("access token stored in clear with encryption on")
	}
	ctx := context.Background()
	at, err := e.svc.GetAccessToken(ctx, v, acc.ID())
	if err != nil || !strings.HasPrefix(at.AccessToken, "at-") || at.IDToken == nil {
		t.Fatalf("get-access-token %+v %v", at, err)
	}
	// Near expiry, get-access-token refreshes.
	e.clock.T = e.clock.T.Add(time.Hour - time.Second)
	at2, err := e.svc.GetAccessToken(ctx, v, acc.ID())
	if err != nil || at2.AccessToken == at.AccessToken || !at2.ExpiresAt.Equal(e.clock.T.Add(time.Hour)) {
		t.Fatalf("refreshing get-access-token %+v %v", at2, err)
	}
	r, err := e.svc.RefreshToken(ctx, v, acc.ID())
	if err != nil || r.AccessToken == at2.AccessToken || !strings.HasPrefix(r.RefreshToken, "rt-") || *r.Scope != "openid,email,profile" {
		t.Fatalf("refresh-token %+v %v", r, err)
	}
	info, err := e.svc.AccountInfo(ctx, v, acc.ID())
	if err != nil || info.Profile.Email != alice.Email || info.Profile.ID != alice.Sub {
		t.Fatalf("account-info %+v %v", info, err)
	}
	if _, err := e.svc.GetAccessToken(ctx, v, "nope"); !errors.Is(err, social.ErrAccountNotFound) {
		t.Fatalf("unknown account: %v", err)
	}
	if err := e.svc.Unlink(ctx, v, acc.ID()); !errors.Is(err, social.ErrLastAccount) {
		t.Fatalf("unlink last: %v", err)
	}
	e.clock.T = v.Session.CreatedAt().Add(24*time.Hour + time.Second)
	if err := e.svc.Unlink(ctx, v, acc.ID()); !errors.Is(err, core.ErrSessionNotFresh) {
		t.Fatalf("unlink from a session older than a day: %v", err)
	}
}

func TestSignUpSwitches(t *testing.T) {
	yes := true
	t.Run("disableImplicitSignUp needs requestSignUp", func(t *testing.T) {
		e := newEnvWith(t, nil, func(c *oauth.GenericConfig) { c.DisableImplicitSignUp = true })
		wantError(t, e.signIn(social.StartInput{}), base+"/error", "signup_disabled")
		if res := e.signIn(social.StartInput{RequestSignUp: &yes, NewUserCallbackURL: "/new"}); res.Location != "/new" {
			t.Fatalf("requested sign-up: %+v", res)
		}
		// A returning user needs no sign-up.
		if res := e.signIn(social.StartInput{CallbackURL: "/dash"}); res.Location != "/dash" {
			t.Fatalf("returning user: %+v", res)
		}
	})
	t.Run("disableSignUp refuses every new user", func(t *testing.T) {
		e := newEnvWith(t, nil, func(c *oauth.GenericConfig) { c.DisableSignUp = true })
		wantError(t, e.signIn(social.StartInput{RequestSignUp: &yes}), base+"/error", "signup_disabled")
		u := e.localUser(alice.Email, true)
		if res := e.signIn(social.StartInput{CallbackURL: "/dash"}); res.User.ID() != u.ID() {
			t.Fatalf("an existing user was refused: %+v", res)
		}
	})
}

// Callbacks racing with one state: exactly one signs in.
func TestConcurrentCallbacksOneWins(t *testing.T) {
	e := newEnv(t, nil)
	f := e.start(social.StartInput{CallbackURL: "/dash"})
	const n = 8
	results := make(chan social.CallbackResult, n)
	start := make(chan struct{})
	for range n {
		go func() {
			<-start
			res, err := e.svc.Callback(context.Background(), social.CallbackInput{ProviderID: "fake", Code: f.back.Get("code"),
				State: f.back.Get("state"), Iss: f.back.Get("iss"), StateCookie: f.started.State})
			if err != nil {
				t.Error(err)
			}
			results <- res
		}()
	}
	close(start)
	won := 0
	for range n {
		res := <-results
		switch {
		case res.Session != nil:
			won++
		case res.Location != base+"/error?error=state_mismatch":
			t.Errorf("a loser went to %q", res.Location)
		}
	}
	if won != 1 {
		t.Fatalf("%d callbacks signed in", won)
	}
}

func TestUpdateUserInfoOnLink(t *testing.T) {
	for _, on := range []bool{false, true} {
		e := newEnv(t, func(c *social.Config) { c.Linking.UpdateUserInfoOnLink = on })
		u := e.localUser(alice.Email, false)
		e.link(e.session(u), "")
		got, _ := e.store.Users().ByID(context.Background(), u.ID())
		copied := got.Name() == alice.Name && got.Image() != nil && *got.Image() == alice.Picture
		if copied != on || got.Email() != u.Email() || got.EmailVerified() {
			t.Fatalf("updateUserInfoOnLink=%v: user %+v", on, got.Record())
		}
	}
}
