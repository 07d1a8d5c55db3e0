package jwtkeys_test

import (
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/authd/authd/adapters/jwtkeys"
	"github.com/authd/authd/core/tokens"
)

const secret = "jwtkeys-test-secret-0123456789abcdef"

func newKey(t *testing.T, k *jwtkeys.Keys) tokens.Key {
	t.Helper()
	pub, priv, crv, err := k.Generate("EdDSA")
	if err != nil {
		t.Fatal(err)
	}
	return tokens.Key{ID: "kid-1", PublicKey: pub, PrivateKey: priv, CreatedAt: time.Now(), Alg: "EdDSA", Crv: crv}
}

func TestSignedTokenVerifiesWithThePublicJWKAndHasOnlyAlgAndKid(t *testing.T) {
	k, err := jwtkeys.New(secret)
	if err != nil {
		t.Fatal(err)
	}
	key := newKey(t, k)
	s, err := k.Signer(key, "EdDSA")
	if err != nil {
		t.Fatal(err)
	}
	tok, err := s.Sign([]byte(`{"sub":"u"}`))
	if err != nil {
		t.Fatal(err)
	}
	header, _ := base64.RawURLEncoding.DecodeString(strings.Split(tok, ".")[0])
	if string(header) != `{"alg":"EdDSA","kid":"kid-1"}` {
		t.Errorf("header %s", header)
	}
	var pub jose.JSONWebKey
	if err := pub.UnmarshalJSON([]byte(key.PublicKey)); err != nil {
		t.Fatal(err)
	}
	jws, err := jose.ParseSignedCompact(tok, []jose.SignatureAlgorithm{jose.EdDSA})
	if err != nil {
		t.Fatal(err)
	}
	payload, err := jws.Verify(pub.Key.(ed25519.PublicKey))
	if err != nil || string(payload) != `{"sub":"u"}` {
		t.Errorf("Verify = %s, %v", payload, err)
	}
}

func TestPrivateKeyIsSealedUnderTheSecret(t *testing.T) {
	k, _ := jwtkeys.New(secret)
	key := newKey(t, k)
	var hexText string
	if err := json.Unmarshal([]byte(key.PrivateKey), &hexText); err != nil {
		t.Fatalf("private_key %q is not a JSON string: %v", key.PrivateKey, err)
	}
	if strings.Contains(key.PrivateKey, `"d"`) || hexText != strings.ToLower(hexText) {
		t.Errorf("private_key %q: want lower-case hex ciphertext", key.PrivateKey)
	}
	plain, err := k.Open(key.PrivateKey)
	if err != nil || !strings.Contains(string(plain), `"d":"`) {
		t.Fatalf("Open = %s, %v", plain, err)
	}

	other, _ := jwtkeys.New(secret + "x")
	if _, err := other.Signer(key, "EdDSA"); err == nil {
		t.Error("a key sealed under another secret opened")
	}
	flipped := []byte(key.PrivateKey)
	if flipped[10] == 'a' {
		flipped[10] = 'b'
	} else {
		flipped[10] = 'a'
	}
	for name, stored := range map[string]string{"tampered": string(flipped), "not JSON": hexText,
		"short": `"00"`, "not hex": `"zz"`} {
		if _, err := k.Signer(tokens.Key{ID: "k", PrivateKey: stored}, "EdDSA"); err == nil {
			t.Errorf("%s private key opened", name)
		}
	}
}

func TestGenerateRefusesOtherAlgorithms(t *testing.T) {
	k, _ := jwtkeys.New(secret)
	if _, _, _, err := k.Generate("HS256"); err == nil {
		t.Error("generated an HS256 key")
	}
	if _, err := jwtkeys.New(""); err == nil {
		t.Error("accepted an empty secret")
	}
}
