package oauth

import (
	"crypto/hkdf"
	"crypto/sha256"
	"encoding/hex"
	"errors"

	"github.com/authd/authd/adapters/internal/secretbox"
	"github.com/authd/authd/core/social"
)

// Cipher is better-auth's symmetricEncrypt with a single secret
// (adapters/internal/secretbox). Tokens are sealed under the app secret;
// the link state's session token under the purpose key, the hex of
// HKDF-SHA256(secret, "better-auth:oauth-encryption:v1",
// "better-auth:oauth-link-session-token:v1").
type Cipher struct {
	tokens, link *secretbox.Box
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
	return &Cipher{tokens: secretbox.New(secret), link: secretbox.New(hex.EncodeToString(purpose))}, nil
}

func (c *Cipher) SealToken(plain string) (string, error)        { return c.tokens.Seal([]byte(plain)) }
func (c *Cipher) OpenToken(sealed string) (string, error)       { return open(c.tokens, sealed) }
func (c *Cipher) SealLinkSession(token string) (string, error)  { return c.link.Seal([]byte(token)) }
func (c *Cipher) OpenLinkSession(sealed string) (string, error) { return open(c.link, sealed) }

func open(b *secretbox.Box, sealed string) (string, error) {
	plain, err := b.Open(sealed)
	return string(plain), err
}
