package social

import (
	"context"
	"errors"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/authd/authd/core"
)

// CallbackInput is GET /callback/:id. StateCookie is the verified value of
// the signed state cookie ("" when missing, unsigned or forged).
type CallbackInput struct {
	ProviderID                         string
	Code, State, Error, ErrorDesc, Iss string
	User                               string // Apple's user JSON
	StateCookie                        string
	Meta                               core.RequestMeta
}

// CallbackResult is the redirect to answer with. ClearStateCookie expires
// the state cookie; Session, when set, is the new sign-in.
type CallbackResult struct {
	Location         string
	ClearStateCookie bool
	Session          *core.Session
	User             core.User
	// Refusal is the error code sent to the error URL, "" on success, for
	// the operator's log.
	Refusal string
}

// Callback-error codes (the ?error= of the redirect), as better-auth names
// them.
const (
	errNoCode             = "no_code"
	errProviderNotFound   = "oauth_provider_not_found"
	errIssuerMismatch     = "issuer_mismatch"
	errNonceMissing       = "nonce_binding_missing"
	errInvalidCode        = "invalid_code"
	errUserInfo           = "unable_to_get_user_info"
	errNoCallbackURL      = "no_callback_url"
	errUnableToLink       = "unable_to_link_account"
	errEmailDoesNotMatch  = "email_does_not_match"
	errLinkedToOther      = "account_already_linked_to_different_user"
	errEmailNotFound      = "email_not_found"
	errAccountNotLinked   = "account_not_linked"
	errSignUpDisabled     = "signup_disabled"
	errUnableToCreateUser = "unable_to_create_user"
	errInternal           = "internal_server_error"
	errStateNotFound      = "state_not_found"
	errUnableToUpdateAcct = "unable_to_update_account"
	errUnableToCreateSess = "unable_to_create_session"
)

// refusal is a callback failure that is answered with a redirect.
type refusal struct{ code, desc string }

func (r *refusal) Error() string { return r.code }

func refuse(code string) error { return &refusal{code: code} }

// errorRedirect appends error (and error_description) to target as
// better-auth's appendQueryParams does.
func errorRedirect(target, code, desc string) string {
	q := url.Values{"error": {code}}
	if desc != "" {
		q.Set("error_description", desc)
	}
	enc := q.Encode()
	if strings.Contains(target, "?") {
		return target + "&" + enc
	}
	return target + "?" + enc
}

// Callback finishes a flow. Every refusal is a redirect to the flow's error
// URL; only store failures are returned as errors.
func (s *Service) Callback(ctx context.Context, in CallbackInput) (CallbackResult, error) {
	defErr := s.base + "/error"
	if in.State == "" {
		return CallbackResult{Location: errorRedirect(defErr, errStateNotFound, ""), Refusal: errStateNotFound}, nil
	}
	ident := stateIdentPrefix + in.State
	v, err := s.d.Verifications.Latest(ctx, ident)
	if errors.Is(err, core.ErrVerificationNotFound) {
		return CallbackResult{Location: errorRedirect(defErr, errStateMismatch, ""), Refusal: errStateMismatch}, nil
	}
	if err != nil {
		return CallbackResult{}, err
	}
	f, oauthState, ok := parseFlow(v.Value())
	if !ok {
		return CallbackResult{Location: errorRedirect(defErr, errInternal, ""), Refusal: errInternal}, nil
	}
	errURL := f.ErrorURL
	if errURL == "" {
		errURL = defErr
	}
	fail := func(code, desc string, clear bool) (CallbackResult, error) {
		return CallbackResult{Location: errorRedirect(errURL, code, desc), ClearStateCookie: clear, Refusal: code}, nil
	}
	// The cookie binds the flow to the browser that started it: a state
	// (and code) carried to another browser is refused before anything is
	// consumed or redeemed.
	if oauthState != nil && *oauthState != in.State || in.StateCookie != in.State {
		return fail(errStateMismatch, "", false)
	}
	if _, err := s.d.Verifications.Consume(ctx, ident); errors.Is(err, core.ErrVerificationNotFound) {
		// A concurrent callback with the same state consumed it first.
		return CallbackResult{Location: errorRedirect(defErr, errStateMismatch, ""), ClearStateCookie: true,
			Refusal: errStateMismatch}, nil
	} else if err != nil {
		return CallbackResult{}, err
	}
	if f.ExpiresAt < s.now().UnixMilli() {
		return fail(errStateMismatch, "", true)
	}
	if in.Error != "" {
		return fail(in.Error, in.ErrorDesc, true)
	}
	if in.Code == "" {
		return fail(errNoCode, "", true)
	}
	res, err := s.finish(ctx, in, f)
	var r *refusal
	if errors.As(err, &r) {
		return fail(r.code, r.desc, true)
	}
	if err != nil {
		return CallbackResult{}, err
	}
	res.ClearStateCookie = true
	return res, nil
}

func (s *Service) finish(ctx context.Context, in CallbackInput, f flowState) (CallbackResult, error) {
	p, info, ok := s.provider(ctx, in.ProviderID)
	if !ok {
		return CallbackResult{}, refuse(errProviderNotFound)
	}
	// RFC 9207: an authorization response from another issuer (mix-up)
	// must not have its code sent to this provider's token endpoint.
	if in.Iss != "" && info.Issuer != "" && in.Iss != info.Issuer {
		return CallbackResult{}, refuse(errIssuerMismatch)
	}
	if info.RequiresNonce && f.IDTokenNonce == "" {
		return CallbackResult{}, refuse(errNonceMissing)
	}
	tokens, err := p.ExchangeCode(ctx, in.Code, f.CodeVerifier, s.redirectURI(in.ProviderID))
	if err != nil {
		return CallbackResult{}, refuse(errInvalidCode)
	}
	tokens.User = in.User
	prof, err := p.UserInfo(ctx, tokens, f.IDTokenNonce)
	if err != nil || strings.TrimSpace(prof.ID) == "" || prof.ID == "undefined" || prof.ID == "null" {
		return CallbackResult{}, refuse(errUserInfo)
	}
	if f.CallbackURL == "" {
		return CallbackResult{}, refuse(errNoCallbackURL)
	}
	granted := s.accountTokens(tokens)
	if f.Link != nil {
		if err := s.link(ctx, in.ProviderID, *f.Link, prof, granted, tokens.Scopes); err != nil {
			return CallbackResult{}, err
		}
		return CallbackResult{Location: f.CallbackURL}, nil
	}
	if prof.Email == "" {
		return CallbackResult{}, refuse(errEmailNotFound)
	}
	disableSignUp := info.DisableImplicitSignUp && (f.RequestSignUp == nil || !*f.RequestSignUp) || info.DisableSignUp
	scope := strings.Join(tokens.Scopes, ",")
	out, err := s.signIn(ctx, in.ProviderID, prof, granted, &scope, disableSignUp, in.Meta)
	if err != nil {
		return CallbackResult{}, err
	}
	loc := f.CallbackURL
	if out.created && f.NewUserURL != "" {
		loc = f.NewUserURL
	}
	return CallbackResult{Location: loc, Session: &out.session, User: out.user}, nil
}

// accountTokens is what an account row stores of t: present values only,
// access and refresh tokens sealed when encryption is on.
func (s *Service) accountTokens(t Tokens) sealedTokens {
	now := s.now()
	var o core.OAuthTokens
	str := func(v string) *string {
		if v == "" {
			return nil
		}
		return &v
	}
	o.AccessToken, o.RefreshToken, o.IDToken = str(t.AccessToken), str(t.RefreshToken), str(t.IDToken)
	if t.AccessTokenExpiresIn > 0 {
		e := now.Add(t.AccessTokenExpiresIn).Truncate(time.Millisecond)
		o.AccessTokenExpiresAt = &e
	}
	if t.RefreshTokenExpiresIn > 0 {
		e := now.Add(t.RefreshTokenExpiresIn).Truncate(time.Millisecond)
		o.RefreshTokenExpiresAt = &e
	}
	return sealedTokens{plain: o, encrypt: s.c.EncryptTokens}
}

// sealedTokens defers sealing until the row is written, so that a refusal
// costs no encryption.
type sealedTokens struct {
	plain   core.OAuthTokens
	encrypt bool
}

func (s *Service) seal(t sealedTokens) (core.OAuthTokens, error) {
	o := t.plain
	if !t.encrypt {
		return o, nil
	}
	for _, p := range []**string{&o.AccessToken, &o.RefreshToken} {
		if *p == nil {
			continue
		}
		sealed, err := s.d.Cipher.SealToken(**p)
		if err != nil {
			return core.OAuthTokens{}, err
		}
		*p = &sealed
	}
	return o, nil
}

// open reads a stored token: sealed ones are opened when encryption is on
// and the value looks sealed (better-auth's isLikelyEncrypted), anything
// else is used as it is.
func (s *Service) open(stored *string) (string, error) {
	if stored == nil {
		return "", nil
	}
	if !s.c.EncryptTokens || !likelySealed(*stored) {
		return *stored, nil
	}
	return s.d.Cipher.OpenToken(*stored)
}

func likelySealed(v string) bool {
	if strings.HasPrefix(v, "$ba$") {
		return true
	}
	if v == "" || len(v)%2 != 0 {
		return false
	}
	for i := 0; i < len(v); i++ {
		c := v[i] | 0x20
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

type signedIn struct {
	user    core.User
	session core.Session
	created bool
}

// signIn is better-auth's handleOAuthUserInfo: the account of the subject,
// else the user of the email (implicit linking), else a new user; then a
// session, all in one transaction.
func (s *Service) signIn(ctx context.Context, providerID string, prof Profile, t sealedTokens, scope *string,
	disableSignUp bool, meta core.RequestMeta) (signedIn, error) {
	email := strings.ToLower(prof.Email)
	var out signedIn
	err := s.d.Tx.WithinTx(ctx, func(ctx context.Context) error {
		out = signedIn{}
		now := s.now()
		acc, err := s.d.Accounts.ByProviderAccount(ctx, providerID, prof.ID)
		switch {
		case err == nil:
			u, err := s.d.Users.ByID(ctx, acc.UserID())
			if errors.Is(err, core.ErrUserNotFound) {
				return refuse(errUnableToLink)
			}
			if err != nil {
				return err
			}
			sealed, err := s.seal(t)
			if err != nil {
				return err
			}
			// Tokens only: scope changes through linkSocial alone.
			acc.SetTokens(sealed, now)
			if err := s.d.Accounts.Update(ctx, acc); err != nil {
				if isInfra(err) {
					return err
				}
				return refuse(errUnableToUpdateAcct)
			}
			if err := s.markVerified(ctx, &u, prof, email, now); err != nil {
				return err
			}
			out.user = u
		case errors.Is(err, core.ErrAccountNotFound):
			u, err := s.d.Users.ByEmail(ctx, email)
			switch {
			case err == nil:
				if !s.c.Linking.Enabled || !s.trusted(providerID) && !prof.EmailVerified || !u.EmailVerified() {
					return refuse(errAccountNotLinked)
				}
				if err := s.addAccount(ctx, u.ID(), providerID, prof.ID, t, scope, now); err != nil {
					return err
				}
				if err := s.markVerified(ctx, &u, prof, email, now); err != nil {
					return err
				}
				// The sign-in's profile always has a name ("" when the
				// provider gave none), as better-auth fills it in.
				if err := s.updateUserInfo(ctx, &u, prof, true, now); err != nil {
					return err
				}
				out.user = u
			case errors.Is(err, core.ErrUserNotFound):
				if disableSignUp {
					return refuse(errSignUpDisabled)
				}
				if out.user, err = s.createUser(ctx, providerID, prof, email, t, scope, now); err != nil {
					return err
				}
				out.created = true
			default:
				return err
			}
		default:
			return err
		}
		out.session, err = s.d.Auth.IssueSession(ctx, core.SessionGrant{UserID: out.user.ID(), Meta: meta})
		if errors.Is(err, core.ErrFailedToCreateSession) {
			return refuse(errUnableToCreateSess)
		}
		return err
	})
	return out, err
}

// updateUserInfo is better-auth's updateUserInfoOnLink: the provider's name
// (when it gave one, or always for withName) and image onto the user.
func (s *Service) updateUserInfo(ctx context.Context, u *core.User, prof Profile, withName bool, now time.Time) error {
	if !s.c.Linking.UpdateUserInfoOnLink {
		return nil
	}
	if prof.Name != "" || withName {
		u.Rename(prof.Name, now)
	}
	if prof.Image != nil {
		u.SetImage(prof.Image, now)
	}
	return s.d.Users.Update(ctx, *u)
}

// markVerified is better-auth's rule on sign-in: the IdP's verified email,
// when it is the stored one, verifies the user.
func (s *Service) markVerified(ctx context.Context, u *core.User, prof Profile, email string, now time.Time) error {
	if !prof.EmailVerified || u.EmailVerified() || email != u.Email() {
		return nil
	}
	u.MarkEmailVerified(now)
	return s.d.Users.Update(ctx, *u)
}

// addAccount links a new account; scope nil is a NULL column (the idToken
// branch, which has no granted scopes).
func (s *Service) addAccount(ctx context.Context, userID, providerID, subject string, t sealedTokens, scope *string, now time.Time) error {
	id, err := s.d.Auth.NewID()
	if err != nil {
		return err
	}
	sealed, err := s.seal(t)
	if err != nil {
		return err
	}
	acc, err := core.NewOAuthAccount(id, userID, providerID, subject, sealed, scope, now)
	if err != nil {
		return err
	}
	if err := s.d.Accounts.Create(ctx, acc); err != nil {
		if isInfra(err) {
			return err
		}
		return refuse(errUnableToLink)
	}
	return nil
}

func (s *Service) createUser(ctx context.Context, providerID string, prof Profile, email string, t sealedTokens, scope *string, now time.Time) (core.User, error) {
	id, err := s.d.Auth.NewID()
	if err != nil {
		return core.User{}, err
	}
	u, err := core.NewUser(id, prof.Name, email, prof.Image, now)
	if err != nil {
		return core.User{}, refuse(errUnableToCreateUser)
	}
	if prof.EmailVerified {
		u.MarkEmailVerified(now)
	}
	if err := s.d.Users.Create(ctx, u); err != nil {
		if isInfra(err) {
			return core.User{}, err
		}
		return core.User{}, refuse(errUnableToCreateUser)
	}
	if err := s.addAccount(ctx, u.ID(), providerID, prof.ID, t, scope, now); err != nil {
		var r *refusal
		if errors.As(err, &r) {
			return core.User{}, refuse(errUnableToCreateUser)
		}
		return core.User{}, err
	}
	return u, nil
}

// link is better-auth's linkOAuthAccount: the callback of /link-social.
func (s *Service) link(ctx context.Context, providerID string, l linkState, prof Profile, t sealedTokens, scopes []string) error {
	if l.EncryptedSessionToken != "" {
		live, err := s.linkSessionLive(ctx, l)
		if err != nil {
			return err
		}
		if !live {
			return refuse(errUnableToLink)
		}
	}
	if !s.trusted(providerID) && !prof.EmailVerified || !s.c.Linking.Enabled {
		return refuse(errUnableToLink)
	}
	if !strings.EqualFold(prof.Email, l.Email) && !s.c.Linking.AllowDifferentEmails {
		return refuse(errEmailDoesNotMatch)
	}
	return s.d.Tx.WithinTx(ctx, func(ctx context.Context) error {
		now := s.now()
		acc, err := s.d.Accounts.ByProviderAccount(ctx, providerID, prof.ID)
		switch {
		case errors.Is(err, core.ErrAccountNotFound):
			scope := strings.Join(scopes, ",")
			if err := s.addAccount(ctx, l.UserID, providerID, prof.ID, t, &scope, now); err != nil {
				return err
			}
		case err != nil:
			return err
		case acc.UserID() != l.UserID:
			return refuse(errLinkedToOther)
		default:
			sealed, err := s.seal(t)
			if err != nil {
				return err
			}
			acc.SetTokens(sealed, now)
			if merged := mergeScopes(acc.Scope(), scopes); merged != "" {
				acc.SetScope(merged, now)
			}
			if err := s.d.Accounts.Update(ctx, acc); err != nil {
				return err
			}
		}
		return s.linkedUserInfo(ctx, l.UserID, prof, now)
	})
}

// linkedUserInfo applies updateUserInfoOnLink after a link; a failure to
// read the user is better-auth's "the link stands, the profile is not
// copied", except for outages.
func (s *Service) linkedUserInfo(ctx context.Context, userID string, prof Profile, now time.Time) error {
	if !s.c.Linking.UpdateUserInfoOnLink {
		return nil
	}
	u, err := s.d.Users.ByID(ctx, userID)
	if errors.Is(err, core.ErrUserNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	return s.updateUserInfo(ctx, &u, prof, false, now)
}

// linkSessionLive: the session that started the link must still be the
// user's and alive, so that a link cannot outlive a sign-out.
func (s *Service) linkSessionLive(ctx context.Context, l linkState) (bool, error) {
	token, err := s.d.Cipher.OpenLinkSession(l.EncryptedSessionToken)
	if err != nil {
		return false, nil
	}
	sess, _, err := s.d.Sessions.ByToken(ctx, token)
	if errors.Is(err, core.ErrSessionNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return sess.UserID() == l.UserID && sess.ExpiresAt().After(s.now()), nil
}

// mergeScopes is better-auth's union: the stored scopes first, then new ones.
func mergeScopes(stored string, fresh []string) string {
	var out []string
	for _, sc := range append(strings.Split(stored, ","), fresh...) {
		sc = strings.TrimSpace(sc)
		if sc != "" && !slices.Contains(out, sc) {
			out = append(out, sc)
		}
	}
	return strings.Join(out, ",")
}
