package httpfiber

import (
	"encoding/json"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/authd/authd/core"
)

// A tiny stand-in for the zod schemas of better-auth's endpoints. It reports
// every issue in field order with zod 4's messages, joined the way
// better-call's validator joins them:
// "[body.password] Invalid input: expected string, received undefined".

type fieldType int

const (
	tString         fieldType = iota
	tNonEmptyString           // z.string().nonempty()
	tEmail                    // z.email()
	tBool
	tStringOrNull // the image field of update-user
)

type field struct {
	name     string
	typ      fieldType
	required bool
}

type schema struct {
	fields []field
	// andRecord mirrors sign-up's z.object(...).and(z.record(...)), which
	// reports a second issue when the body is not an object.
	andRecord bool
	// recordOnly is update-user's bare z.record: any object passes.
	recordOnly bool
	// optional bodies may be absent (sign-out).
	optional bool
}

func required(name string, t fieldType) field { return field{name: name, typ: t, required: true} }
func optional(name string, t fieldType) field { return field{name: name, typ: t} }

// check validates v (loc is "body" or "query") and returns a VALIDATION_ERROR
// listing the issues, or nil.
func (s schema) check(loc string, present bool, v any) error {
	var issues []string
	got := "undefined"
	if present {
		got = jsType(v)
	}
	m, isObj := v.(map[string]any)
	if !present && s.optional {
		return nil
	}
	if !present || !isObj {
		if !s.recordOnly {
			issues = append(issues, "["+loc+"] Invalid input: expected object, received "+got)
		}
		if s.andRecord || s.recordOnly {
			issues = append(issues, "["+loc+"] Invalid input: expected record, received "+got)
		}
		return validationError(issues)
	}
	for _, f := range s.fields {
		if msg := f.check(m); msg != "" {
			issues = append(issues, "["+loc+"."+f.name+"] "+msg)
		}
	}
	if len(issues) == 0 {
		return nil
	}
	return validationError(issues)
}

func (f field) check(m map[string]any) string {
	v, ok := m[f.name]
	if !ok {
		if f.required {
			return "Invalid input: expected " + f.expected() + ", received undefined"
		}
		return ""
	}
	switch f.typ {
	case tBool:
		if _, ok := v.(bool); !ok {
			return "Invalid input: expected boolean, received " + jsType(v)
		}
		return ""
	case tStringOrNull:
		if v == nil {
			return ""
		}
	}
	s, ok := v.(string)
	if !ok {
		return "Invalid input: expected string, received " + jsType(v)
	}
	switch f.typ {
	case tNonEmptyString:
		if s == "" {
			return "Too small: expected string to have >=1 characters"
		}
	case tEmail:
		if _, err := core.NormalizeEmail(s); err != nil {
			return "Invalid email address"
		}
	}
	return ""
}

func (f field) expected() string {
	if f.typ == tBool {
		return "boolean"
	}
	return "string"
}

func jsType(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "string"
	case bool:
		return "boolean"
	case json.Number:
		return "number"
	case []any:
		return "array"
	default:
		return "object"
	}
}

func validationError(issues []string) error {
	return &apiError{Status: fiber.StatusBadRequest, Code: "VALIDATION_ERROR", Message: strings.Join(issues, "; ")}
}

// Accessors for values that passed check.

func getStr(m map[string]any, k string) string {
	s, _ := m[k].(string)
	return s
}

func getStrPtr(m map[string]any, k string) *string {
	s, ok := m[k].(string)
	if !ok {
		return nil
	}
	return &s
}

// boolOr returns m[k] or def when it is absent.
func boolOr(m map[string]any, k string, def bool) bool {
	b, ok := m[k].(bool)
	if !ok {
		return def
	}
	return b
}

// truthy is JavaScript's Boolean(v) for decoded JSON values.
func truthy(v any) bool {
	switch t := v.(type) {
	case nil:
		return false
	case bool:
		return t
	case string:
		return t != ""
	case json.Number:
		f, err := t.Float64()
		return err != nil || (f != 0)
	default:
		return true
	}
}
