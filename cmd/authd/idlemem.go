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
// it back down; so does the end of many goroutines (the HTTP server's, a
// second after a burst of connections), whose stacks only a collection frees.
// The scrypt hasher releases its own buffers the same way.
const (
	idleTick = time.Second
	// Allocating less than idleAllocs in a tick is being idle: one
	// get-session allocates about 3 KiB, so that is under ~80 a second.
	idleAllocs = 256 << 10
	// A release costs a full collection: it is worth it only after
	// busyAllocs have been allocated, or idleGoroutines goroutines (8 KiB
	// of stack at least each) have ended, since the last one.
	busyAllocs     = 8 << 20
	idleGoroutines = 64
)

// idleRelease decides, tick by tick, when to release memory, from the
// process's cumulative count of allocated bytes and its goroutines.
type idleRelease struct {
	last, released uint64
	goroutines     uint64 // at the last release
}

// tick reports whether to release now, given the counts at this tick.
func (r *idleRelease) tick(allocs, goroutines uint64) bool {
	quiet := allocs-r.last < idleAllocs
	r.last = allocs
	ended := r.goroutines > goroutines && r.goroutines-goroutines >= idleGoroutines
	return quiet && (allocs-r.released >= busyAllocs || ended)
}

// releasedAt records a release, after which the counts stood at these.
func (r *idleRelease) releasedAt(allocs, goroutines uint64) {
	r.last, r.released, r.goroutines = allocs, allocs, goroutines
}

// releaseWhenIdle calls release whenever the process turns idle after a
// burst, checking on every tick until ctx ends; counts reads the cumulative
// count of allocated bytes and the number of goroutines.
func releaseWhenIdle(ctx context.Context, ticks <-chan time.Time, counts func() (allocs, goroutines uint64), release func()) {
	var r idleRelease
	r.releasedAt(counts())
	for {
		select {
		case <-ctx.Done():
			return
		case <-ticks:
		}
		if r.tick(counts()) {
			release()
			r.releasedAt(counts())
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

// runtimeCounts reads the runtime's count of bytes allocated since the
// start and its number of live goroutines.
func runtimeCounts() (allocs, goroutines uint64) {
	s := []metrics.Sample{{Name: "/gc/heap/allocs:bytes"}, {Name: "/sched/goroutines:goroutines"}}
	metrics.Read(s)
	return s[0].Value.Uint64(), s[1].Value.Uint64()
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
				releaseWhenIdle(ctx, t.C, runtimeCounts, releaseMemory)
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
