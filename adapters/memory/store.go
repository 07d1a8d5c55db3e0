// Package memory implements the repository ports in process memory. It backs
// service and HTTP tests and local runs without Postgres, and passes the same
// contract suite (core/porttest) as the Postgres adapter.
package memory

import (
	"context"
	"errors"
	"maps"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/authd/authd/core"
	"github.com/authd/authd/core/twofactor"
)

// Store holds every table. One lock guards them all: each repository call
// holds it for the call, and a transaction holds it from start to end, so a
// transaction is serialisable and its rollback (restoring a snapshot) cannot
// discard anyone else's writes.
type Store struct {
	// lock is a one-slot semaphore rather than a sync.Mutex so that a caller
	// waiting behind a long transaction gives up when its ctx ends.
	lock chan struct{}
	t    tables
	rl   *RateLimiter
	// tasks is shared by everything that uses the store, as the Postgres
	// one is by every instance.
	tasks *TaskLock
}

// tables stores records by value, with every string copied on the way in:
// Fiber hands out strings that alias reused buffers, and a stored one would
// change under us. Records are replaced, never mutated in place, which is
// what lets a snapshot get away with shallow map copies.
type tables struct {
	users         map[string]core.UserRecord         // by id
	emails        map[string]string                  // lower-case email -> user id
	sessions      map[string]core.SessionRecord      // by token
	sessionIDs    map[string]string                  // session id -> token
	accounts      map[string]core.AccountRecord      // by id
	verifications map[string]core.VerificationRecord // by id
	twoFactors    map[string]twofactor.Record        // by id
}

func NewStore() *Store {
	return &Store{
		lock: make(chan struct{}, 1),
		t: tables{
			users: map[string]core.UserRecord{}, emails: map[string]string{},
			sessions: map[string]core.SessionRecord{}, sessionIDs: map[string]string{},
			accounts: map[string]core.AccountRecord{}, verifications: map[string]core.VerificationRecord{},
			twoFactors: map[string]twofactor.Record{},
		},
		rl:    NewRateLimiter(),
		tasks: NewTaskLock(),
	}
}

func (s *Store) Users() *UserRepository                 { return &UserRepository{s} }
func (s *Store) Sessions() *SessionRepository           { return &SessionRepository{s} }
func (s *Store) Accounts() *AccountRepository           { return &AccountRepository{s} }
func (s *Store) Verifications() *VerificationRepository { return &VerificationRepository{s} }
func (s *Store) Tx() *Transactor                        { return &Transactor{s} }
func (s *Store) TwoFactors() *TwoFactorRepository       { return &TwoFactorRepository{s} }

// RateLimiter returns the store's limiter; its counters live outside the
// tables and transactions, like a limiter that must count failed requests too.
func (s *Store) RateLimiter() *RateLimiter { return s.rl }

// TaskLock returns the store's lock for periodic tasks.
func (s *Store) TaskLock() *TaskLock { return s.tasks }

func (t tables) clone() tables {
	return tables{
		users: maps.Clone(t.users), emails: maps.Clone(t.emails),
		sessions: maps.Clone(t.sessions), sessionIDs: maps.Clone(t.sessionIDs),
		accounts: maps.Clone(t.accounts), verifications: maps.Clone(t.verifications),
		twoFactors: maps.Clone(t.twoFactors),
	}
}

// txKey marks a ctx that runs inside a transaction of a Store.
type txKey struct{}

type txState struct {
	store *Store
	// mu keeps goroutines that share one transaction's ctx off each other's
	// toes; the store lock is already held for them.
	mu   sync.Mutex
	done atomic.Bool
}

func (s *Store) txOf(ctx context.Context) *txState {
	if st, ok := ctx.Value(txKey{}).(*txState); ok && st.store == s {
		return st
	}
	return nil
}

// errTxDone reports a transaction's ctx used after WithinTx returned, a bug
// that Postgres would also refuse (sql: transaction has already been
// committed or rolled back).
var errTxDone = errors.New("memory: transaction has already been committed or rolled back")

// do runs fn on the tables under the store lock, or directly when ctx belongs
// to a transaction of this store, which holds the lock already.
func (s *Store) do(ctx context.Context, fn func(t *tables) error) error {
	if st := s.txOf(ctx); st != nil {
		st.mu.Lock()
		defer st.mu.Unlock()
		if st.done.Load() {
			return errTxDone
		}
		return fn(&s.t)
	}
	if err := s.acquire(ctx); err != nil {
		return err
	}
	defer s.release()
	return fn(&s.t)
}

// acquire fails like an unreachable database would when ctx ends first.
func (s *Store) acquire(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return core.ErrUnavailable.With(err)
	}
	select {
	case s.lock <- struct{}{}:
		return nil
	case <-ctx.Done():
		return core.ErrUnavailable.With(ctx.Err())
	}
}

func (s *Store) release() { <-s.lock }

func cloneStr(p *string) *string {
	if p == nil {
		return nil
	}
	c := strings.Clone(*p)
	return &c
}
