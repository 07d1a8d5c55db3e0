// Package body decodes request bodies and query strings strictly and binds
// them to typed input structs, validating on the way with the messages of
// the zod schemas behind better-auth's endpoints (see Compile).
package body

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"

	"github.com/authd/authd/adapters/httpfiber/internal/apierror"
	"github.com/authd/authd/core/jsuri"
)

// Request bodies and query strings are first decoded into a small generic
// tree (map[string]any, []any, string, bool, nil, json.Number), which the
// origin checks and the schemas then read. Decoding is strict: anything
// ambiguous or dangerous for storage is a 400 here rather than a 500 later.

// MaxDepth caps nesting; auth bodies are flat, so 32 is generous and
// keeps a "[[[[..." body from costing anything.
const MaxDepth = 32

var (
	ErrInvalidJSON = apierror.BadRequest("BAD_REQUEST", "Invalid JSON in request body")
	ErrInvalidForm = apierror.BadRequest("BAD_REQUEST", "Invalid form data in request body")
	ErrInvalidURL  = apierror.BadRequest("BAD_REQUEST", "Invalid query string")
)

const (
	mediaJSON = "application/json"
	mediaForm = "application/x-www-form-urlencoded"
)

// Body is a decoded request body; Present is false when the request had
// none (JavaScript's undefined).
type Body struct {
	Present bool
	V       any
}

// Object is the body when it is a JSON object (or a form), else nil.
func (b Body) Object() map[string]any {
	m, _ := b.V.(map[string]any)
	return m
}

// Read checks the media type the way better-call does and decodes the
// body. Form bodies are accepted only when allowForm is set (sign-in and
// sign-up).
func Read(c *fiber.Ctx, allowForm bool) (Body, error) {
	data := c.Body()
	if len(data) == 0 {
		return Body{}, nil
	}
	allowed := []string{mediaJSON}
	if allowForm {
		allowed = []string{mediaForm, mediaJSON}
	}
	ct := string(c.Request().Header.ContentType())
	mt, _, _ := strings.Cut(strings.ToLower(ct), ";")
	mt = strings.TrimSpace(mt)
	switch {
	case mt == mediaJSON:
		v, err := DecodeJSON(data)
		if err != nil {
			return Body{}, err
		}
		return Body{Present: true, V: v}, nil
	case mt == mediaForm && allowForm:
		v, err := DecodeForm(data)
		if err != nil {
			return Body{}, err
		}
		return Body{Present: true, V: v}, nil
	case ct == "":
		return Body{}, apierror.New(fiber.StatusUnsupportedMediaType, "UNSUPPORTED_MEDIA_TYPE",
			"Content-Type is required. Allowed types: "+strings.Join(allowed, ", "))
	default:
		return Body{}, apierror.New(fiber.StatusUnsupportedMediaType, "UNSUPPORTED_MEDIA_TYPE",
			`Content-Type "`+ct+`" is not allowed. Allowed types: `+strings.Join(allowed, ", "))
	}
}

// DecodeJSON parses exactly one JSON value. It rejects invalid UTF-8,
// duplicate object keys, NUL characters in strings and nesting deeper than
// MaxDepth, none of which JSON.parse would catch but all of which would
// otherwise reach the database or the logs.
func DecodeJSON(data []byte) (any, error) {
	if !utf8.Valid(data) {
		return nil, ErrInvalidJSON
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	v, err := jsonValue(dec, 0)
	if err != nil {
		return nil, ErrInvalidJSON
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, ErrInvalidJSON
	}
	return v, nil
}

var errJSONShape = errors.New("json shape")

func jsonValue(dec *json.Decoder, depth int) (any, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	switch t := tok.(type) {
	case json.Delim:
		if depth >= MaxDepth {
			return nil, errJSONShape
		}
		switch t {
		case '{':
			m := map[string]any{}
			for dec.More() {
				kt, err := dec.Token()
				if err != nil {
					return nil, err
				}
				k, ok := kt.(string)
				if !ok || strings.IndexByte(k, 0) >= 0 {
					return nil, errJSONShape
				}
				if _, dup := m[k]; dup {
					return nil, errJSONShape
				}
				v, err := jsonValue(dec, depth+1)
				if err != nil {
					return nil, err
				}
				m[k] = v
			}
			if _, err := dec.Token(); err != nil {
				return nil, err
			}
			return m, nil
		case '[':
			a := []any{}
			for dec.More() {
				v, err := jsonValue(dec, depth+1)
				if err != nil {
					return nil, err
				}
				a = append(a, v)
			}
			if _, err := dec.Token(); err != nil {
				return nil, err
			}
			return a, nil
		}
		return nil, errJSONShape
	case string:
		if strings.IndexByte(t, 0) >= 0 {
			return nil, errJSONShape
		}
		return t, nil
	default:
		return t, nil
	}
}

// DecodeForm parses application/x-www-form-urlencoded strictly: every escape
// must be well formed, the result UTF-8 without NUL, and no name may repeat.
func DecodeForm(data []byte) (map[string]any, error) {
	m := map[string]any{}
	for _, part := range strings.Split(string(data), "&") {
		if part == "" {
			continue
		}
		rk, rv, _ := strings.Cut(part, "=")
		k, ok1 := jsuri.DecodeURIComponent(strings.ReplaceAll(rk, "+", " "))
		v, ok2 := jsuri.DecodeURIComponent(strings.ReplaceAll(rv, "+", " "))
		if !ok1 || !ok2 || !utf8.ValidString(k) || !utf8.ValidString(v) ||
			strings.IndexByte(k, 0) >= 0 || strings.IndexByte(v, 0) >= 0 {
			return nil, ErrInvalidForm
		}
		if _, dup := m[k]; dup {
			return nil, ErrInvalidForm
		}
		m[k] = v
	}
	return m, nil
}

// ReadQuery parses the query string like URLSearchParams into better-call's
// shape: a repeated name becomes an array of strings.
func ReadQuery(c *fiber.Ctx) (map[string]any, error) {
	q := map[string]any{}
	for _, p := range jsuri.ParseForm(string(c.Request().URI().QueryString())) {
		if strings.IndexByte(p.Key, 0) >= 0 || strings.IndexByte(p.Value, 0) >= 0 {
			return nil, ErrInvalidURL
		}
		switch prev := q[p.Key].(type) {
		case nil:
			q[p.Key] = p.Value
		case string:
			q[p.Key] = []any{prev, p.Value}
		case []any:
			q[p.Key] = append(prev, p.Value)
		}
	}
	return q, nil
}
