package secretbox

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"
)

type vector struct{ Key, Plain, Sealed string }

// The vectors were sealed by better-auth's own symmetricEncrypt
// (testdata/gen-vectors.mjs).
func TestOpensWhatBetterAuthSealed(t *testing.T) {
	raw, err := os.ReadFile("testdata/vectors.json")
	if err != nil {
		t.Fatal(err)
	}
	var vs []vector
	if err := json.Unmarshal(raw, &vs); err != nil {
		t.Fatal(err)
	}
	if len(vs) == 0 {
		t.Fatal("no vectors")
	}
	for _, v := range vs {
		got, err := New(v.Key).Open(v.Sealed)
		if err != nil || string(got) != v.Plain {
			t.Errorf("Open(%q) = %q, %v; want %q", v.Sealed, got, err, v.Plain)
		}
		if got, err := New(v.Key).Open(strings.ToUpper(v.Sealed)); err != nil || string(got) != v.Plain {
			t.Errorf("upper-case hex: %q, %v", got, err)
		}
	}
}

func TestSealIsLowerHexOfNonceCiphertextTag(t *testing.T) {
	b := New("k")
	plain := "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdef"
	s1, err := b.Seal([]byte(plain))
	if err != nil {
		t.Fatal(err)
	}
	s2, _ := b.Seal([]byte(plain))
	if len(s1) != 2*(24+len(plain)+16) || s1 != strings.ToLower(s1) {
		t.Errorf("sealed %q: want %d lower-case hex chars", s1, 2*(24+len(plain)+16))
	}
	if _, err := hex.DecodeString(s1); err != nil {
		t.Error(err)
	}
	if s1 == s2 {
		t.Error("two seals of one text are equal: the nonce is not fresh")
	}
	if got, err := b.Open(s1); err != nil || string(got) != plain {
		t.Errorf("round trip = %q, %v", got, err)
	}
}

func TestOpenRefusesWhatItDidNotSeal(t *testing.T) {
	b := New("k")
	sealed, _ := b.Seal([]byte("secret"))
	flipped := []byte(sealed)
	flipped[len(flipped)-1] ^= 1
	for name, s := range map[string]string{
		"other key": func() string { s, _ := New("other").Seal([]byte("secret")); return s }(),
		"tampered":  string(flipped),
		"not hex":   "zz" + sealed[2:],
		"short":     sealed[:2*(24+16)-2],
		"envelope":  "$ba$1$" + sealed,
		"empty":     "",
	} {
		if _, err := b.Open(s); !errors.Is(err, ErrOpen) {
			t.Errorf("%s: Open err = %v, want ErrOpen", name, err)
		}
	}
}
