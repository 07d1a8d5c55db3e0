package password

import "go.uber.org/fx"

// Limits bounds hashing: Concurrent scrypt runs at once (0 = GOMAXPROCS),
// Queue callers waiting (0 = 64 per concurrent run); beyond them callers are
// refused at once, so a sign-in flood is answered 503 instead of exhausting
// memory.
type Limits struct {
	Concurrent, Queue int
}

// Module provides the *ScryptHasher. It needs Limits in the graph.
var Module = fx.Module("password",
	fx.Provide(func(l Limits) *ScryptHasher { return NewScryptHasher(l.Concurrent, l.Queue) }),
)
