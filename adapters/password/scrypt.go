// Package password hashes and verifies passwords in better-auth's scrypt
// format ("salt:key" in hex), a bounded number at a time.
package password

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"runtime"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/crypto/scrypt"
	"golang.org/x/sync/semaphore"
	"golang.org/x/text/unicode/norm"

	"github.com/authd/authd/core"
)

// better-auth 1.7.25's parameters (@better-auth/utils password.node.mjs). They
// cannot be raised without breaking hashes shared with better-auth.
const (
	scryptN   = 16384
	scryptR   = 16
	scryptP   = 1
	keyLen    = 64
	saltBytes = 16
)

// queuePerSlot sizes the default wait queue: at roughly 80 ms per hash a
// caller at the back waits about five seconds per slot, after which a fast 503
// serves it better than a request that times out anyway.
const queuePerSlot = 64

// idleRelease is how long the hasher must stay unused before the memory of
// its last hashes goes back to the OS.
const idleRelease = time.Second

// decoyHash is a better-auth hash of 32 random bytes that were thrown away, so
// no password matches it. It was produced by better-auth's own hashPassword.
const decoyHash = "504ae30e17383b946c3da3301ab14e7e:d4321f24247b2b4f9fabcdbc085d21991999979f438c96e99ce78cc2beb3ec72c170bfd06761eb8ed581d70a936cf412ca307dbf375993fb61d6afe27c9811a7"

var (
	// ErrHasherBusy is the cause carried by core.ErrUnavailable when the wait
	// queue is full: under a sign-in flood, rejecting at once keeps memory and
	// latency bounded where queueing forever would not.
	ErrHasherBusy = errors.New("password hasher: too many callers waiting")
	// ErrMalformedHash means a stored hash is not in better-auth's format.
	ErrMalformedHash = errors.New("password hasher: malformed hash")
)

// ScryptHasher implements core.PasswordHasher in better-auth's format,
// "<hex salt>:<hex key>", so databases stay shareable with better-auth.
//
// Each hash needs 128·N·r = 32 MiB, so at most maxConcurrent run at once;
// further callers wait in FIFO order (semaphore.Weighted is FIFO), giving up
// when their ctx ends, and beyond maxQueue waiters new callers are refused.
type ScryptHasher struct {
	slots    *semaphore.Weighted
	waiting  atomic.Int64
	maxQueue int64
	// derive is scrypt itself; tests replace it to observe the concurrency cap
	// without spending seconds of CPU.
	derive func(password, salt []byte) ([]byte, error)

	// After a burst of hashes their 32 MiB buffers are garbage the runtime
	// keeps mapped until its next collection, which an idle process may not
	// run for minutes: an instance that served a sign-in flood would sit at
	// its peak RSS. Once no caller has been hashing or waiting for
	// idleAfter, release (debug.FreeOSMemory) hands that memory back.
	callers   atomic.Int64
	idleMu    sync.Mutex
	idle      *time.Timer
	idleAfter time.Duration
	release   func()
}

// NewScryptHasher bounds hashing to maxConcurrent parallel computations
// (GOMAXPROCS when <= 0: each run takes a core) and maxQueue waiting callers (64 per slot when
// <= 0, so that a zero config value means the default).
func NewScryptHasher(maxConcurrent, maxQueue int) *ScryptHasher {
	if maxConcurrent <= 0 {
		maxConcurrent = runtime.GOMAXPROCS(0)
	}
	if maxQueue <= 0 {
		maxQueue = queuePerSlot * maxConcurrent
	}
	return &ScryptHasher{
		slots:    semaphore.NewWeighted(int64(maxConcurrent)),
		maxQueue: int64(maxQueue),
		derive: func(password, salt []byte) ([]byte, error) {
			return scrypt.Key(password, salt, scryptN, scryptR, scryptP, keyLen)
		},
		idleAfter: idleRelease,
		release:   debug.FreeOSMemory,
	}
}

// Decoy returns a valid hash that no password matches. The sign-in service
// verifies against it when the user does not exist, so that an unknown email
// costs the same scrypt run as a wrong password.
func (h *ScryptHasher) Decoy() string { return decoyHash }

// Hash returns "<32 hex salt>:<128 hex key>". As in better-auth, the scrypt
// salt is the ASCII of the hex string, not the 16 random bytes.
func (h *ScryptHasher) Hash(ctx context.Context, password string) (string, error) {
	var salt [saltBytes]byte
	if _, err := rand.Read(salt[:]); err != nil {
		return "", fmt.Errorf("password hasher: salt: %w", err)
	}
	saltHex := hex.EncodeToString(salt[:])
	key, err := h.key(ctx, password, saltHex)
	if err != nil {
		return "", err
	}
	return saltHex + ":" + hex.EncodeToString(key), nil
}

// Verify recomputes the key with the stored salt string. Like better-auth it
// compares lower-case hex text, so a hash whose key was upper-cased does not
// match (better-auth answers false there too).
func (h *ScryptHasher) Verify(ctx context.Context, hash, password string) (bool, error) {
	saltHex, keyHex, ok := strings.Cut(hash, ":")
	if !ok || !isHex(saltHex, 2*saltBytes) || !isHex(keyHex, 2*keyLen) {
		return false, ErrMalformedHash
	}
	key, err := h.key(ctx, password, saltHex)
	if err != nil {
		return false, err
	}
	return subtle.ConstantTimeCompare([]byte(hex.EncodeToString(key)), []byte(keyHex)) == 1, nil
}

func (h *ScryptHasher) key(ctx context.Context, password, saltHex string) ([]byte, error) {
	h.callers.Add(1)
	defer func() {
		if h.callers.Add(-1) == 0 {
			h.armIdle()
		}
	}()
	if err := h.acquire(ctx); err != nil {
		return nil, err
	}
	defer h.slots.Release(1)
	key, err := h.derive([]byte(norm.NFKC.String(password)), []byte(saltHex))
	if err != nil {
		return nil, fmt.Errorf("password hasher: scrypt: %w", err)
	}
	return key, nil
}

// armIdle (re)starts the idle countdown; a caller arriving before it ends
// keeps the memory, since releasing it under load would only make the next
// hash fault it back in.
func (h *ScryptHasher) armIdle() {
	h.idleMu.Lock()
	defer h.idleMu.Unlock()
	if h.idle == nil {
		h.idle = time.AfterFunc(h.idleAfter, func() {
			if h.callers.Load() == 0 {
				h.release()
			}
		})
		return
	}
	h.idle.Reset(h.idleAfter)
}

// Busy reports that the wait queue is full, so that a Hash or Verify called
// now would be refused with ErrHasherBusy.
func (h *ScryptHasher) Busy() bool { return h.waiting.Load() >= h.maxQueue }

// acquire takes a slot, waiting in line unless the line is already full. The
// count of waiters may briefly overshoot maxQueue by the number of callers
// racing past TryAcquire; that bounds memory just as well.
func (h *ScryptHasher) acquire(ctx context.Context) error {
	if h.slots.TryAcquire(1) {
		return nil
	}
	if h.waiting.Add(1) > h.maxQueue {
		h.waiting.Add(-1)
		return core.ErrUnavailable.With(ErrHasherBusy)
	}
	defer h.waiting.Add(-1)
	return h.slots.Acquire(ctx, 1)
}

func isHex(s string, n int) bool {
	if len(s) != n {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}
