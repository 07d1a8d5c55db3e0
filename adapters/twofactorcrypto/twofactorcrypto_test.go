package twofactorcrypto

import (
	"encoding/json"
	"os"
	"testing"
	"time"
)

// vectors.json comes from better-auth's own OTP and HMAC helpers
// (testdata/gen-vectors.mjs).
type vectors struct {
	TOTPSecret string `json:"totpSecret"`
	Codes      []struct {
		Counter int64
		Code    string
	}
	Trust struct{ Secret, UserID, Identifier, MAC string }
}

func load(t *testing.T) vectors {
	raw, err := os.ReadFile("testdata/vectors.json")
	if err != nil {
		t.Fatal(err)
	}
	var v vectors
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatal(err)
	}
	return v
}

func TestCodesMatchBetterAuthsAtTheirStepAndNeighbours(t *testing.T) {
	v := load(t)
	key := []byte(v.TOTPSecret)
	for _, c := range v.Codes {
		for _, offset := range []int64{-1, 0, 1} {
			now := time.Unix((c.Counter+offset)*30+7, 0)
			step, ok := Codes{}.Match(key, c.Code, now)
			if !ok || step != c.Counter {
				t.Errorf("code %s of step %d at step %d: Match = %d, %t", c.Code, c.Counter, c.Counter+offset, step, ok)
			}
		}
		for _, offset := range []int64{-2, 2} {
			if _, ok := (Codes{}).Match(key, c.Code, time.Unix((c.Counter+offset)*30, 0)); ok {
				t.Errorf("code of step %d accepted at step %d", c.Counter, c.Counter+offset)
			}
		}
	}
	c := v.Codes[3]
	at := time.Unix(c.Counter*30, 0)
	for _, bad := range []string{c.Code + " ", " " + c.Code, c.Code[:5], "", c.Code + "0"} {
		if _, ok := (Codes{}).Match(key, bad, at); ok {
			t.Errorf("%q accepted for %q", bad, c.Code)
		}
	}
	if _, ok := (Codes{}).Match([]byte("another key"), c.Code, at); ok {
		t.Error("code accepted under another key")
	}
}

func TestTrustMACIsBetterAuths(t *testing.T) {
	v := load(t).Trust
	k := NewKeys(Secret(v.Secret))
	if got := k.TrustMAC(v.UserID, v.Identifier); got != v.MAC {
		t.Errorf("TrustMAC = %q, want %q", got, v.MAC)
	}
	if NewKeys("other secret").TrustMAC(v.UserID, v.Identifier) == v.MAC {
		t.Error("MAC does not depend on the secret")
	}
}

func TestKeysSealAndOpen(t *testing.T) {
	k := NewKeys("s")
	sealed, err := k.Seal("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdef")
	if err != nil || len(sealed) != 144 {
		t.Fatalf("Seal = %q (%d chars), %v; want 144 hex chars as better-auth stores a secret", sealed, len(sealed), err)
	}
	if got, err := k.Open(sealed); err != nil || got != "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdef" {
		t.Errorf("Open = %q, %v", got, err)
	}
	if _, err := NewKeys("other").Open(sealed); err == nil {
		t.Error("opened under another secret")
	}
}
