package httpfiber

import (
	"context"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/authd/authd/core"
)

// readyEvery is how often /api/ready may reach the dependencies: the route is
// public and not rate limited, so each probe must not cost a database round
// trip.
const readyEvery = time.Second

// sharedReadiness runs check at most once per readyEvery: probes arriving
// while a check runs wait for its verdict, and later ones reuse it until
// readyEvery has passed since it was taken. Failures are reused too.
type sharedReadiness struct {
	check ReadinessFunc
	clock core.Clock
	calls singleflight.Group

	mu    sync.Mutex
	at    time.Time
	err   error
	fresh bool
}

func newSharedReadiness(check ReadinessFunc, clock core.Clock) *sharedReadiness {
	return &sharedReadiness{check: check, clock: clock}
}

func (r *sharedReadiness) ready(ctx context.Context) error {
	r.mu.Lock()
	if r.fresh && r.clock.Now().Sub(r.at) < readyEvery {
		err := r.err
		r.mu.Unlock()
		return err
	}
	r.mu.Unlock()
	ch := r.calls.DoChan("", func() (any, error) {
		// Detached from the first caller, whose context the others do not
		// share; bounded like a probe.
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), readyTimeout)
		defer cancel()
		err := r.check(cctx)
		r.mu.Lock()
		r.at, r.err, r.fresh = r.clock.Now(), err, true
		r.mu.Unlock()
		return nil, err
	})
	select {
	case res := <-ch:
		return res.Err
	case <-ctx.Done():
		return ctx.Err()
	}
}
