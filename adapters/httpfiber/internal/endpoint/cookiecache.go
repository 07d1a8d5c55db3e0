package endpoint

import (
	"bytes"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/authd/authd/adapters/httpfiber/internal/cookie"
	"github.com/authd/authd/core"
)

// The cookie cache is better-auth's session.cookieCache with its default
// "compact" strategy (wire spec §5.4): the session and user, signed, in the
// session_data cookie, so that get-session can answer without the database
// until the cookie's own expiry. A revoked session therefore stays visible to
// get-session for up to MaxAge; routes that act on a session always read the
// database.
const (
	// maxCookieSize is better-auth's per-cookie byte ceiling (Safari's
	// ~4093 floor, less room for attributes); longer values are chunked
	// into name.0, name.1, ...
	maxCookieSize   = 4050
	maxCookieChunks = 100
	// maxCacheValue bounds the cache's value; a larger session (a long name,
	// a data-URL image) is not cached. better-auth would chunk up to 100
	// cookies, some 400 KB, but the browser sends them all back and this
	// server reads at most readBufferSize (8 KiB) of request line and
	// headers: past that, every request from that browser fails with 431.
	// 5 KiB, at most two chunks, leaves 3 KiB for the request line, the
	// session cookie and a browser's usual headers (1 to 2 KiB).
	maxCacheValue = 5 << 10
	// dontRememberCacheAge is the cache's lifetime when the session cookie
	// itself dies with the browser: better-auth then sets no Max-Age and
	// signs an expiry 60 s ahead.
	dontRememberCacheAge = 60 * time.Second
)

var b64url = base64.RawURLEncoding

// encodeSessionData builds the compact cookie:
// base64url({"session":<data>,"expiresAt":<ms>,"signature":<mac>}), where
// data is {"session":...,"user":...,"updatedAt":<ms>,"version":...} and mac
// is base64url(HMAC-SHA256(secret, data with "expiresAt" appended)). The
// JSON is JavaScript's JSON.stringify output byte for byte, since better-auth
// verifies by re-serialising what it parsed.
func (e *Env) encodeSessionData(v core.SessionView, now time.Time, expiresAt time.Time) string {
	w := e.JSON(1024)
	w.Raw(`{"session":`).Session(v.Session).Raw(`,"user":`).User(v.User).
		Raw(`,"updatedAt":`).Int(int(now.UnixMilli())).Raw(`,"version":`).Str(e.CookieCacheVersion).Raw("}")
	data := w.B
	exp := expiresAt.UnixMilli()
	sig := e.sessionDataMAC(data, exp)

	out := make([]byte, 0, len(data)+96)
	out = append(out, `{"session":`...)
	out = append(out, data...)
	out = append(out, `,"expiresAt":`...)
	out = strconv.AppendInt(out, exp, 10)
	out = append(out, `,"signature":"`...)
	out = append(out, sig...)
	out = append(out, `"}`...)
	return b64url.EncodeToString(out)
}

// sessionDataMAC signs JSON.stringify({...data, expiresAt}): data's object
// with the member appended before its closing brace.
func (e *Env) sessionDataMAC(data []byte, expiresAt int64) []byte {
	msg := make([]byte, 0, len(data)+32)
	msg = append(msg, data[:len(data)-1]...)
	msg = append(msg, `,"expiresAt":`...)
	msg = strconv.AppendInt(msg, expiresAt, 10)
	msg = append(msg, '}')
	var sum [sha256.Size]byte
	mac := e.Cookies.MAC(sum[:0], msg)
	return b64url.AppendEncode(nil, mac)
}

type cachedSession struct {
	ID        string  `json:"id"`
	UserID    string  `json:"userId"`
	Token     string  `json:"token"`
	ExpiresAt string  `json:"expiresAt"`
	CreatedAt string  `json:"createdAt"`
	UpdatedAt string  `json:"updatedAt"`
	IPAddress *string `json:"ipAddress"`
	UserAgent *string `json:"userAgent"`
}

type cachedUser struct {
	ID            string  `json:"id"`
	Name          string  `json:"name"`
	Email         string  `json:"email"`
	EmailVerified bool    `json:"emailVerified"`
	Image         *string `json:"image"`
	CreatedAt     string  `json:"createdAt"`
	UpdatedAt     string  `json:"updatedAt"`
	// The twoFactor plugin's field; absent while it is off.
	TwoFactorEnabled bool `json:"twoFactorEnabled"`
}

// decodeSessionData returns the session a session_data cookie holds if its
// signature is ours, it belongs to token, its version is the configured one,
// and neither it nor the session has expired; better-auth's checks.
func (e *Env) decodeSessionData(value, token string, now time.Time) (core.SessionView, bool) {
	raw, err := b64url.DecodeString(strings.TrimRight(value, "="))
	if err != nil {
		return core.SessionView{}, false
	}
	session, exp, sig, ok := splitCompact(raw)
	if !ok {
		return core.SessionView{}, false
	}
	// The signature is checked before any JSON parsing: input nobody signed
	// never reaches the decoder.
	if subtle.ConstantTimeCompare(e.sessionDataMAC(session, exp), sig) != 1 {
		return core.SessionView{}, false
	}

	var data struct {
		Session   *cachedSession `json:"session"`
		User      *cachedUser    `json:"user"`
		UpdatedAt *float64       `json:"updatedAt"`
		Version   *string        `json:"version"`
	}
	if json.Unmarshal(session, &data) != nil || data.Session == nil || data.User == nil || data.UpdatedAt == nil {
		return core.SessionView{}, false
	}
	version := "1"
	if data.Version != nil && *data.Version != "" {
		version = *data.Version
	}
	if data.Session.Token != token || version != e.CookieCacheVersion || exp < now.UnixMilli() {
		return core.SessionView{}, false
	}
	sess, user := data.Session, data.User
	var times [5]time.Time
	for i, v := range []string{sess.ExpiresAt, sess.CreatedAt, sess.UpdatedAt, user.CreatedAt, user.UpdatedAt} {
		if times[i], err = time.Parse(time.RFC3339Nano, v); err != nil {
			return core.SessionView{}, false
		}
	}
	if times[0].Before(now) || sess.ID == "" || sess.UserID == "" || user.ID != sess.UserID || user.Email == "" {
		return core.SessionView{}, false
	}
	return core.SessionView{
		Session: core.RehydrateSession(core.SessionRecord{ID: sess.ID, Token: sess.Token, UserID: sess.UserID,
			ExpiresAt: times[0], CreatedAt: times[1], UpdatedAt: times[2],
			IPAddress: deref(sess.IPAddress), UserAgent: deref(sess.UserAgent)}),
		User: core.RehydrateUser(core.UserRecord{ID: user.ID, Name: user.Name, Email: user.Email,
			EmailVerified: user.EmailVerified, Image: user.Image, CreatedAt: times[3], UpdatedAt: times[4],
			TwoFactorEnabled: user.TwoFactorEnabled}),
	}, true
}

// splitCompact takes apart {"session":<data>,"expiresAt":<n>,"signature":"<mac>"},
// the layout JSON.stringify gives the compact cookie (key order included),
// without parsing data: the last ',"expiresAt":' and ',"signature":"' are
// the outer ones, since data is one JSON object before them and such text
// cannot occur unescaped inside its strings. n must be a plain integer, as
// JavaScript prints one.
func splitCompact(raw []byte) (session []byte, expiresAt int64, sig []byte, ok bool) {
	const head, expKey, sigKey = `{"session":`, `,"expiresAt":`, `,"signature":"`
	if !bytes.HasPrefix(raw, []byte(head)) || !bytes.HasSuffix(raw, []byte(`"}`)) {
		return nil, 0, nil, false
	}
	body := raw[len(head) : len(raw)-2]
	i := bytes.LastIndex(body, []byte(sigKey))
	if i < 0 {
		return nil, 0, nil, false
	}
	body, sig = body[:i], body[i+len(sigKey):]
	j := bytes.LastIndex(body, []byte(expKey))
	if j < 0 {
		return nil, 0, nil, false
	}
	session, num := body[:j], string(body[j+len(expKey):])
	n, err := strconv.ParseInt(num, 10, 64)
	if err != nil || strconv.FormatInt(n, 10) != num || len(session) < 2 || session[0] != '{' || session[len(session)-1] != '}' {
		return nil, 0, nil, false
	}
	return session, n, sig, true
}

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

// readSessionData returns the session_data cookie, joined from its chunks
// when it was split.
func (e *Env) readSessionData(header string) (string, bool) {
	name := e.Cookies.Name(cookie.SessionData)
	if v, ok := cookie.Value(header, name); ok && v != "" {
		return v, true
	}
	type chunk struct {
		i int
		v string
	}
	var chunks []chunk
	cookie.Each(header, func(n, raw string) bool {
		if i, ok := chunkIndex(name, n); ok {
			chunks = append(chunks, chunk{i, cookie.Text(raw)})
		}
		return len(chunks) < maxCookieChunks
	})
	if len(chunks) == 0 {
		return "", false
	}
	// Few chunks, usually two: insertion sort keeps it allocation-free.
	for i := 1; i < len(chunks); i++ {
		for j := i; j > 0 && chunks[j].i < chunks[j-1].i; j-- {
			chunks[j], chunks[j-1] = chunks[j-1], chunks[j]
		}
	}
	var b strings.Builder
	for _, c := range chunks {
		b.WriteString(c.v)
	}
	return b.String(), true
}

// sessionDataNames lists the session_data cookie and its chunks present in
// the request, in header order.
func (e *Env) sessionDataNames(header string) []string {
	name := e.Cookies.Name(cookie.SessionData)
	var names []string
	cookie.Each(header, func(n, _ string) bool {
		if _, ok := chunkIndex(name, n); ok || n == name {
			names = append(names, n)
		}
		return true
	})
	return names
}

// chunkIndex parses "<name>.<i>", i a canonical non-negative integer.
func chunkIndex(name, n string) (int, bool) {
	suffix, ok := strings.CutPrefix(n, name+".")
	if !ok {
		return 0, false
	}
	i, err := strconv.Atoi(suffix)
	if err != nil || i < 0 || strconv.Itoa(i) != suffix {
		return 0, false
	}
	return i, true
}

// SetCookieCache is better-auth's setCookieCache: it writes v into
// session_data (chunked when too long for one cookie) and expires chunks of
// an earlier, longer value. A "don't remember" session gets a browser-session
// cookie whose signed expiry is 60 s ahead.
func (e *Env) SetCookieCache(c *fiber.Ctx, v core.SessionView, dontRemember bool) {
	if e.CookieCacheMaxAge <= 0 {
		return
	}
	now := e.Clock.Now()
	maxAge, age := int(e.CookieCacheMaxAge/time.Second), e.CookieCacheMaxAge
	if dontRemember {
		maxAge, age = -1, dontRememberCacheAge
	}
	value := e.encodeSessionData(v, now, now.Add(age))

	// An earlier cache goes either way: replaced, or stale once not cached.
	e.ExpireSessionData(c, string(c.Request().Header.Peek(fiber.HeaderCookie)))
	if len(value) > maxCacheValue {
		e.Log.LogAttrs(c.UserContext(), slog.LevelDebug, "session too large for the cookie cache; not cached",
			slog.Int("bytes", len(value)))
		return
	}
	name := e.Cookies.Name(cookie.SessionData)
	size := maxCookieSize - len(e.Cookies.SetCookie(name+".99", "", maxAge))
	if len(value) <= size {
		e.PutCookie(c, cookie.SessionData, value, maxAge)
		return
	}
	for i := 0; i*size < len(value); i++ {
		e.PutCookie(c, cookie.SessionData+"."+strconv.Itoa(i), value[i*size:min((i+1)*size, len(value))], maxAge)
	}
}

// ExpireSessionData expires every session_data cookie and chunk the request's
// Cookie header carries; a value written after it replaces the expiry of
// its own name.
func (e *Env) ExpireSessionData(c *fiber.Ctx, header string) {
	h := &c.Response().Header
	for _, n := range e.sessionDataNames(header) {
		h.DelCookie(n)
		h.Add(fiber.HeaderSetCookie, e.Cookies.SetCookie(n, "", 0))
	}
}

// CachedSession is get-session's cookie-cache read: the session the
// request's session_data cookie holds for the verified token, if valid. An
// invalid cache cookie is expired.
func (e *Env) CachedSession(c *fiber.Ctx, cs CookieState) (core.SessionView, bool) {
	raw, ok := e.readSessionData(cs.Header)
	if !ok {
		return core.SessionView{}, false
	}
	if v, ok := e.decodeSessionData(raw, cs.Token, e.Clock.Now()); ok {
		return v, true
	}
	e.PutCookie(c, cookie.SessionData, "", 0)
	return core.SessionView{}, false
}
