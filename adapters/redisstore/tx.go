package redisstore

import (
	"context"
	"sync"

	"github.com/authd/authd/core"
)

// Transactor wraps the database's: writes to Redis that must only follow
// a commit (a new session, a user's new data) wait in the context until it.
type Transactor struct{ inner core.Transactor }

var _ core.Transactor = (*Transactor)(nil)

func NewTransactor(inner core.Transactor) *Transactor { return &Transactor{inner} }

type hooksKey struct{}

type hooks struct {
	mu        sync.Mutex
	fns       []func(context.Context)
	rollbacks []func(context.Context)
}

func (t *Transactor) WithinTx(ctx context.Context, fn func(ctx context.Context) error) error {
	if inTx(ctx) {
		return t.inner.WithinTx(ctx, fn)
	}
	h := &hooks{}
	if err := t.inner.WithinTx(context.WithValue(ctx, hooksKey{}, h), fn); err != nil {
		for _, f := range h.rollbacks {
			f(context.WithoutCancel(ctx))
		}
		return err
	}
	for _, f := range h.fns {
		f(ctx)
	}
	return nil
}

func inTx(ctx context.Context) bool {
	_, ok := ctx.Value(hooksKey{}).(*hooks)
	return ok
}

// afterCommit runs f once the transaction in ctx commits (never if it rolls
// back), or at once outside a transaction.
func afterCommit(ctx context.Context, f func(context.Context)) {
	h, ok := ctx.Value(hooksKey{}).(*hooks)
	if !ok {
		f(ctx)
		return
	}
	h.mu.Lock()
	h.fns = append(h.fns, f)
	h.mu.Unlock()
}

// onRollback runs undo if the transaction in ctx rolls back: a write to
// Redis made inside it (sessions only in Redis) goes with the rest.
func onRollback(ctx context.Context, undo func(context.Context)) {
	if h, ok := ctx.Value(hooksKey{}).(*hooks); ok {
		h.mu.Lock()
		h.rollbacks = append(h.rollbacks, undo)
		h.mu.Unlock()
	}
}
