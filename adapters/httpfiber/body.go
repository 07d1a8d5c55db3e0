package httpfiber

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"

	"github.com/authd/authd/core/jsuri"
)

// Request bodies and query strings are decoded into a small generic tree
// (map[string]any, []any, string, bool, nil, json.Number) that the schema
// checks in schema.go then read. Decoding is strict: anything ambiguous or
// dangerous for storage is a 400 here rather than a 500 later.

// maxJSONDepth caps nesting; auth bodies are flat, so 32 is generous and
// keeps a "[[[[..." body from costing anything.
const maxJSONDepth = 32

var (
	errInvalidJSON = &apiError{Status: fiber.StatusBadRequest, Code: "BAD_REQUEST", Message: "Invalid JSON in request body"}
	errInvalidForm = &apiError{Status: fiber.StatusBadRequest, Code: "BAD_REQUEST", Message: "Invalid form data in request body"}
	errInvalidURL  = &apiError{Status: fiber.StatusBadRequest, Code: "BAD_REQUEST", Message: "Invalid query string"}
)

const (
	mediaJSON = "application/json"
	mediaForm = "application/x-www-form-urlencoded"
)

// body is a decoded request body; present is false when the request had none
// (JavaScript's undefined).
type body struct {
	present bool
	v       any
}

func (b body) object() (map[string]any, bool) {
	m, ok := b.v.(map[string]any)
	return m, ok && b.present
}

// readBody checks the media type the way better-call does and decodes the
// body. Form bodies are accepted only when allowForm is set (sign-in and
// sign-up).
func readBody(c *fiber.Ctx, allowForm bool) (body, error) {
	data := c.Body()
	if len(data) == 0 {
		return body{}, nil
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
		v, err := decodeJSON(data)
		if err != nil {
			return body{}, err
		}
		return body{present: true, v: v}, nil
	case mt == mediaForm && allowForm:
		v, err := decodeForm(data)
		if err != nil {
			return body{}, err
		}
		return body{present: true, v: v}, nil
	case ct == "":
		return body{}, &apiError{Status: fiber.StatusUnsupportedMediaType, Code: "UNSUPPORTED_MEDIA_TYPE",
			Message: "Content-Type is required. Allowed types: " + strings.Join(allowed, ", ")}
	default:
		return body{}, &apiError{Status: fiber.StatusUnsupportedMediaType, Code: "UNSUPPORTED_MEDIA_TYPE",
			Message: `Content-Type "` + ct + `" is not allowed. Allowed types: ` + strings.Join(allowed, ", ")}
	}
}

// decodeJSON parses exactly one JSON value. It rejects invalid UTF-8,
// duplicate object keys, NUL characters in strings and nesting deeper than
// maxJSONDepth, none of which JSON.parse would catch but all of which would
// otherwise reach the database or the logs.
func decodeJSON(data []byte) (any, error) {
	if !utf8.Valid(data) {
		return nil, errInvalidJSON
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	v, err := jsonValue(dec, 0)
	if err != nil {
		return nil, errInvalidJSON
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, errInvalidJSON
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
		if depth >= maxJSONDepth {
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

// decodeForm parses application/x-www-form-urlencoded strictly: every escape
// must be well formed, the result UTF-8 without NUL, and no name may repeat.
func decodeForm(data []byte) (map[string]any, error) {
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
			return nil, errInvalidForm
		}
		if _, dup := m[k]; dup {
			return nil, errInvalidForm
		}
		m[k] = v
	}
	return m, nil
}

// readQuery parses the query string like URLSearchParams into better-call's
// shape: a repeated name becomes an array of strings.
func readQuery(c *fiber.Ctx) (map[string]any, error) {
	q := map[string]any{}
	for _, p := range jsuri.ParseForm(string(c.Request().URI().QueryString())) {
		if strings.IndexByte(p.Key, 0) >= 0 || strings.IndexByte(p.Value, 0) >= 0 {
			return nil, errInvalidURL
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
