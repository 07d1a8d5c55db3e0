package redisstore

import (
	"context"
	"errors"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

// lookups answers concurrent get-session reads with shared pipelines: at
// most maxInflight pipelines run at once, reads arriving meanwhile queue,
// and the next pipeline takes all of them (up to lookupBatch). Most of a
// lone read's cost is the round trip's system calls; under load a pipeline
// pays them once for the batch (as the Postgres adapter batches its
// lookups). A lone read runs at once.
//
// There is no goroutine of its own: the caller that finds a free slot leads
// a batch, and on finishing hands the slot to the oldest waiter, which leads
// the next batch with everything queued by then.
type lookups struct {
	rdb         redis.UniversalClient
	timeout     time.Duration
	maxInflight int

	mu       sync.Mutex
	inflight int
	pending  []*lookup

	batches, reads atomic.Uint64 // for the metrics: reads per pipeline
}

const lookupBatch = 64

type lookup struct {
	token       string
	deadline    time.Time
	state       atomic.Int32
	wake        chan struct{} // one signal: result ready, or lead
	val, marker string
	err         error
}

const (
	waiting int32 = iota
	taken
	leading
	abandoned
)

func newLookups(rdb redis.UniversalClient, timeout time.Duration) *lookups {
	return &lookups{rdb: rdb, timeout: timeout, maxInflight: max(runtime.GOMAXPROCS(0), 2)}
}

// get returns the value of the token's key and the revocation marker of
// the user it names ("" when none), or redis.Nil when there is no value.
func (b *lookups) get(ctx context.Context, token string) (val, marker string, err error) {
	l := &lookup{token: token, wake: make(chan struct{}, 1)}
	l.deadline, _ = ctx.Deadline()
	b.mu.Lock()
	if b.inflight < b.maxInflight {
		b.inflight++
		b.mu.Unlock()
		b.lead(ctx, l)
		return l.val, l.marker, l.err
	}
	b.pending = append(b.pending, l)
	b.mu.Unlock()
	select {
	case <-l.wake:
	case <-ctx.Done():
		if l.state.CompareAndSwap(waiting, abandoned) {
			return "", "", ctx.Err()
		}
		<-l.wake // taken or made leader just now: it will be signalled
	}
	if l.state.Load() == leading {
		b.lead(ctx, l)
	}
	return l.val, l.marker, l.err
}

func (b *lookups) lead(ctx context.Context, l *lookup) {
	batch := []*lookup{l}
	b.mu.Lock()
	for len(b.pending) > 0 && len(batch) < lookupBatch {
		next := b.pop()
		if next.state.CompareAndSwap(waiting, taken) {
			batch = append(batch, next)
		}
	}
	b.mu.Unlock()
	ran := false
	defer func() {
		if !ran {
			// The panic goes on up l's caller; the others must not wait
			// for answers that never come, nor the queue for the slot.
			for _, m := range batch {
				m.err = errLeaderPanicked
			}
			b.finish(batch)
		}
	}()
	b.run(ctx, batch)
	ran = true
	b.finish(batch)
}

var errLeaderPanicked = errors.New("redisstore: the read leading this batch panicked")

func (b *lookups) finish(batch []*lookup) {
	for _, m := range batch[1:] {
		m.wake <- struct{}{}
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

func (b *lookups) pop() *lookup {
	next := b.pending[0]
	b.pending[0] = nil
	b.pending = b.pending[1:]
	return next
}

// run fills in every read of batch with one pipeline, bounded by Timeout
// and by the latest deadline among them, so that a read that joined late
// is not cut short by the leader's.
func (b *lookups) run(ctx context.Context, batch []*lookup) {
	b.batches.Add(1)
	b.reads.Add(uint64(len(batch)))
	deadline := batch[0].deadline
	for _, m := range batch {
		if m.deadline.After(deadline) {
			deadline = m.deadline
		}
	}
	ctx = context.WithoutCancel(ctx)
	if bound := time.Now().Add(b.timeout); deadline.IsZero() || bound.Before(deadline) {
		deadline = bound
	}
	ctx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()
	cmds := b.pipeline(ctx, batch, readScript.EvalSha)
	for _, c := range cmds {
		if c.Err() != nil && redis.HasErrorPrefix(c.Err(), "NOSCRIPT") {
			// Redis restarted (or flushed its scripts): send the source.
			cmds = b.pipeline(ctx, batch, readScript.Eval)
			break
		}
	}
	for i, m := range batch {
		res, err := cmds[i].Result()
		if err != nil {
			m.err = err
			continue
		}
		pair, _ := res.([]any)
		if len(pair) != 2 {
			m.err = errCorrupt
			continue
		}
		m.val, _ = pair[0].(string)
		m.marker, _ = pair[1].(string)
	}
}

func (b *lookups) pipeline(ctx context.Context, batch []*lookup,
	eval func(context.Context, redis.Scripter, []string, ...any) *redis.Cmd) []*redis.Cmd {
	cmds := make([]*redis.Cmd, len(batch))
	pipe := b.rdb.Pipeline()
	for i, m := range batch {
		cmds[i] = eval(ctx, pipe, []string{sessionKey(m.token)}, Prefix+"revoked-sessions-before-")
	}
	_, _ = pipe.Exec(ctx) // each command carries its own error
	return cmds
}
