package httpfiber

import (
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/authd/authd/core"
)

// Response bodies are written by hand: the key order and escaping then match
// JavaScript's JSON.stringify byte for byte (no HTML escaping), and the hot
// paths (get-session, sign-in) do not go through reflection.

// jsonDate is Date#toJSON: UTC with exactly three fractional digits.
const jsonDate = "2006-01-02T15:04:05.000Z"

type jw struct{ b []byte }

func (w *jw) raw(s string) *jw { w.b = append(w.b, s...); return w }

func (w *jw) str(s string) *jw {
	w.b = append(w.b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' && c < utf8.RuneSelf {
			i++
			continue
		}
		if c >= utf8.RuneSelf {
			r, size := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && size == 1 {
				w.b = append(w.b, s[start:i]...)
				w.b = append(w.b, `\ufffd`...)
				i += size
				start = i
				continue
			}
			i += size
			continue
		}
		w.b = append(w.b, s[start:i]...)
		switch c {
		case '"':
			w.b = append(w.b, `\"`...)
		case '\\':
			w.b = append(w.b, `\\`...)
		case '\n':
			w.b = append(w.b, `\n`...)
		case '\r':
			w.b = append(w.b, `\r`...)
		case '\t':
			w.b = append(w.b, `\t`...)
		case '\b':
			w.b = append(w.b, `\b`...)
		case '\f':
			w.b = append(w.b, `\f`...)
		default:
			w.b = append(w.b, `\u00`...)
			w.b = append(w.b, "0123456789abcdef"[c>>4], "0123456789abcdef"[c&15])
		}
		i++
		start = i
	}
	w.b = append(w.b, s[start:]...)
	w.b = append(w.b, '"')
	return w
}

func (w *jw) strOrNull(s *string) *jw {
	if s == nil {
		return w.raw("null")
	}
	return w.str(*s)
}

func (w *jw) boolean(v bool) *jw {
	if v {
		return w.raw("true")
	}
	return w.raw("false")
}

func (w *jw) date(t time.Time) *jw {
	w.b = append(w.b, '"')
	w.b = t.UTC().AppendFormat(w.b, jsonDate)
	w.b = append(w.b, '"')
	return w
}

// jsonArray writes items as a JSON array, each by write; per is a guess of
// an item's size.
func jsonArray[T any](items []T, per int, write func(*jw, T) *jw) []byte {
	w := &jw{b: make([]byte, 0, 2+per*len(items))}
	w.raw("[")
	for i, it := range items {
		if i > 0 {
			w.raw(",")
		}
		write(w, it)
	}
	return w.raw("]").b
}

func (w *jw) int(n int) *jw { w.b = strconv.AppendInt(w.b, int64(n), 10); return w }

// user writes better-auth's User object (wire spec §3).
func (w *jw) user(u core.User) *jw {
	w.raw(`{"id":`).str(u.ID()).
		raw(`,"name":`).str(u.Name()).
		raw(`,"email":`).str(u.Email()).
		raw(`,"emailVerified":`).boolean(u.EmailVerified()).
		raw(`,"image":`).strOrNull(u.Image()).
		raw(`,"createdAt":`).date(u.CreatedAt()).
		raw(`,"updatedAt":`).date(u.UpdatedAt())
	return w.raw("}")
}

// session writes better-auth's Session object; unknown ipAddress/userAgent
// are "" as better-auth writes them.
func (w *jw) session(s core.Session) *jw {
	w.raw(`{"id":`).str(s.ID()).
		raw(`,"userId":`).str(s.UserID()).
		raw(`,"token":`).str(s.Token()).
		raw(`,"expiresAt":`).date(s.ExpiresAt()).
		raw(`,"createdAt":`).date(s.CreatedAt()).
		raw(`,"updatedAt":`).date(s.UpdatedAt()).
		raw(`,"ipAddress":`).str(s.IPAddress()).
		raw(`,"userAgent":`).str(s.UserAgent())
	return w.raw("}")
}

// account writes an Account as /list-accounts does: no tokens, no password,
// and the scope column split into "scopes".
func (w *jw) account(a core.Account) *jw {
	w.raw(`{"id":`).str(a.ID()).
		raw(`,"providerId":`).str(a.ProviderID()).
		raw(`,"accountId":`).str(a.AccountID()).
		raw(`,"userId":`).str(a.UserID()).
		raw(`,"createdAt":`).date(a.CreatedAt()).
		raw(`,"updatedAt":`).date(a.UpdatedAt()).
		raw(`,"scopes":[`)
	for i, s := range a.Scopes() {
		if i > 0 {
			w.raw(",")
		}
		w.str(s)
	}
	return w.raw("]}")
}

// errorBody is better-auth's APIError body: {"message","code"}, or only
// {"message"} when code is empty.
func errorBody(message, code string) []byte {
	w := &jw{b: make([]byte, 0, 64+len(message))}
	w.raw(`{"message":`).str(message)
	if code != "" {
		w.raw(`,"code":`).str(code)
	}
	return w.raw("}").b
}
