// Package coretest holds the test doubles of core's ports that more than one
// package's tests use, so that each port has one fake. It imports only the
// standard library, like core.
package coretest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strings"
	"sync/atomic"
)

// Hasher is a fast stand-in for scrypt (core.PasswordHasher) that counts its
// work, so that tests can assert that two paths spent the same number of
// hash operations.
type Hasher struct {
	// Ops counts Hash and Verify calls.
	Ops atomic.Int64
	// BeforeVerifyResult, when set, runs inside Verify after the comparison,
	// to inject a concurrent change at the slowest point of a real check.
	BeforeVerifyResult func()
	// Saturated is what Busy reports.
	Saturated atomic.Bool
}

const prefix = "fake$"

// Hash is the hash Hasher stores for pw.
func Hash(pw string) string {
	sum := sha256.Sum256([]byte(pw))
	return prefix + hex.EncodeToString(sum[:])
}

// Busy reports Saturated.
func (h *Hasher) Busy() bool { return h.Saturated.Load() }

// Hash returns Hash(pw).
func (h *Hasher) Hash(ctx context.Context, pw string) (string, error) {
	h.Ops.Add(1)
	return Hash(pw), ctx.Err()
}

// Verify compares hash with Hash(pw); a hash it did not make is an error.
func (h *Hasher) Verify(ctx context.Context, hash, pw string) (bool, error) {
	h.Ops.Add(1)
	if !strings.HasPrefix(hash, prefix) {
		return false, errors.New("fake hasher: malformed hash")
	}
	ok := hash == Hash(pw)
	if h.BeforeVerifyResult != nil {
		h.BeforeVerifyResult()
	}
	return ok, ctx.Err()
}
