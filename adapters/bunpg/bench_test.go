package bunpg_test

import (
	"context"
	"testing"

	"github.com/authd/authd/adapters/bunpg"
	"github.com/authd/authd/adapters/bunpg/bunpgtest"
)

// BenchmarkByToken is get-session's lookup against Postgres, one caller at
// a time and from parallel callers (the batched path).
func BenchmarkByToken(b *testing.B) {
	cfg, db := bunpgtest.NewMigratedDatabase(b)
	_, s := seedSession(b, db, cfg, "bench@example.com")
	sessions := bunpg.NewSessionRepository(db, cfg)
	ctx := context.Background()
	lookup := func(b *testing.B) {
		if _, _, err := sessions.ByToken(ctx, s.Token()); err != nil {
			b.Error(err) // Fatal may not be called from RunParallel's goroutines
		}
	}
	b.Run("serial", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			lookup(b)
		}
	})
	b.Run("parallel", func(b *testing.B) {
		b.ReportAllocs()
		b.SetParallelism(8)
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				lookup(b)
			}
		})
	})
}
