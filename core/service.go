package core

import (
	"context"
	"errors"
	"strings"
	"sync"
	"time"
)

// Auth is the email-and-password auth engine: better-auth 1.7's flows over the
// ports in Deps, with the rules in Policy. It is safe for concurrent use.
type Auth struct {
	d       Deps
	p       Policy
	baseURL string
	randMu  sync.Mutex
}

// NewAuth builds the engine. Deps must be complete; Policy is used as given
// (start from DefaultPolicy).
func NewAuth(d Deps, p Policy) *Auth {
	return &Auth{d: d, p: p, baseURL: strings.TrimRight(p.BaseURL, "/")}
}

// RequestMeta is what a new session records about the client, and what the
// failed-password throttle tells clients apart by: the network of IP, and
// Device.
type RequestMeta struct {
	IP, UserAgent string
	Device        KnownDevice
}

// KnownDevice is the HTTP adapter's word that the client is a browser that
// signed in as UserID before (it holds a device cookie the adapter signed).
// ID names that browser; it is opaque to the engine, which only counts
// failures under it. The zero value is an unknown client.
type KnownDevice struct{ UserID, ID string }

// AuthResult is a user with the session just created for them; Session is nil
// when none was created, as when Gate holds a second-factor challenge.
type AuthResult struct {
	User    User
	Session *Session
	Gate    SignInGate
}

// SessionView is a live session with its user, as read from storage.
type SessionView struct {
	Session Session
	User    User
}

func (a *Auth) now() time.Time { return a.d.Clock.Now() }

// SessionGrant is what a proof of identity entitles its user to: a session
// for UserID, short-lived when DontRemember (rememberMe=false), recording
// the client in Meta.
type SessionGrant struct {
	UserID       string
	DontRemember bool
	Meta         RequestMeta
}

// IssueSession is the one step that makes a session. Every way of signing in
// (password, sign-up, change-password's fresh session, and the flows of other
// core packages) ends here, so that lifetimes, the token format and what
// storing one may fail with are decided in one place. Call it inside the
// transaction that re-checks the proof (ctx carries it), so that the proof
// and the session commit together or not at all. A token collision or a user
// deleted meanwhile is better-auth's FAILED_TO_CREATE_SESSION;
// infrastructure errors pass as they are.
func (a *Auth) IssueSession(ctx context.Context, g SessionGrant) (Session, error) {
	id, err := a.newID()
	if err != nil {
		return Session{}, err
	}
	token, err := a.randomString(idLength, alphanumeric)
	if err != nil {
		return Session{}, err
	}
	ttl := a.p.SessionExpiresIn
	if g.DontRemember {
		ttl = a.p.DontRememberExpiresIn
	}
	s, err := NewSession(id, token, g.UserID, a.now(), ttl, g.Meta.IP, g.Meta.UserAgent)
	if err != nil {
		return Session{}, err
	}
	err = a.d.Sessions.Create(ctx, s)
	if errors.Is(err, ErrDuplicate) || errors.Is(err, ErrUserNotFound) {
		return Session{}, ErrFailedToCreateSession.With(err)
	}
	if err != nil {
		return Session{}, err
	}
	return s, nil
}
