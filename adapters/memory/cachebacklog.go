package memory

import (
	"context"
	"slices"
	"strings"

	"github.com/authd/authd/core"
)

// CacheBacklog keeps core.CacheEntry values in a Store.
type CacheBacklog struct{ s *Store }

var _ core.CacheBacklog = (*CacheBacklog)(nil)

func (b *CacheBacklog) Add(ctx context.Context, e core.CacheEntry) error {
	e.Kind, e.Subject = strings.Clone(e.Kind), strings.Clone(e.Subject)
	return b.s.do(ctx, func(t *tables) error {
		t.backlogSeq++
		e.ID = t.backlogSeq
		t.backlog = append(t.backlog, e)
		return nil
	})
}

func (b *CacheBacklog) Pending(ctx context.Context, limit int) ([]core.CacheEntry, error) {
	var out []core.CacheEntry
	err := b.s.do(ctx, func(t *tables) error {
		out = slices.Clone(t.backlog[:min(limit, len(t.backlog))])
		return nil
	})
	return out, err
}

func (b *CacheBacklog) Done(ctx context.Context, ids []int64) error {
	return b.s.do(ctx, func(t *tables) error {
		t.backlog = slices.DeleteFunc(t.backlog, func(e core.CacheEntry) bool { return slices.Contains(ids, e.ID) })
		return nil
	})
}
