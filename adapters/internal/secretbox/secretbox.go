// Package secretbox is better-auth's symmetricEncrypt and symmetricDecrypt
// (crypto/index.ts) for a plain string key: XChaCha20-Poly1305 under
// SHA-256(key), stored as lower-case hex of nonce(24) ‖ ciphertext ‖ tag(16).
// Rows sealed by either server open on the other. better-auth's "$ba$<n>$"
// envelope appears only with its secrets rotation list, which authd does not
// offer, so a sealed text carrying it does not open here.
package secretbox

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"

	"golang.org/x/crypto/chacha20poly1305"
)

// ErrOpen is any failure to open a sealed text: not hex, too short, or not
// sealed under this key.
var ErrOpen = errors.New("secretbox: sealed text does not open with this key")

// Box seals and opens under one key. It is safe for concurrent use.
type Box struct {
	key  [32]byte
	rand io.Reader
}

// New derives the cipher key from secret as better-auth does.
func New(secret string) *Box {
	return &Box{key: sha256.Sum256([]byte(secret)), rand: rand.Reader}
}

// Seal encrypts plain under a fresh random nonce.
func (b *Box) Seal(plain []byte) (string, error) {
	aead, err := chacha20poly1305.NewX(b.key[:])
	if err != nil {
		return "", err
	}
	nonce := make([]byte, aead.NonceSize(), aead.NonceSize()+len(plain)+aead.Overhead())
	if _, err := io.ReadFull(b.rand, nonce); err != nil {
		return "", fmt.Errorf("secretbox: reading a nonce: %w", err)
	}
	return hex.EncodeToString(aead.Seal(nonce, nonce, plain, nil)), nil
}

// Open decrypts a text Seal (or better-auth) produced; hex of either case is
// accepted, as @noble/ciphers' hexToBytes does.
func (b *Box) Open(sealed string) ([]byte, error) {
	raw, err := hex.DecodeString(sealed)
	if err != nil {
		return nil, ErrOpen
	}
	aead, err := chacha20poly1305.NewX(b.key[:])
	if err != nil {
		return nil, err
	}
	if len(raw) < aead.NonceSize()+aead.Overhead() {
		return nil, ErrOpen
	}
	plain, err := aead.Open(nil, raw[:aead.NonceSize()], raw[aead.NonceSize():], nil)
	if err != nil {
		return nil, ErrOpen
	}
	return plain, nil
}
