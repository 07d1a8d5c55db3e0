package core

import "time"

// Session is a server-side login. Its token is the bearer secret that the
// session cookie carries (signed) and that better-auth also returns in JSON.
type Session struct {
	id        string
	token     string
	userID    string
	expiresAt time.Time
	ipAddress string
	userAgent string
	createdAt time.Time
	updatedAt time.Time
}

// SessionRecord is the storage form of a Session (see UserRecord).
type SessionRecord struct {
	ID        string
	Token     string
	UserID    string
	ExpiresAt time.Time
	IPAddress string
	UserAgent string
	CreatedAt time.Time
	UpdatedAt time.Time
}

// NewSession starts a session that lasts ttl from now.
func NewSession(id, token, userID string, now time.Time, ttl time.Duration, ip, userAgent string) (Session, error) {
	if id == "" || token == "" || userID == "" || ttl <= 0 {
		return Session{}, &Error{Kind: KindInternal, Code: "INVALID_SESSION", Message: "incomplete session"}
	}
	return Session{id: id, token: token, userID: userID, expiresAt: now.Add(ttl), ipAddress: ip,
		userAgent: userAgent, createdAt: now, updatedAt: now}, nil
}

// RehydrateSession rebuilds a Session from storage. It is not a constructor.
func RehydrateSession(r SessionRecord) Session {
	return Session{id: r.ID, token: r.Token, userID: r.UserID, expiresAt: r.ExpiresAt, ipAddress: r.IPAddress,
		userAgent: r.UserAgent, createdAt: r.CreatedAt, updatedAt: r.UpdatedAt}
}

func (s Session) Record() SessionRecord {
	return SessionRecord{ID: s.id, Token: s.token, UserID: s.userID, ExpiresAt: s.expiresAt, IPAddress: s.ipAddress,
		UserAgent: s.userAgent, CreatedAt: s.createdAt, UpdatedAt: s.updatedAt}
}

func (s Session) ID() string           { return s.id }
func (s Session) Token() string        { return s.token }
func (s Session) UserID() string       { return s.userID }
func (s Session) ExpiresAt() time.Time { return s.expiresAt }
func (s Session) IPAddress() string    { return s.ipAddress }
func (s Session) UserAgent() string    { return s.userAgent }
func (s Session) CreatedAt() time.Time { return s.createdAt }
func (s Session) UpdatedAt() time.Time { return s.updatedAt }

// Expired reports whether the session is over; better-auth treats
// expiresAt < now as expired.
func (s Session) Expired(now time.Time) bool { return s.expiresAt.Before(now) }

// NeedsRefresh is better-auth's sliding rule: refresh once updateAge has passed
// since the expiry was last set (expiresAt - expiresIn + updateAge <= now).
func (s Session) NeedsRefresh(now time.Time, expiresIn, updateAge time.Duration) bool {
	return !s.expiresAt.Add(-expiresIn).Add(updateAge).After(now)
}

// Fresh reports whether the sign-in is recent enough for sensitive actions.
// createdAt never moves, so freshness is measured from sign-in.
func (s Session) Fresh(now time.Time, freshAge time.Duration) bool {
	return freshAge <= 0 || now.Sub(s.createdAt) < freshAge
}

// Extend slides the expiry to now + expiresIn.
func (s *Session) Extend(now time.Time, expiresIn time.Duration) {
	s.expiresAt = now.Add(expiresIn)
	s.updatedAt = now
}
