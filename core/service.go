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
// when none was created.
type AuthResult struct {
	User    User
	Session *Session
}

// SessionView is a live session with its user, as read from storage.
type SessionView struct {
	Session Session
	User    User
}

func (a *Auth) now() time.Time { return a.d.Clock.Now() }

// newSession mints a session for userID; dontRemember selects the short
// lifetime of rememberMe=false.
func (a *Auth) newSession(userID string, dontRemember bool, meta RequestMeta) (Session, error) {
	id, err := a.newID()
	if err != nil {
		return Session{}, err
	}
	token, err := a.randomString(idLength, alphanumeric)
	if err != nil {
		return Session{}, err
	}
	ttl := a.p.SessionExpiresIn
	if dontRemember {
		ttl = a.p.DontRememberExpiresIn
	}
	return NewSession(id, token, userID, a.now(), ttl, meta.IP, meta.UserAgent)
}

// createSession stores s. A token collision or a user deleted in the meantime
// is better-auth's FAILED_TO_CREATE_SESSION; infrastructure errors pass as
// they are.
func (a *Auth) createSession(ctx context.Context, s Session) error {
	err := a.d.Sessions.Create(ctx, s)
	if errors.Is(err, ErrDuplicate) || errors.Is(err, ErrUserNotFound) {
		return ErrFailedToCreateSession.With(err)
	}
	return err
}
