package redisstore

import (
	"encoding/json"
	"errors"
	"time"

	"github.com/authd/authd/core"
)

// jsTime is a time as JSON.stringify writes a JS Date: UTC, milliseconds.
type jsTime time.Time

func (t jsTime) MarshalJSON() ([]byte, error) {
	return []byte(`"` + time.Time(t).UTC().Format("2006-01-02T15:04:05.000Z") + `"`), nil
}

func (t *jsTime) UnmarshalJSON(b []byte) error {
	if len(b) < 2 || b[0] != '"' || b[len(b)-1] != '"' {
		return errors.New("redisstore: a date is not a JSON string")
	}
	// A JS ISO date has no escapes: parsing the bytes between the quotes
	// spares the string decoding (get-session reads three dates).
	p, err := time.Parse(time.RFC3339Nano, string(b[1:len(b)-1]))
	*t = jsTime(p.UTC())
	return err
}

func (t jsTime) time() time.Time { return time.Time(t) }

// sessionJSON and userJSON hold better-auth's fields in the order it writes
// them (session and user rows as its Kysely adapter returns them).
type sessionJSON struct {
	ExpiresAt jsTime `json:"expiresAt"`
	Token     string `json:"token"`
	CreatedAt jsTime `json:"createdAt"`
	UpdatedAt jsTime `json:"updatedAt"`
	IPAddress string `json:"ipAddress"`
	UserAgent string `json:"userAgent"`
	UserID    string `json:"userId"`
	ID        string `json:"id"`
}

type userJSON struct {
	Name          string  `json:"name"`
	Email         string  `json:"email"`
	EmailVerified bool    `json:"emailVerified"`
	Image         *string `json:"image"`
	CreatedAt     jsTime  `json:"createdAt"`
	UpdatedAt     jsTime  `json:"updatedAt"`
	// TwoFactorEnabled is there while the twoFactor plugin is on.
	TwoFactorEnabled *bool  `json:"twoFactorEnabled,omitempty"`
	ID               string `json:"id"`
}

// envelope is the value of key <token>. The user stays raw JSON so that a
// rewrite of the session keeps fields other servers' plugins put there.
type envelope struct {
	Session sessionJSON     `json:"session"`
	User    json.RawMessage `json:"user"`
}

// readEnvelope is envelope decoded in one pass, for get-session.
type readEnvelope struct {
	Session sessionJSON `json:"session"`
	User    userJSON    `json:"user"`
}

// listEntry is one element of active-sessions-<userId>.
type listEntry struct {
	Token     string `json:"token"`
	ExpiresAt int64  `json:"expiresAt"` // epoch ms
}

type verificationJSON struct {
	CreatedAt  jsTime `json:"createdAt"`
	UpdatedAt  jsTime `json:"updatedAt"`
	Value      string `json:"value"`
	Identifier string `json:"identifier"`
	ExpiresAt  jsTime `json:"expiresAt"`
}

func toSessionJSON(s core.Session) sessionJSON {
	r := s.Record()
	return sessionJSON{ExpiresAt: jsTime(r.ExpiresAt), Token: r.Token, CreatedAt: jsTime(r.CreatedAt),
		UpdatedAt: jsTime(r.UpdatedAt), IPAddress: r.IPAddress, UserAgent: r.UserAgent, UserID: r.UserID, ID: r.ID}
}

func (j sessionJSON) core() core.Session {
	return core.RehydrateSession(core.SessionRecord{ID: j.ID, Token: j.Token, UserID: j.UserID,
		ExpiresAt: j.ExpiresAt.time(), IPAddress: j.IPAddress, UserAgent: j.UserAgent,
		CreatedAt: j.CreatedAt.time(), UpdatedAt: j.UpdatedAt.time()})
}

// marshalUser writes the user as better-auth's adapter returns the row;
// twoFactor adds the plugin's field.
func marshalUser(u core.User, twoFactor bool) json.RawMessage {
	r := u.Record()
	j := userJSON{Name: r.Name, Email: r.Email, EmailVerified: r.EmailVerified, Image: r.Image,
		CreatedAt: jsTime(r.CreatedAt), UpdatedAt: jsTime(r.UpdatedAt), ID: r.ID}
	if twoFactor {
		j.TwoFactorEnabled = &r.TwoFactorEnabled
	}
	b, _ := json.Marshal(j)
	return b
}

func (j userJSON) core() core.User {
	return core.RehydrateUser(core.UserRecord{ID: j.ID, Name: j.Name, Email: j.Email, EmailVerified: j.EmailVerified,
		Image: j.Image, CreatedAt: j.CreatedAt.time(), UpdatedAt: j.UpdatedAt.time(),
		TwoFactorEnabled: j.TwoFactorEnabled != nil && *j.TwoFactorEnabled})
}

// ttlSeconds is better-auth's getTTLSeconds: whole seconds left, at least 0.
func ttlSeconds(expiresAt, now time.Time) int64 {
	return max(expiresAt.Sub(now).Milliseconds()/1000, 0)
}
