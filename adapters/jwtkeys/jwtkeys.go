// Package jwtkeys is the JOSE side of core/tokens, in better-auth 1.7's
// formats so that either server signs with keys the other made: Ed25519 key
// pairs as JWK JSON (the members in the order Node's exportJWK writes them),
// the private JWK sealed with better-auth's symmetricEncrypt under the app
// secret (adapters/internal/secretbox) and stored as a JSON string of that
// hex, and compact JWS whose protected header is exactly {"alg","kid"}.
//
// JWS and JWK handling is go-jose (github.com/go-jose/go-jose/v4): it is
// maintained, it reads every JWK kind better-auth can store (OKP, EC, RSA),
// and it adds no "typ" header on its own, which golang-jwt does and which
// better-auth's tokens do not carry.
package jwtkeys

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/go-jose/go-jose/v4"

	"github.com/authd/authd/adapters/internal/secretbox"
	"github.com/authd/authd/core/tokens"
)

// Keys implements tokens.KeyCrypto with one app secret.
type Keys struct {
	box *secretbox.Box // better-auth's symmetricEncrypt under the app secret
}

var _ tokens.KeyCrypto = (*Keys)(nil)

// New keys the cipher with the app secret.
func New(secret string) (*Keys, error) {
	if secret == "" {
		return nil, errors.New("jwtkeys: empty secret")
	}
	return &Keys{box: secretbox.New(secret)}, nil
}

// okpJWK is an Ed25519 JWK with its members in exportJWK's order.
type okpJWK struct {
	Crv string `json:"crv"`
	D   string `json:"d,omitempty"`
	X   string `json:"x"`
	Kty string `json:"kty"`
}

// Generate makes an Ed25519 pair; other algorithms are not offered because
// better-auth's default, which authd mirrors, is the only one configured.
func (k *Keys) Generate(alg string) (publicJWK, privateKey, crv string, err error) {
	if alg != string(jose.EdDSA) {
		return "", "", "", fmt.Errorf("jwtkeys: cannot generate %q keys", alg)
	}
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return "", "", "", err
	}
	b64 := base64.RawURLEncoding.EncodeToString
	pubJSON, err := json.Marshal(okpJWK{Crv: "Ed25519", X: b64(pub), Kty: "OKP"})
	if err != nil {
		return "", "", "", err
	}
	privJSON, err := json.Marshal(okpJWK{Crv: "Ed25519", D: b64(priv.Seed()), X: b64(pub), Kty: "OKP"})
	if err != nil {
		return "", "", "", err
	}
	sealed, err := k.seal(privJSON)
	if err != nil {
		return "", "", "", err
	}
	return string(pubJSON), sealed, "Ed25519", nil
}

// seal is better-auth's symmetricEncrypt, wrapped in a JSON string literal
// as its jwt plugin stores it.
func (k *Keys) seal(plain []byte) (string, error) {
	sealed, err := k.box.Seal(plain)
	if err != nil {
		return "", err
	}
	out, err := json.Marshal(sealed)
	return string(out), err
}

// Open returns the private JWK's JSON from its stored form.
func (k *Keys) Open(stored string) ([]byte, error) {
	var sealed string
	if err := json.Unmarshal([]byte(stored), &sealed); err != nil {
		return nil, fmt.Errorf("jwtkeys: private key is not a JSON string: %w", err)
	}
	plain, err := k.box.Open(sealed)
	if err != nil {
		return nil, fmt.Errorf("jwtkeys: private key: %w", err)
	}
	return plain, nil
}

// Signer opens key's private JWK and returns a signer for alg.
func (k *Keys) Signer(key tokens.Key, alg string) (tokens.Signer, error) {
	plain, err := k.Open(key.PrivateKey)
	if err != nil {
		return nil, err
	}
	var jwk jose.JSONWebKey
	if err := jwk.UnmarshalJSON(plain); err != nil {
		return nil, fmt.Errorf("jwtkeys: private key is not a JWK: %w", err)
	}
	if jwk.IsPublic() {
		return nil, errors.New("jwtkeys: stored private key holds only a public key")
	}
	jwk.KeyID = key.ID
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.SignatureAlgorithm(alg), Key: jwk}, nil)
	if err != nil {
		return nil, fmt.Errorf("jwtkeys: %s key %s: %w", alg, key.ID, err)
	}
	return signer{s}, nil
}

type signer struct{ s jose.Signer }

func (s signer) Sign(payload []byte) (string, error) {
	jws, err := s.s.Sign(payload)
	if err != nil {
		return "", err
	}
	return jws.CompactSerialize()
}
