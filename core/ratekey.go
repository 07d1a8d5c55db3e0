package core

import (
	"crypto/sha256"
	"encoding/hex"
	"unicode/utf8"
)

// MaxRateKeyLen is the most a RateLimiter stores per key, in bytes. Keys are
// built from client input (addresses, emails), and a limiter holds one per
// client: unbounded keys would let one client buy memory or table space by
// the kilobyte.
const MaxRateKeyLen = 128

// BoundedRateKey is key when it fits MaxRateKeyLen, else a readable head of
// it followed by the SHA-256 of the whole key, so that two long keys share a
// counter only if they are equal.
func BoundedRateKey(key string) string {
	if len(key) <= MaxRateKeyLen {
		return key
	}
	sum := sha256.Sum256([]byte(key))
	head := MaxRateKeyLen - 1 - 2*len(sum)
	for head > 0 && !utf8.RuneStart(key[head]) {
		head--
	}
	return key[:head] + "#" + hex.EncodeToString(sum[:])
}
