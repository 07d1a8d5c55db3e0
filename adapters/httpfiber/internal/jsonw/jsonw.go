// Package jsonw writes response bodies by hand: the key order and escaping
// then match JavaScript's JSON.stringify byte for byte (no HTML escaping),
// and the hot paths (get-session, sign-in) do not go through reflection. It
// also holds better-auth's User, Session and Account serialisations.
package jsonw

import (
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/authd/authd/core"
)

// jsonDate is Date#toJSON: UTC with exactly three fractional digits.
const jsonDate = "2006-01-02T15:04:05.000Z"

// W is a JSON writer; B is the text written so far. TwoFactor adds the
// twoFactor plugin's field to every User written (endpoint.Env.JSON sets it
// while the plugin is on).
type W struct {
	B         []byte
	TwoFactor bool
}

// New returns a writer with room for size bytes.
func New(size int) *W { return &W{B: make([]byte, 0, size)} }

// Raw appends s as it is.
func (w *W) Raw(s string) *W { w.B = append(w.B, s...); return w }

// Str appends s as a JSON string, escaped like JSON.stringify (lone bad bytes
// become \ufffd).
func (w *W) Str(s string) *W {
	w.B = append(w.B, '"')
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
				w.B = append(w.B, s[start:i]...)
				w.B = append(w.B, `\ufffd`...)
				i += size
				start = i
				continue
			}
			i += size
			continue
		}
		w.B = append(w.B, s[start:i]...)
		switch c {
		case '"':
			w.B = append(w.B, `\"`...)
		case '\\':
			w.B = append(w.B, `\\`...)
		case '\n':
			w.B = append(w.B, `\n`...)
		case '\r':
			w.B = append(w.B, `\r`...)
		case '\t':
			w.B = append(w.B, `\t`...)
		case '\b':
			w.B = append(w.B, `\b`...)
		case '\f':
			w.B = append(w.B, `\f`...)
		default:
			w.B = append(w.B, `\u00`...)
			w.B = append(w.B, "0123456789abcdef"[c>>4], "0123456789abcdef"[c&15])
		}
		i++
		start = i
	}
	w.B = append(w.B, s[start:]...)
	w.B = append(w.B, '"')
	return w
}

func (w *W) StrOrNull(s *string) *W {
	if s == nil {
		return w.Raw("null")
	}
	return w.Str(*s)
}

func (w *W) Bool(v bool) *W {
	if v {
		return w.Raw("true")
	}
	return w.Raw("false")
}

func (w *W) Date(t time.Time) *W {
	w.B = append(w.B, '"')
	w.B = t.UTC().AppendFormat(w.B, jsonDate)
	w.B = append(w.B, '"')
	return w
}

// Array writes items as a JSON array, each by write; per is a guess of
// an item's size.
func Array[T any](items []T, per int, write func(*W, T) *W) []byte {
	w := &W{B: make([]byte, 0, 2+per*len(items))}
	w.Raw("[")
	for i, it := range items {
		if i > 0 {
			w.Raw(",")
		}
		write(w, it)
	}
	return w.Raw("]").B
}

func (w *W) Int(n int) *W { w.B = strconv.AppendInt(w.B, int64(n), 10); return w }

// User writes better-auth's User object (wire spec §3).
func (w *W) User(u core.User) *W {
	w.Raw(`{"id":`).Str(u.ID()).
		Raw(`,"name":`).Str(u.Name()).
		Raw(`,"email":`).Str(u.Email()).
		Raw(`,"emailVerified":`).Bool(u.EmailVerified()).
		Raw(`,"image":`).StrOrNull(u.Image()).
		Raw(`,"createdAt":`).Date(u.CreatedAt()).
		Raw(`,"updatedAt":`).Date(u.UpdatedAt())
	if w.TwoFactor {
		w.Raw(`,"twoFactorEnabled":`).Bool(u.TwoFactorEnabled())
	}
	return w.Raw("}")
}

// Session writes better-auth's Session object; unknown ipAddress/userAgent
// are "" as better-auth writes them.
func (w *W) Session(s core.Session) *W {
	w.Raw(`{"id":`).Str(s.ID()).
		Raw(`,"userId":`).Str(s.UserID()).
		Raw(`,"token":`).Str(s.Token()).
		Raw(`,"expiresAt":`).Date(s.ExpiresAt()).
		Raw(`,"createdAt":`).Date(s.CreatedAt()).
		Raw(`,"updatedAt":`).Date(s.UpdatedAt()).
		Raw(`,"ipAddress":`).Str(s.IPAddress()).
		Raw(`,"userAgent":`).Str(s.UserAgent())
	return w.Raw("}")
}

// Account writes an Account as /list-accounts does: no tokens, no password,
// and the scope column split into "scopes".
func (w *W) Account(a core.Account) *W {
	w.Raw(`{"id":`).Str(a.ID()).
		Raw(`,"providerId":`).Str(a.ProviderID()).
		Raw(`,"accountId":`).Str(a.AccountID()).
		Raw(`,"userId":`).Str(a.UserID()).
		Raw(`,"createdAt":`).Date(a.CreatedAt()).
		Raw(`,"updatedAt":`).Date(a.UpdatedAt()).
		Raw(`,"scopes":[`)
	for i, s := range a.Scopes() {
		if i > 0 {
			w.Raw(",")
		}
		w.Str(s)
	}
	return w.Raw("]}")
}

// ErrorBody is better-auth's APIError body: {"message","code"}, or only
// {"message"} when code is empty.
func ErrorBody(message, code string) []byte {
	w := &W{B: make([]byte, 0, 64+len(message))}
	w.Raw(`{"message":`).Str(message)
	if code != "" {
		w.Raw(`,"code":`).Str(code)
	}
	return w.Raw("}").B
}
