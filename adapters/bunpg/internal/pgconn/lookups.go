package pgconn

import (
	"context"
	"database/sql"
	"strings"

	"github.com/authd/authd/adapters/internal/batch"
)

// Lookups answers concurrent lookups by key (get-session's, by token) with
// shared queries (see batch): at most maxInflight queries run at once,
// lookups arriving meanwhile queue, and the next query takes all of them (up
// to maxBatch). Under load that saves a round trip, a statement execution
// and two system calls per lookup, which is most of what a lookup costs: on
// the 2-core benchmark machine (wrk, one run each) get-session went from 28k
// to 41k req/s with 2 queries in flight (37k with 4, 33k with 8). A lone
// lookup runs at once, as before.
type Lookups[R any] struct {
	p     *Query
	scan  func(scan func(dest ...any) error) (key string, row R, err error)
	calls *batch.Batcher[string, R]
}

const maxBatch = 64

// NewLookups answers lookups with p, whose one argument is a text array of
// keys (see TextArray); scan reads a row and the key it answers.
func NewLookups[R any](p *Query, maxInflight int, scan func(scan func(dest ...any) error) (key string, row R, err error)) *Lookups[R] {
	b := &Lookups[R]{p: p, scan: scan}
	// The batch runs until the latest deadline among its lookups (all are
	// bounded by QueryTimeout), so a lookup that joined late is not cut
	// short by the leader's.
	b.calls = batch.New(batch.Options{Inflight: maxInflight, Size: maxBatch}, b.run)
	return b
}

// Stats reports how many batches have run and how many lookups they
// answered; their ratio is the mean batch size.
func (b *Lookups[R]) Stats() (batches, lookups uint64) { return b.calls.Stats() }

// Get returns the row for key, or sql.ErrNoRows.
func (b *Lookups[R]) Get(ctx context.Context, key string) (R, error) {
	return b.calls.Do(ctx, key)
}

// run answers every lookup of calls.
func (b *Lookups[R]) run(ctx context.Context, calls batch.Calls[string, R]) {
	var zero R
	byKey := make(map[string][]int, len(calls))
	keys := make([]string, 0, len(calls))
	for i := range calls {
		key := calls.Request(i)
		if _, dup := byKey[key]; !dup {
			keys = append(keys, key)
		}
		byKey[key] = append(byKey[key], i)
		calls.Answer(i, zero, sql.ErrNoRows)
	}
	if err := b.query(ctx, keys, byKey, calls); err == nil || len(keys) == 1 {
		return
	}
	// One query answers for up to maxBatch callers, and one bad key or one
	// broken connection would fail them all: ask for each key on its own,
	// once, while the deadline allows.
	for _, key := range keys {
		if ctx.Err() != nil {
			return // the calls keep the batch's error
		}
		for _, i := range byKey[key] {
			calls.Answer(i, zero, sql.ErrNoRows)
		}
		_ = b.query(ctx, []string{key}, byKey, calls)
	}
}

// query looks up keys and answers with each row the calls of byKey waiting
// for it; if it fails, every call waiting for one of keys gets the error.
func (b *Lookups[R]) query(ctx context.Context, keys []string, byKey map[string][]int, calls batch.Calls[string, R]) error {
	err := b.p.Rows(ctx, nil, func(scan func(dest ...any) error) error {
		key, r, err := b.scan(scan)
		if err != nil {
			return err
		}
		for _, i := range byKey[key] {
			calls.Answer(i, r, nil)
		}
		return nil
	}, TextArray(keys))
	if err != nil {
		var zero R
		for _, key := range keys {
			for _, i := range byKey[key] {
				calls.Answer(i, zero, err)
			}
		}
	}
	return err
}

// TextArray is a Postgres array literal of ss, every element quoted.
func TextArray(ss []string) string {
	var b strings.Builder
	b.WriteByte('{')
	for i, s := range ss {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteByte('"')
		for j := 0; j < len(s); j++ {
			if s[j] == '"' || s[j] == '\\' {
				b.WriteByte('\\')
			}
			b.WriteByte(s[j])
		}
		b.WriteByte('"')
	}
	b.WriteByte('}')
	return b.String()
}
