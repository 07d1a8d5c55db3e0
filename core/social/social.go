package social

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/authd/authd/core"
)

// Deps are the ports the flow drives; Auth issues the sessions.
type Deps struct {
	Auth          *core.Auth
	Users         core.UserRepository
	Sessions      core.SessionRepository
	Accounts      core.AccountRepository
	Verifications core.VerificationRepository
	Tx            core.Transactor
	Clock         core.Clock
	Cipher        Cipher
}

// Config is better-auth's account options that matter here, with its
// defaults being the zero value except Linking.Enabled.
type Config struct {
	// BaseURL is the public URL of the auth routes (…/api/auth): the
	// redirect_uri is BaseURL/callback/<id>, errors go to BaseURL/error.
	BaseURL string
	Linking Linking
	// EncryptTokens is encryptOAuthTokens: access and refresh tokens are
	// stored sealed (Cipher.SealToken); id_tokens never are.
	EncryptTokens bool
}

// Linking is account.accountLinking.
type Linking struct {
	Enabled              bool
	TrustedProviders     []string
	AllowDifferentEmails bool
	AllowUnlinkingAll    bool
	// UpdateUserInfoOnLink copies a newly linked provider account's name
	// and image onto the user (never the email or its verification).
	UpdateUserInfoOnLink bool
}

// Service runs the flows. It is safe for concurrent use.
type Service struct {
	d         Deps
	c         Config
	base      string
	providers map[string]Provider
}

// New builds the service over providers, keyed by provider id.
func New(d Deps, c Config, providers map[string]Provider) *Service {
	return &Service{d: d, c: c, base: strings.TrimRight(c.BaseURL, "/"), providers: providers}
}

// Flow timings and sizes, as better-auth has them.
const (
	stateTTL         = 10 * time.Minute
	stateLength      = 32
	nonceLength      = 32
	verifierLength   = 128
	stateIdentPrefix = "auth-state:"
	refreshMargin    = 5 * time.Second
)

// reservedParams may not be set through additionalParams: they carry the
// flow's own bindings.
var reservedParams = []string{"state", "client_id", "redirect_uri", "response_type",
	"code_challenge", "code_challenge_method", "nonce", "scope"}

func (s *Service) now() time.Time { return s.d.Clock.Now() }

func (s *Service) redirectURI(providerID string) string { return s.base + "/callback/" + providerID }

func (s *Service) trusted(providerID string) bool {
	return slices.Contains(s.c.Linking.TrustedProviders, providerID)
}

// provider returns a usable provider, or ok false when it is not
// configured or cannot be reached for its description.
func (s *Service) provider(ctx context.Context, id string) (Provider, Info, bool) {
	p, ok := s.providers[id]
	if !ok {
		return nil, Info{}, false
	}
	info, err := p.Describe(ctx)
	if err != nil {
		return nil, Info{}, false
	}
	return p, info, true
}

// CodeChallenge is PKCE S256 of verifier, for the providers' URLs.
func CodeChallenge(verifier string) string {
	sum := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// StartInput is the body of /sign-in/social and /link-social (redirect
// branch). The HTTP adapter has already checked the callback URLs' origins.
type StartInput struct {
	ProviderID                                        string
	CallbackURL, NewUserCallbackURL, ErrorCallbackURL string
	LoginHint                                         string
	Scopes                                            []string
	RequestSignUp                                     *bool
	Params                                            []Param
	AdditionalData                                    map[string]any
}

// Started is an authorization redirect to answer with; State goes into the
// signed state cookie.
type Started struct {
	URL, State string
}

// StartSignIn begins a sign-in: a state row, then the provider's URL.
func (s *Service) StartSignIn(ctx context.Context, in StartInput) (Started, error) {
	return s.start(ctx, in, nil)
}

// StartLink begins linking a provider account to the signed-in user of v.
func (s *Service) StartLink(ctx context.Context, v core.SessionView, in StartInput) (Started, error) {
	sealed, err := s.d.Cipher.SealLinkSession(v.Session.Token())
	if err != nil {
		return Started{}, err
	}
	return s.start(ctx, in, &linkState{UserID: v.User.ID(), Email: v.User.Email(), EncryptedSessionToken: sealed})
}

func (s *Service) start(ctx context.Context, in StartInput, link *linkState) (Started, error) {
	// better-auth refuses reserved parameters in its body schema, before
	// it looks the provider up.
	for _, prm := range in.Params {
		if slices.Contains(reservedParams, prm.Key) {
			return Started{}, ErrReservedParam
		}
	}
	p, info, ok := s.provider(ctx, in.ProviderID)
	if !ok {
		return Started{}, ErrProviderNotFound
	}
	var err error
	f := flowState{CallbackURL: in.CallbackURL, ErrorURL: in.ErrorCallbackURL, NewUserURL: in.NewUserCallbackURL,
		RequestSignUp: in.RequestSignUp, Link: link, Extra: in.AdditionalData}
	if f.CallbackURL == "" {
		f.CallbackURL = origin(s.base)
	}
	if info.RequiresNonce {
		if f.IDTokenNonce, err = s.d.Auth.RandomString(nonceLength); err != nil {
			return Started{}, err
		}
	}
	if f.CodeVerifier, err = s.d.Auth.RandomString(verifierLength); err != nil {
		return Started{}, err
	}
	state, err := s.saveState(ctx, f)
	if err != nil {
		return Started{}, err
	}
	u, err := p.AuthorizationURL(ctx, AuthorizationRequest{State: state, CodeVerifier: f.CodeVerifier,
		Nonce: f.IDTokenNonce, RedirectURI: s.redirectURI(in.ProviderID), LoginHint: in.LoginHint,
		Scopes: in.Scopes, Params: in.Params})
	if err != nil {
		return Started{}, err
	}
	return Started{URL: u, State: state}, nil
}

// origin is better-auth's default callbackURL: the base URL's origin.
func origin(base string) string {
	u, err := url.Parse(base)
	if err != nil || u.Host == "" {
		return base
	}
	return u.Scheme + "://" + u.Host
}

// isInfra tells store failures, which must surface as themselves (503),
// from the flow's refusals.
func isInfra(err error) bool {
	var ce *core.Error
	return !errors.As(err, &ce) || ce.Kind == core.KindUnavailable || ce.Kind == core.KindInternal
}
