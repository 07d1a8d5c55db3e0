package memory

import (
	"context"

	"github.com/authd/authd/core"
)

// Transactor runs a function as one transaction on a Store.
type Transactor struct{ s *Store }

var _ core.Transactor = (*Transactor)(nil)

// WithinTx holds the store lock while fn runs and restores a snapshot of the
// tables if fn fails or panics. Called with a ctx that is already inside a
// transaction of this store, it acts as a savepoint: only fn's own writes are
// undone on failure.
func (tr *Transactor) WithinTx(ctx context.Context, fn func(ctx context.Context) error) error {
	s := tr.s
	if st := s.txOf(ctx); st != nil && !st.done.Load() {
		return st.run(ctx, fn, false)
	}
	if err := s.acquire(ctx); err != nil {
		return err
	}
	defer s.release()
	st := &txState{store: s}
	return st.run(context.WithValue(ctx, txKey{}, st), fn, true)
}

// run calls fn between a snapshot and, unless fn succeeds, its restoration.
// The outermost run closes the transaction before restoring, so a straggler
// still holding its ctx cannot write after the rollback.
func (st *txState) run(ctx context.Context, fn func(ctx context.Context) error, outermost bool) error {
	s := st.store
	st.mu.Lock()
	snap := s.t.clone()
	st.mu.Unlock()
	ok := false
	defer func() {
		if outermost {
			st.done.Store(true)
		}
		if !ok {
			st.mu.Lock()
			s.t = snap
			st.mu.Unlock()
		}
	}()
	if err := fn(ctx); err != nil {
		return err
	}
	ok = true
	return nil
}
