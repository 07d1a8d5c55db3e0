package redisstore

import (
	"context"
	"runtime"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/authd/authd/adapters/internal/batch"
)

// lookups answers concurrent get-session reads with shared pipelines (see
// batch): at most GOMAXPROCS pipelines run at once, reads arriving meanwhile
// queue, and the next pipeline takes all of them (up to lookupBatch). Most
// of a lone read's cost is the round trip's system calls; under load a
// pipeline pays them once for the batch (as the Postgres adapter batches its
// lookups). A lone read runs at once.
type lookups struct {
	rdb   redis.UniversalClient
	calls *batch.Batcher[string, readAnswer]
}

const lookupBatch = 64

// readAnswer is the value of a token's key and the revocation marker of the
// user it names.
type readAnswer struct{ val, marker string }

func newLookups(rdb redis.UniversalClient, timeout time.Duration) *lookups {
	b := &lookups{rdb: rdb}
	// A pipeline is bounded by Timeout and by the latest deadline among its
	// reads, so that a read that joined late is not cut short by the
	// leader's.
	opt := batch.Options{Inflight: max(runtime.GOMAXPROCS(0), 2), Size: lookupBatch, Timeout: timeout}
	b.calls = batch.New(opt, b.run)
	return b
}

// get returns the value of the token's key and the revocation marker of
// the user it names ("" when none), or redis.Nil when there is no value.
func (b *lookups) get(ctx context.Context, token string) (val, marker string, err error) {
	a, err := b.calls.Do(ctx, token)
	return a.val, a.marker, err
}

// run answers every read of calls with one pipeline.
func (b *lookups) run(ctx context.Context, calls batch.Calls[string, readAnswer]) {
	cmds := b.pipeline(ctx, calls, readScript.EvalSha)
	for _, c := range cmds {
		if c.Err() != nil && redis.HasErrorPrefix(c.Err(), "NOSCRIPT") {
			// Redis restarted (or flushed its scripts): send the source.
			cmds = b.pipeline(ctx, calls, readScript.Eval)
			break
		}
	}
	for i, c := range cmds {
		res, err := c.Result()
		if err != nil {
			calls.Answer(i, readAnswer{}, err)
			continue
		}
		pair, _ := res.([]any)
		if len(pair) != 2 {
			calls.Answer(i, readAnswer{}, errCorrupt)
			continue
		}
		var a readAnswer
		a.val, _ = pair[0].(string)
		a.marker, _ = pair[1].(string)
		calls.Answer(i, a, nil)
	}
}

func (b *lookups) pipeline(ctx context.Context, calls batch.Calls[string, readAnswer],
	eval func(context.Context, redis.Scripter, []string, ...any) *redis.Cmd) []*redis.Cmd {
	cmds := make([]*redis.Cmd, len(calls))
	pipe := b.rdb.Pipeline()
	for i := range calls {
		cmds[i] = eval(ctx, pipe, []string{sessionKey(calls.Request(i))}, Prefix+"revoked-sessions-before-")
	}
	_, _ = pipe.Exec(ctx) // each command carries its own error
	return cmds
}
