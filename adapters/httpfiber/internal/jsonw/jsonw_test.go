package jsonw

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/authd/authd/core"
)

var t0 = time.Date(2026, 11, 26, 4, 40, 27, 253_000_000, time.UTC)

func TestStrEscapesLikeJSONStringify(t *testing.T) {
	w := &W{}
	w.Str("a\"b\\c\n\t\x01<>&\u2028é\xff")
	if got := string(w.B); got != `"a\"b\\c\n\t\u0001<>&`+"\u2028"+`é\ufffd"` {
		t.Fatalf("escaped %s", got)
	}
	var back string
	if err := json.Unmarshal(w.B, &back); err != nil {
		t.Fatal(err)
	}
}

func TestUserKeyOrderAndDates(t *testing.T) {
	u := core.RehydrateUser(core.UserRecord{ID: "u1", Name: "A", Email: "a@example.com", CreatedAt: t0, UpdatedAt: t0.Add(time.Nanosecond)})
	want := `{"id":"u1","name":"A","email":"a@example.com","emailVerified":false,"image":null,` +
		`"createdAt":"2026-11-26T04:40:27.253Z","updatedAt":"2026-11-26T04:40:27.253Z"}`
	if got := string(New(0).User(u).B); got != want {
		t.Fatalf("user %s", got)
	}
}

func TestArrayAndErrorBody(t *testing.T) {
	if got := string(Array([]string{"a", "b"}, 4, (*W).Str)); got != `["a","b"]` {
		t.Errorf("array %s", got)
	}
	if got := string(Array([]string(nil), 4, (*W).Str)); got != `[]` {
		t.Errorf("empty array %s", got)
	}
	if got := string(ErrorBody("Bad", "")); got != `{"message":"Bad"}` {
		t.Errorf("error body %s", got)
	}
	if got := string(ErrorBody("Bad", "X")); got != `{"message":"Bad","code":"X"}` {
		t.Errorf("error body %s", got)
	}
}

func BenchmarkUserJSON(b *testing.B) {
	img := "https://img.example.com/alice.png"
	u := core.RehydrateUser(core.UserRecord{ID: "e8A39NkpRxWVoKfZWgB12Kjbfy9llXIt", Name: "Alice",
		Email: "alice@example.com", Image: &img, CreatedAt: t0, UpdatedAt: t0})
	w := New(512)
	b.ReportAllocs()
	for b.Loop() {
		w.B = w.B[:0]
		w.User(u)
	}
	b.SetBytes(int64(len(w.B)))
}
