package oauth

import (
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"

	"golang.org/x/crypto/chacha20poly1305"

	"github.com/authd/authd/core/social"
)

// Cipher is better-auth's symmetricEncrypt with a single secret:
// XChaCha20-Poly1305 under SHA-256 of the key text, stored as lower-case hex
// of nonce‖ciphertext‖tag. Tokens use the app secret as key text; the link
// state's session token uses the purpose key, the hex of
// HKDF-SHA256(secret, "better-auth:oauth-encryption:v1",
// "better-auth:oauth-link-session-token:v1").
type Cipher struct {
	tokens, link [32]byte
}

var _ social.Cipher = (*Cipher)(nil)

// NewCipher keys the cipher from the app secret.
func NewCipher(secret string) (*Cipher, error) {
	if secret == "" {
		return nil, errors.New("oauth: empty secret")
	}
	purpose, err := hkdf.Key(sha256.New, []byte(secret), []byte("better-auth:oauth-encryption:v1"),
		"better-auth:oauth-link-session-token:v1", 32)
	if err != nil {
		return nil, err
	}
	return &Cipher{tokens: sha256.Sum256([]byte(secret)), link: sha256.Sum256([]byte(hex.EncodeToString(purpose)))}, nil
}

func (c *Cipher) SealToken(plain string) (string, error)        { return seal(c.tokens, plain) }
func (c *Cipher) OpenToken(sealed string) (string, error)       { return open(c.tokens, sealed) }
func (c *Cipher) SealLinkSession(token string) (string, error)  { return seal(c.link, token) }
func (c *Cipher) OpenLinkSession(sealed string) (string, error) { return open(c.link, sealed) }

func seal(key [32]byte, plain string) (string, error) {
	aead, err := chacha20poly1305.NewX(key[:])
	if err != nil {
		return "", err
	}
	nonce := make([]byte, aead.NonceSize(), aead.NonceSize()+len(plain)+aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		return "", err
	}
	return hex.EncodeToString(aead.Seal(nonce, nonce, []byte(plain), nil)), nil
}

var errSealed = errors.New("oauth: sealed value is malformed or was sealed under another key")

func open(key [32]byte, sealed string) (string, error) {
	raw, err := hex.DecodeString(sealed)
	if err != nil {
		return "", errSealed
	}
	aead, err := chacha20poly1305.NewX(key[:])
	if err != nil {
		return "", err
	}
	if len(raw) < aead.NonceSize()+aead.Overhead() {
		return "", errSealed
	}
	plain, err := aead.Open(nil, raw[:aead.NonceSize()], raw[aead.NonceSize():], nil)
	if err != nil {
		return "", errSealed
	}
	return string(plain), nil
}
