// Package batch answers concurrent calls with shared batches (one query, one
// pipeline): at most a few batches run at once, calls arriving meanwhile
// queue, and the next batch takes all of them. Under load a batch pays a
// round trip once for many callers; a lone call runs at once.
//
// There is no goroutine of its own: the caller that finds a free slot leads
// a batch, and on finishing hands the slot to the oldest waiter, which leads
// the next batch with everything queued by then.
package batch

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"
)

// Options bound a Batcher.
type Options struct {
	// Inflight is how many batches may run at once (at least 1).
	Inflight int
	// Size is how many calls a batch takes at most.
	Size int
	// Timeout, if set, bounds every batch, whatever its calls' deadlines.
	Timeout time.Duration
}

// Batcher runs calls of request Q and answer A in batches.
type Batcher[Q, A any] struct {
	run func(context.Context, Calls[Q, A])
	opt Options

	mu       sync.Mutex
	inflight int           // batches running
	pending  []*call[Q, A] // waiting for a slot, oldest first

	batches, calls atomic.Uint64 // for the metrics: calls per batch
}

type call[Q, A any] struct {
	req      Q
	deadline time.Time
	state    atomic.Int32
	wake     chan struct{} // one signal: answer ready, or lead
	ans      A
	err      error
}

const (
	waiting   int32 = iota
	taken           // in a running batch; its answer will come
	leading         // handed a slot: it runs the next batch
	abandoned       // its caller gave up before a batch took it
)

// New returns a Batcher whose batches run calls with run. run answers each
// of its calls (Calls.Answer); one it leaves unanswered gets A's zero value
// and no error. Its context carries the values of the leading caller's,
// none of its cancellation, and the latest deadline among the calls (no
// deadline if none has one), so that a call that joined late is not cut
// short by the leader's; Options.Timeout may shorten it.
func New[Q, A any](opt Options, run func(ctx context.Context, calls Calls[Q, A])) *Batcher[Q, A] {
	return &Batcher[Q, A]{run: run, opt: opt}
}

// Calls are the calls a batch answers, oldest first.
type Calls[Q, A any] []*call[Q, A]

// Request returns the request of call i.
func (c Calls[Q, A]) Request(i int) Q { return c[i].req }

// Answer sets the answer of call i; the last one set is returned to its
// caller once the batch has run.
func (c Calls[Q, A]) Answer(i int, ans A, err error) { c[i].ans, c[i].err = ans, err }

// ErrLeaderPanicked answers the calls of a batch whose run panicked; the
// panic itself goes up the stack of the caller leading the batch.
var ErrLeaderPanicked = errors.New("batch: the call leading this batch panicked")

// Stats reports how many batches have run and how many calls they
// answered; their ratio is the mean batch size.
func (b *Batcher[Q, A]) Stats() (batches, calls uint64) { return b.batches.Load(), b.calls.Load() }

// Queued reports the batches running and the calls waiting for a slot, so
// that tests can line calls up without sleeping.
func (b *Batcher[Q, A]) Queued() (inflight, pending int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.inflight, len(b.pending)
}

// Do returns req's answer from a batch, or ctx's error if ctx ends before a
// batch takes req.
func (b *Batcher[Q, A]) Do(ctx context.Context, req Q) (A, error) {
	c := &call[Q, A]{req: req, wake: make(chan struct{}, 1)}
	c.deadline, _ = ctx.Deadline()

	b.mu.Lock()
	if b.inflight < b.opt.Inflight {
		b.inflight++
		b.mu.Unlock()
		b.lead(ctx, c)
		return c.ans, c.err
	}
	b.pending = append(b.pending, c)
	b.mu.Unlock()

	select {
	case <-c.wake:
	case <-ctx.Done():
		if c.state.CompareAndSwap(waiting, abandoned) {
			var zero A
			return zero, ctx.Err()
		}
		<-c.wake // taken or made leader just now: it will be signalled
	}
	if c.state.Load() == leading {
		b.lead(ctx, c)
	}
	return c.ans, c.err
}

// lead runs one batch, c's own call and what is queued, then passes the
// slot on.
func (b *Batcher[Q, A]) lead(ctx context.Context, c *call[Q, A]) {
	b.mu.Lock()
	calls := make(Calls[Q, A], 1, min(1+len(b.pending), max(b.opt.Size, 1)))
	calls[0] = c
	for len(b.pending) > 0 && len(calls) < b.opt.Size {
		next := b.pop()
		if next.state.CompareAndSwap(waiting, taken) {
			calls = append(calls, next)
		}
	}
	b.mu.Unlock()

	ran := false
	defer func() {
		if !ran {
			// run panicked, and the panic goes on up c's caller. The
			// others in the batch must not wait for answers that never
			// come, nor the queue for a slot never handed on.
			var zero A
			for i := range calls {
				calls.Answer(i, zero, ErrLeaderPanicked)
			}
			b.finish(calls)
		}
	}()
	b.runBatch(ctx, calls)
	ran = true
	b.finish(calls)
}

func (b *Batcher[Q, A]) runBatch(ctx context.Context, calls Calls[Q, A]) {
	b.batches.Add(1)
	b.calls.Add(uint64(len(calls)))
	deadline := calls[0].deadline
	for _, c := range calls[1:] {
		if c.deadline.After(deadline) {
			deadline = c.deadline
		}
	}
	if b.opt.Timeout > 0 {
		if bound := time.Now().Add(b.opt.Timeout); deadline.IsZero() || bound.Before(deadline) {
			deadline = bound
		}
	}
	ctx = context.WithoutCancel(ctx)
	if !deadline.IsZero() {
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, deadline)
		defer cancel()
	}
	b.run(ctx, calls)
}

// finish wakes the batch's calls and passes the slot on to the oldest
// waiter, or frees it.
func (b *Batcher[Q, A]) finish(calls Calls[Q, A]) {
	for _, c := range calls[1:] {
		c.wake <- struct{}{}
	}

	b.mu.Lock()
	defer b.mu.Unlock()
	for len(b.pending) > 0 {
		next := b.pop()
		if next.state.CompareAndSwap(waiting, leading) {
			next.wake <- struct{}{}
			return
		}
	}
	b.inflight--
}

// pop takes the oldest waiter off the queue; b.mu is held.
func (b *Batcher[Q, A]) pop() *call[Q, A] {
	next := b.pending[0]
	b.pending[0] = nil // the backing array must not keep answered calls alive
	b.pending = b.pending[1:]
	return next
}
