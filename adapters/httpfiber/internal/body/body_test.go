package body

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/authd/authd/adapters/httpfiber/internal/apierror"
)

func TestDecodeJSON(t *testing.T) {
	good := map[string]string{
		`{"a":"b","n":1e400,"x":[1,{"y":null}],"t":true}`: "object",
		` "s" `: "string", `null`: "null", `12345678901234567890123456789`: "number",
		strings.Repeat("[", MaxDepth) + strings.Repeat("]", MaxDepth): "array",
		`{"a":"\ud83d\ude00"}`: "object",
	}
	for in, typ := range good {
		v, err := DecodeJSON([]byte(in))
		if err != nil || JSType(v) != typ {
			t.Errorf("DecodeJSON(%.40q) = %v %v, want a %s", in, v, err, typ)
		}
	}
	for _, in := range []string{
		``, `{`, `}`, `{"a"}`, `{"a":1,}`, `[1,]`, `{"a":1}x`, `{"a":1} {"b":2}`, `{"a":1,"a":2}`,
		`{"a":{"b":1,"b":1}}`, `{"a":"\u0000"}`, "{\"a\":\"\x00\"}", `{"\u0000":1}`, "\"\xff\"", `'a'`,
		`{a:1}`, `NaN`, `[1 2]`, strings.Repeat("[", MaxDepth+1) + strings.Repeat("]", MaxDepth+1),
	} {
		if _, err := DecodeJSON([]byte(in)); err != ErrInvalidJSON {
			t.Errorf("DecodeJSON(%.40q) err = %v, want ErrInvalidJSON", in, err)
		}
	}
}

func TestDecodeForm(t *testing.T) {
	m, err := DecodeForm([]byte("a=1+2&b=%2B%26&c&=e&&d=%C3%A9"))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"a": "1 2", "b": "+&", "c": "", "": "e", "d": "é"}
	if jm, _ := json.Marshal(m); string(jm) != mustJSON(want) {
		t.Fatalf("form %s", jm)
	}
	for _, in := range []string{"a=%", "a=%zz", "a=%00", "a=%ff", "a=1&a=2"} {
		if _, err := DecodeForm([]byte(in)); err != ErrInvalidForm {
			t.Errorf("DecodeForm(%q) err = %v", in, err)
		}
	}
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

type messagesInput struct {
	A string  `json:"a" zod:"required"`
	B *bool   `json:"b"`
	C string  `json:"c" zod:"required,email"`
	D *string `json:"d" zod:"nonempty"`
}

func TestSchemaMessagesAreZods(t *testing.T) {
	s := Compile[messagesInput]()
	err := s.Check(Body{Present: true, V: map[string]any{"a": json.Number("1"), "b": "x", "c": "nope", "d": ""}}, nil)
	want := "[body.a] Invalid input: expected string, received number; [body.b] Invalid input: expected boolean, received string; " +
		"[body.c] Invalid email address; [body.d] Too small: expected string to have >=1 characters"
	if ae, ok := err.(*apierror.Error); !ok || ae.Message != want || ae.Code != "VALIDATION_ERROR" || ae.Status != 400 {
		t.Fatalf("got %v\nwant %s", err, want)
	}
	if err := s.Check(Body{Present: true, V: map[string]any{"a": "x", "c": "a@b.co"}}, nil); err != nil {
		t.Fatal(err)
	}
	if err := s.Check(Body{}, nil); err == nil || err.Error() != "400 VALIDATION_ERROR: [body] Invalid input: expected object, received undefined" {
		t.Fatalf("absent body: %v", err)
	}
}

type optionalInput struct {
	_     OptionalBody
	State *string `json:"state"`
}

type andRecordInput struct {
	_    AndRecord
	Name string `json:"name" zod:"required"`
}

type recordInput struct {
	_ RecordOnly
}

func TestSchemaShapes(t *testing.T) {
	if err := Compile[optionalInput]().Check(Body{}, nil); err != nil {
		t.Errorf("optional body: %v", err)
	}
	err := Compile[andRecordInput]().Check(Body{Present: true, V: []any{}}, nil)
	if err == nil || err.(*apierror.Error).Message != "[body] Invalid input: expected object, received array; [body] Invalid input: expected record, received array" {
		t.Errorf("and-record: %v", err)
	}
	err = Compile[recordInput]().Check(Body{Present: true, V: "x"}, nil)
	if err == nil || err.(*apierror.Error).Message != "[body] Invalid input: expected record, received string" {
		t.Errorf("record: %v", err)
	}
	if err := Compile[recordInput]().Check(Body{Present: true, V: map[string]any{"any": 1}}, nil); err != nil {
		t.Errorf("record with keys: %v", err)
	}
	if Compile[struct{}]().HasBody() {
		t.Error("an empty struct declares a body")
	}
}

type bindInput struct {
	Name     string   `json:"name" zod:"required"`
	Callback *string  `json:"callbackURL"`
	Remember *bool    `json:"rememberMe"`
	Flag     bool     `json:"flag"`
	Image    Nullable `json:"image" zod:"nullable"`
	Email    bool     `json:"email" zod:"truthy"`
	Token    string   `query:"token" zod:"required"`
	Refresh  bool     `query:"disableRefresh" zod:"truthy"`
	Err      string   `query:"error" zod:"first"`
}

func TestBindFillsTheStruct(t *testing.T) {
	s := Compile[bindInput]()
	b := Body{Present: true, V: map[string]any{"name": "n", "callbackURL": "", "flag": true, "image": nil, "email": json.Number("1")}}
	q := map[string]any{"token": "t", "disableRefresh": "false", "error": []any{"E1", "E2"}}
	if err := s.Check(b, q); err != nil {
		t.Fatal(err)
	}
	var in bindInput
	s.Bind(b, q, &in)
	empty := ""
	want := bindInput{Name: "n", Callback: &empty, Flag: true, Image: Nullable{Set: true}, Email: true, Token: "t", Refresh: true, Err: "E1"}
	if !reflect.DeepEqual(in, want) {
		t.Fatalf("bound %+v\nwant  %+v", in, want)
	}
	if err := s.Check(b, map[string]any{}); err == nil || err.Error() != "400 VALIDATION_ERROR: [query.token] Invalid input: expected string, received undefined" {
		t.Fatalf("query check: %v", err)
	}
}

type badTag struct {
	A string `json:"a" zod:"requird"`
}

type badType struct {
	A int `json:"a"`
}

type requiredPointer struct {
	A *string `json:"a" zod:"required"`
}

type untagged struct {
	A string
}

func TestCompileRefusesWhatItCannotCheck(t *testing.T) {
	for name, compile := range map[string]func() *Schema{
		"unknown option": Compile[badTag], "int field": Compile[badType],
		"required pointer": Compile[requiredPointer], "no tag": Compile[untagged],
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s compiled", name)
				}
			}()
			compile()
		}()
	}
}

type fuzzInput struct {
	_        AndRecord
	Name     string  `json:"name" zod:"required"`
	Email    string  `json:"email" zod:"required,email"`
	Password string  `json:"password" zod:"required,nonempty"`
	Image    *string `json:"image"`
	Remember *bool   `json:"rememberMe"`
}

var fuzzSchema = Compile[fuzzInput]()

// The seeds in testdata/fuzz run with every `go test`; `go test -fuzz`
// explores from them.
func FuzzDecodeBody(f *testing.F) {
	for _, s := range []string{`{"email":"a@b.co","password":"x"}`, `[`, `{"a":1,"a":2}`, "{\"a\":\"\x00\"}", `1e999999`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		v, err := DecodeJSON(data)
		if err == nil {
			if !json.Valid(data) || !utf8.Valid(data) {
				t.Fatalf("accepted invalid JSON %q", data)
			}
			checkClean(t, v, 0)
			// The schemas must answer anything decoded with nil or a 400.
			if err := fuzzSchema.Check(Body{Present: true, V: v}, nil); err != nil && err.(*apierror.Error).Status != 400 {
				t.Fatalf("schema answered %v", err)
			} else if err == nil {
				var in fuzzInput
				fuzzSchema.Bind(Body{Present: true, V: v}, nil, &in)
			}
		} else if err != ErrInvalidJSON {
			t.Fatalf("unexpected error %v", err)
		}
		if m, err := DecodeForm(data); err == nil {
			for k, v := range m {
				checkClean(t, k, 0)
				checkClean(t, v, 0)
			}
		}
	})
}

// checkClean asserts what decoding promises: valid UTF-8, no NUL, bounded
// depth.
func checkClean(t *testing.T, v any, depth int) {
	if depth > MaxDepth {
		t.Fatalf("depth %d", depth)
	}
	switch x := v.(type) {
	case string:
		if !utf8.ValidString(x) || strings.IndexByte(x, 0) >= 0 {
			t.Fatalf("unclean string %q", x)
		}
	case map[string]any:
		for k, e := range x {
			checkClean(t, k, depth)
			checkClean(t, e, depth+1)
		}
	case []any:
		for _, e := range x {
			checkClean(t, e, depth+1)
		}
	}
}

type listsInput struct {
	_      Strict
	Scopes []string          `json:"scopes"`
	Params map[string]string `json:"params"`
	Data   map[string]any    `json:"data"`
}

func TestArraysRecordsAndStrictObjects(t *testing.T) {
	s := Compile[listsInput]()
	err := s.Check(Body{Present: true, V: map[string]any{"scopes": []any{"a", json.Number("2")},
		"params": map[string]any{"x": "1", "y": true}, "data": []any{}, "zz": "1", "aa": "2"}}, nil)
	want := "[body.scopes.1] Invalid input: expected string, received number; [body.params.y] Invalid input: expected string, received boolean; " +
		`[body.data] Invalid input: expected record, received array; [body] Unrecognized keys: "aa", "zz"`
	if ae, ok := err.(*apierror.Error); !ok || ae.Message != want {
		t.Fatalf("got %v\nwant %s", err, want)
	}
	b := Body{Present: true, V: map[string]any{"scopes": []any{"a", "b"}, "params": map[string]any{"x": "1"},
		"data": map[string]any{"k": json.Number("1")}}}
	if err := s.Check(b, nil); err != nil {
		t.Fatal(err)
	}
	var in listsInput
	s.Bind(b, nil, &in)
	if len(in.Scopes) != 2 || in.Scopes[1] != "b" || in.Params["x"] != "1" || in.Data["k"] != json.Number("1") {
		t.Fatalf("bound %+v", in)
	}
	var empty listsInput
	s.Bind(Body{Present: true, V: map[string]any{}}, nil, &empty)
	if empty.Scopes != nil || empty.Params != nil || empty.Data != nil {
		t.Fatalf("absent fields bound %+v", empty)
	}
}
