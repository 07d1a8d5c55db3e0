package core

import (
	"fmt"
	"io"
)

// Alphabets of better-auth's generators: generateId uses a-zA-Z0-9, the
// delete-account token 0-9a-z.
const (
	alphanumeric = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	digitsLower  = "0123456789abcdefghijklmnopqrstuvwxyz"
)

// Token lengths, as better-auth generates them.
const (
	idLength          = 32 // row ids and session tokens (generateId())
	resetTokenLength  = 24 // generateId(24)
	deleteTokenLength = 32
)

// maxRandomRounds bounds the rejection loop: a healthy source needs one or two
// rounds, so a reader that keeps yielding only rejected bytes is broken, and
// failing beats spinning forever.
const maxRandomRounds = 64

// randomString draws n symbols uniformly from alphabet (DrawString) from
// Deps.Random.
func (a *Auth) randomString(n int, alphabet string) (string, error) {
	return DrawString(readerFunc(a.readRandom), n, alphabet)
}

// DrawString draws n symbols uniformly from alphabet out of r. Bytes at or
// above the largest multiple of len(alphabet) are rejected, so that byte %
// len has no modulo bias (for 62 symbols: keep byte < 248, as better-auth
// does). A failing source is an error: there is no fallback that could yield
// a guessable token.
func DrawString(r io.Reader, n int, alphabet string) (string, error) {
	size := len(alphabet)
	limit := 256 - 256%size
	out := make([]byte, 0, n)
	buf := make([]byte, n+n/8+1)
	for round := 0; len(out) < n; round++ {
		if round == maxRandomRounds {
			return "", fmt.Errorf("core: random source yields no usable bytes")
		}
		if _, err := io.ReadFull(r, buf); err != nil {
			return "", fmt.Errorf("core: reading random bytes: %w", err)
		}
		for _, b := range buf {
			if int(b) >= limit {
				continue
			}
			out = append(out, alphabet[int(b)%size])
			if len(out) == n {
				break
			}
		}
	}
	return string(out), nil
}

type readerFunc func([]byte) error

func (f readerFunc) Read(p []byte) (int, error) {
	if err := f(p); err != nil {
		return 0, err
	}
	return len(p), nil
}

// readRandom serialises reads because Deps.Random may be any io.Reader, and
// only some (crypto/rand.Reader) are safe for concurrent use.
func (a *Auth) readRandom(buf []byte) error {
	a.randMu.Lock()
	defer a.randMu.Unlock()
	_, err := io.ReadFull(a.d.Random, buf)
	return err
}

func (a *Auth) newID() (string, error) { return a.randomString(idLength, alphanumeric) }

// NewID draws a row id as better-auth's generateId does, for the flows of
// other core packages.
func (a *Auth) NewID() (string, error) { return a.newID() }

// RandomString draws n characters of a-zA-Z0-9 (better-auth's
// generateRandomString), for states, nonces and PKCE verifiers.
func (a *Auth) RandomString(n int) (string, error) { return a.randomString(n, alphanumeric) }
