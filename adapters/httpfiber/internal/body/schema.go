package body

import (
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/authd/authd/adapters/httpfiber/internal/apierror"
	"github.com/authd/authd/core"
)

// An input struct declares a route's body and query once; Compile derives
// from it a stand-in for the route's zod schema that reports every issue in
// field order with zod 4's messages, joined the way better-call's validator
// joins them: "[body.password] Invalid input: expected string, received
// undefined". Bind then fills the struct from a tree that passed.
//
// Field tags:
//
//	json:"name"   a body field; query:"name" a query field
//	zod:"..."     comma-separated: required, email (z.email()), nonempty
//	              (z.string().nonempty()), nullable (string or null; the
//	              field is a Nullable), truthy (any value, bound as
//	              JavaScript's Boolean(v), never refused), first (a query
//	              value bound as URLSearchParams#get, never refused)
//
// Field types: string (absent binds ""), *string (nil when absent), bool,
// *bool (nil when absent), Nullable, []string (z.array(z.string())),
// map[string]string (z.record(z.string(), z.string())) and map[string]any
// (z.record(z.string(), z.any())); the last three are nil when absent. A
// blank field of type AndRecord, RecordOnly, OptionalBody or Strict tunes
// the body schema as documented on them.

// AndRecord mirrors sign-up's z.object(...).and(z.record(...)), which
// reports a second issue when the body is not an object.
type AndRecord struct{}

// RecordOnly is a bare z.record (update-user, update-session): any object
// passes, and a non-object gets the record message only.
type RecordOnly struct{}

// OptionalBody lets the body be absent (sign-out).
type OptionalBody struct{}

// Strict is z.strictObject: keys the struct does not declare are refused
// (get-access-token, refresh-token).
type Strict struct{}

// Nullable is a field that may be absent, null or a string: Set reports
// presence, and Value is nil for null.
type Nullable struct {
	Set   bool
	Value *string
}

type fieldType int

const (
	tString         fieldType = iota
	tNonEmptyString           // z.string().nonempty()
	tEmail                    // z.email()
	tBool
	tStringOrNull
	tTruthy // bound as Boolean(v), never checked
	tFirst  // bound as URLSearchParams#get, never checked
	tStrings
	tStringRecord
	tRecord
)

type field struct {
	name     string
	typ      fieldType
	required bool
	index    int          // in the struct
	kind     reflect.Kind // of the Go field; reflect.Pointer for *string, *bool
}

// part is the schema of one location ("body" or "query").
type part struct {
	loc        string
	fields     []field
	andRecord  bool
	recordOnly bool
	optional   bool
	strict     bool
}

// Schema is an input struct's compiled schema.
type Schema struct {
	typ         reflect.Type
	body, query *part // nil when the struct declares nothing there
}

var (
	tAndRecord    = reflect.TypeFor[AndRecord]()
	tRecordOnly   = reflect.TypeFor[RecordOnly]()
	tOptionalBody = reflect.TypeFor[OptionalBody]()
	tStrict       = reflect.TypeFor[Strict]()
	tStringSlice  = reflect.TypeFor[[]string]()
	tStringMap    = reflect.TypeFor[map[string]string]()
	tAnyMap       = reflect.TypeFor[map[string]any]()
	tNullable     = reflect.TypeFor[Nullable]()
	tStringPtr    = reflect.TypeFor[*string]()
	tBoolPtr      = reflect.TypeFor[*bool]()
)

// Compile builds T's schema. It panics on a tag or type it does not know,
// which routes reach at registration, never on a request.
func Compile[T any]() *Schema {
	t := reflect.TypeFor[T]()
	if t.Kind() != reflect.Struct {
		panic(fmt.Sprintf("body: %v is not a struct", t))
	}
	s := &Schema{typ: t}
	bodyPart := func() *part {
		if s.body == nil {
			s.body = &part{loc: "body"}
		}
		return s.body
	}
	for i := range t.NumField() {
		sf := t.Field(i)
		switch sf.Type {
		case tAndRecord:
			bodyPart().andRecord = true
			continue
		case tRecordOnly:
			bodyPart().recordOnly = true
			continue
		case tOptionalBody:
			bodyPart().optional = true
			continue
		case tStrict:
			bodyPart().strict = true
			continue
		}
		var p *part
		name, ok := sf.Tag.Lookup("json")
		if ok {
			p = bodyPart()
		} else if name, ok = sf.Tag.Lookup("query"); ok {
			if s.query == nil {
				s.query = &part{loc: "query"}
			}
			p = s.query
		} else {
			panic(fmt.Sprintf("body: %v.%s has neither a json nor a query tag", t, sf.Name))
		}
		f := field{name: name, index: i, kind: sf.Type.Kind()}
		f.typ = tString
		switch {
		case sf.Type.Kind() == reflect.Bool || sf.Type == tBoolPtr:
			f.typ = tBool
		case sf.Type == tStringSlice:
			f.typ = tStrings
		case sf.Type == tStringMap:
			f.typ = tStringRecord
		case sf.Type == tAnyMap:
			f.typ = tRecord
		}
		for _, opt := range strings.Split(sf.Tag.Get("zod"), ",") {
			switch opt {
			case "":
			case "required":
				f.required = true
			case "email":
				f.typ = tEmail
			case "nonempty":
				f.typ = tNonEmptyString
			case "nullable":
				f.typ = tStringOrNull
			case "truthy":
				f.typ = tTruthy
			case "first":
				f.typ = tFirst
			default:
				panic(fmt.Sprintf("body: %v.%s: unknown zod option %q", t, sf.Name, opt))
			}
		}
		if !f.fits(sf.Type) {
			panic(fmt.Sprintf("body: %v.%s: type %v does not fit its tags", t, sf.Name, sf.Type))
		}
		p.fields = append(p.fields, f)
	}
	return s
}

// fits reports whether a Go field of type t can hold what f accepts.
func (f field) fits(t reflect.Type) bool {
	switch f.typ {
	case tBool:
		return t.Kind() == reflect.Bool || (t == tBoolPtr && !f.required)
	case tStringOrNull:
		return t == tNullable && !f.required
	case tTruthy:
		return t.Kind() == reflect.Bool && !f.required
	case tFirst:
		return t.Kind() == reflect.String && !f.required
	case tStrings:
		return t == tStringSlice
	case tStringRecord:
		return t == tStringMap
	case tRecord:
		return t == tAnyMap
	default:
		return t.Kind() == reflect.String || (t == tStringPtr && !f.required)
	}
}

// HasBody reports whether the struct declares a body.
func (s *Schema) HasBody() bool { return s.body != nil }

// Check validates the body, then the query, and returns a VALIDATION_ERROR
// listing the issues of the first that fails, or nil.
func (s *Schema) Check(b Body, query map[string]any) error {
	if s.body != nil {
		if err := s.body.check(b.Present, b.V); err != nil {
			return err
		}
	}
	if s.query != nil {
		return s.query.check(true, query)
	}
	return nil
}

// Bind fills dst, a pointer to the compiled struct, from trees that passed
// Check.
func (s *Schema) Bind(b Body, query map[string]any, dst any) {
	v := reflect.ValueOf(dst).Elem()
	if v.Type() != s.typ {
		panic(fmt.Sprintf("body: binding %v with the schema of %v", v.Type(), s.typ))
	}
	if s.body != nil {
		s.body.bind(b.Object(), v)
	}
	if s.query != nil {
		s.query.bind(query, v)
	}
}

func (p *part) check(present bool, v any) error {
	var issues []string
	got := "undefined"
	if present {
		got = JSType(v)
	}
	m, isObj := v.(map[string]any)
	if !present && p.optional {
		return nil
	}
	if !present || !isObj {
		if !p.recordOnly {
			issues = append(issues, "["+p.loc+"] Invalid input: expected object, received "+got)
		}
		if p.andRecord || p.recordOnly {
			issues = append(issues, "["+p.loc+"] Invalid input: expected record, received "+got)
		}
		return validationError(issues)
	}
	for _, f := range p.fields {
		if path, msg := f.check(m); msg != "" {
			issues = append(issues, "["+p.loc+"."+f.name+path+"] "+msg)
		}
	}
	if p.strict {
		if msg := p.unrecognized(m); msg != "" {
			issues = append(issues, "["+p.loc+"] "+msg)
		}
	}
	if len(issues) == 0 {
		return nil
	}
	return validationError(issues)
}

// unrecognized is zod's strict-object issue for the keys not declared;
// the decoded body keeps no key order, so they are listed sorted.
func (p *part) unrecognized(m map[string]any) string {
	var extra []string
	for k := range m {
		known := false
		for _, f := range p.fields {
			known = known || f.name == k
		}
		if !known {
			extra = append(extra, strconv.Quote(k))
		}
	}
	slices.Sort(extra)
	switch len(extra) {
	case 0:
		return ""
	case 1:
		return "Unrecognized key: " + extra[0]
	}
	return "Unrecognized keys: " + strings.Join(extra, ", ")
}

// check returns the issue of f in m, if any, and the path below f it is
// at (".0" for an array element, ".key" for a record value).
func (f field) check(m map[string]any) (string, string) {
	v, ok := m[f.name]
	if !ok {
		if f.required {
			return "", "Invalid input: expected " + f.expected() + ", received undefined"
		}
		return "", ""
	}
	switch f.typ {
	case tTruthy, tFirst:
		return "", ""
	case tBool:
		if _, ok := v.(bool); !ok {
			return "", "Invalid input: expected boolean, received " + JSType(v)
		}
		return "", ""
	case tStringOrNull:
		if v == nil {
			return "", ""
		}
	case tStrings:
		list, ok := v.([]any)
		if !ok {
			return "", "Invalid input: expected array, received " + JSType(v)
		}
		for i, x := range list {
			if _, ok := x.(string); !ok {
				return "." + strconv.Itoa(i), "Invalid input: expected string, received " + JSType(x)
			}
		}
		return "", ""
	case tStringRecord, tRecord:
		rec, ok := v.(map[string]any)
		if !ok {
			return "", "Invalid input: expected record, received " + JSType(v)
		}
		if f.typ == tStringRecord {
			for _, k := range sortedKeys(rec) {
				if _, ok := rec[k].(string); !ok {
					return "." + k, "Invalid input: expected string, received " + JSType(rec[k])
				}
			}
		}
		return "", ""
	}
	s, ok := v.(string)
	if !ok {
		return "", "Invalid input: expected string, received " + JSType(v)
	}
	switch f.typ {
	case tNonEmptyString:
		if s == "" {
			return "", "Too small: expected string to have >=1 characters"
		}
	case tEmail:
		if _, err := core.NormalizeEmail(s); err != nil {
			return "", "Invalid email address"
		}
	}
	return "", ""
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func (f field) expected() string {
	switch f.typ {
	case tBool:
		return "boolean"
	case tStrings:
		return "array"
	case tStringRecord, tRecord:
		return "record"
	}
	return "string"
}

func (p *part) bind(m map[string]any, dst reflect.Value) {
	for _, f := range p.fields {
		v, present := m[f.name]
		out := dst.Field(f.index)
		switch f.typ {
		case tTruthy:
			out.SetBool(Truthy(v))
		case tFirst:
			out.SetString(first(v))
		case tStrings:
			if list, ok := v.([]any); ok {
				out := make([]string, len(list))
				for i, x := range list {
					out[i], _ = x.(string)
				}
				dst.Field(f.index).Set(reflect.ValueOf(out))
			}
		case tStringRecord:
			if rec, ok := v.(map[string]any); ok {
				out := make(map[string]string, len(rec))
				for k, x := range rec {
					out[k], _ = x.(string)
				}
				dst.Field(f.index).Set(reflect.ValueOf(out))
			}
		case tRecord:
			if rec, ok := v.(map[string]any); ok {
				out.Set(reflect.ValueOf(rec))
			}
		case tStringOrNull:
			n := Nullable{Set: present}
			if s, ok := v.(string); ok {
				n.Value = &s
			}
			out.Set(reflect.ValueOf(n))
		case tBool:
			b, ok := v.(bool)
			switch {
			case !ok:
			case f.kind == reflect.Pointer:
				out.Set(reflect.ValueOf(&b))
			default:
				out.SetBool(b)
			}
		default:
			s, ok := v.(string)
			switch {
			case !ok:
			case f.kind == reflect.Pointer:
				out.Set(reflect.ValueOf(&s))
			default:
				out.SetString(s)
			}
		}
	}
}

// first is URLSearchParams#get: the first value of a name.
func first(v any) string {
	switch t := v.(type) {
	case string:
		return t
	case []any:
		if len(t) > 0 {
			s, _ := t[0].(string)
			return s
		}
	}
	return ""
}

// JSType is JavaScript's typeof for decoded values, as zod names them.
func JSType(v any) string {
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
	return apierror.BadRequest("VALIDATION_ERROR", strings.Join(issues, "; "))
}

// Truthy is JavaScript's Boolean(v) for decoded values.
func Truthy(v any) bool {
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
