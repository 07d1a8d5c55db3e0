package main

import (
	"context"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"sync"
	"time"

	"go.uber.org/fx"
)

// After a burst of requests the Go runtime keeps the heap it grew, and the
// stacks and pages freed since, until allocation triggers its next
// collection; a server whose traffic has stopped allocates next to nothing,
// so it would sit at its busy size (4 MiB above its start after a few
// seconds of get-session). Once the process has allocated a burst and then
// stopped allocating, a collection and a release (debug.FreeOSMemory) bring
// it back down. The scrypt hasher releases its own buffers the same way.
const (
	idleTick = time.Second
	// Allocating less than idleAllocs in a tick is being idle: one
	// get-session allocates about 3 KiB, so that is under ~80 a second.
	idleAllocs = 256 << 10
	// A release costs a full collection: it is worth it only after
	// busyAllocs have been allocated since the last one.
	busyAllocs = 8 << 20
)

// idleRelease decides, tick by tick, when to release memory, from the
// process's cumulative count of allocated bytes.
type idleRelease struct {
	last, released uint64
}

// tick reports whether to release now, allocs being the count at this tick.
func (r *idleRelease) tick(allocs uint64) bool {
	quiet := allocs-r.last < idleAllocs
	r.last = allocs
	return quiet && allocs-r.released >= busyAllocs
}

// releasedAt records a release, after which the count stood at allocs.
func (r *idleRelease) releasedAt(allocs uint64) { r.last, r.released = allocs, allocs }

// releaseWhenIdle calls release whenever the process turns idle after a
// burst, checking on every tick until ctx ends; allocs reads the cumulative
// count of allocated bytes.
func releaseWhenIdle(ctx context.Context, ticks <-chan time.Time, allocs func() uint64, release func()) {
	r := idleRelease{last: allocs()}
	for {
		select {
		case <-ctx.Done():
			return
		case <-ticks:
		}
		if r.tick(allocs()) {
			release()
			r.releasedAt(allocs())
		}
	}
}

// releaseMemory collects twice before handing freed memory back: what the
// first collection finds in sync.Pools (fasthttp's request contexts and
// buffers, bun's) survives it in the pools' victim caches.
func releaseMemory() {
	runtime.GC()
	debug.FreeOSMemory()
}

// heapAllocs is the runtime's count of bytes allocated since the start.
func heapAllocs() uint64 {
	s := []metrics.Sample{{Name: "/gc/heap/allocs:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

// startIdleRelease hands memory back whenever the server turns idle while
// the application runs. Building the application leaves a few megabytes of
// garbage; the first release happens once start-up is done.
func startIdleRelease(lc fx.Lifecycle) {
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	lc.Append(fx.Hook{
		OnStart: func(context.Context) error {
			releaseMemory()
			wg.Go(func() {
				t := time.NewTicker(idleTick)
				defer t.Stop()
				releaseWhenIdle(ctx, t.C, heapAllocs, releaseMemory)
			})
			return nil
		},
		OnStop: func(context.Context) error {
			cancel()
			wg.Wait()
			return nil
		},
	})
}
