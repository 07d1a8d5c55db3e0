package redisstore_test

import (
	"testing"
	"time"

	"github.com/authd/authd/core"
)

// get-session's lookup answered from Redis, in process.
func BenchmarkByTokenFromRedis(b *testing.B) {
	a, _ := newLayered(b)
	ctx := b.Context()
	now := time.Now().UTC()
	u, _ := core.NewUser(rid(), "Bench", rid()+"@example.com", nil, now)
	if err := a.Users.Create(ctx, u); err != nil {
		b.Fatal(err)
	}
	s, _ := core.NewSession(rid(), rid(), u.ID(), now, time.Hour, "203.0.113.7", "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36")
	if err := a.Sessions.Create(ctx, s); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.SetParallelism(16) // 32 concurrent reads, as the HTTP benchmark
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, _, err := a.Sessions.ByToken(ctx, s.Token()); err != nil {
				b.Error(err)
				return
			}
		}
	})
}
