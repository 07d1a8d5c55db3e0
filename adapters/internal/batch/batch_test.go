package batch_test

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/authd/authd/adapters/internal/batch"
)

// job is a request of the tests' batches: its answer is id*10. A batch
// holding a job waits for hold to close before answering; one holding a
// boom job panics.
type job struct {
	id   int
	hold chan struct{}
	boom bool
}

// recorder is a Batcher of jobs that records the ids of every batch it ran,
// in order, the context each ran with, and that context's error once its
// jobs were no longer held.
type recorder struct {
	b *batch.Batcher[job, int]

	mu      sync.Mutex
	batches [][]int
	ctxs    []context.Context
	errs    []error
}

func newRecorder(opt batch.Options) *recorder {
	r := &recorder{}
	r.b = batch.New(opt, func(ctx context.Context, calls batch.Calls[job, int]) {
		ids := make([]int, len(calls))
		for i := range calls {
			ids[i] = calls.Request(i).id
		}
		r.mu.Lock()
		r.batches = append(r.batches, ids)
		r.ctxs = append(r.ctxs, ctx)
		r.mu.Unlock()
		for i := range calls {
			j := calls.Request(i)
			if j.hold != nil {
				<-j.hold
				r.mu.Lock()
				r.errs = append(r.errs, ctx.Err())
				r.mu.Unlock()
			}
			if j.boom {
				panic("boom")
			}
			calls.Answer(i, j.id*10, nil)
		}
	})
	return r
}

func (r *recorder) ran() [][]int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.batches)
}

type answer struct {
	id       int
	v        int
	err      error
	panicked bool
}

// do runs a call and reports its answer, or its panic, on a channel.
func (r *recorder) do(ctx context.Context, j job) <-chan answer {
	c := make(chan answer, 1)
	go func() {
		a := answer{id: j.id}
		defer func() {
			if p := recover(); p != nil {
				a.panicked = true
			}
			c <- a
		}()
		a.v, a.err = r.b.Do(ctx, j)
	}()
	return c
}

// waitQueued waits until inflight batches run and pending calls wait.
func waitQueued(t *testing.T, b *batch.Batcher[job, int], inflight, pending int) {
	t.Helper()
	for {
		in, p := b.Queued()
		if in == inflight && p == pending {
			return
		}
		runtime.Gosched()
	}
}

// waitRunning waits until n batches have started; one held by a job has
// taken its calls already.
func waitRunning(t *testing.T, r *recorder, n int) {
	t.Helper()
	for len(r.ran()) < n {
		runtime.Gosched()
	}
}

// lineUp starts a call of job 0, held until release is called, then queues
// calls of ids behind it in that order (Inflight must be 1).
func lineUp(t *testing.T, r *recorder, ids ...int) (answers []<-chan answer, release func()) {
	t.Helper()
	hold := make(chan struct{})
	var once sync.Once
	release = func() { once.Do(func() { close(hold) }) }
	t.Cleanup(release)
	answers = append(answers, r.do(context.Background(), job{id: 0, hold: hold}))
	waitRunning(t, r, 1)
	for i, id := range ids {
		answers = append(answers, r.do(context.Background(), job{id: id}))
		waitQueued(t, r.b, 1, i+1)
	}
	return answers, release
}

// receive returns a call's answer. The bound only turns a hang into a
// failure; every call here answers at once when nothing hangs.
func receive(t *testing.T, c <-chan answer) answer {
	t.Helper()
	select {
	case a := <-c:
		return a
	case <-time.After(20 * time.Second):
		t.Fatal("a call never returned")
		return answer{}
	}
}

func wantAnswer(t *testing.T, a answer) {
	t.Helper()
	if a.panicked || a.err != nil || a.v != a.id*10 {
		t.Errorf("call %d: %+v, want %d", a.id, a, a.id*10)
	}
}

func wantStats(t *testing.T, b *batch.Batcher[job, int], batches, calls uint64) {
	t.Helper()
	if gb, gc := b.Stats(); gb != batches || gc != calls {
		t.Errorf("Stats() = %d batches, %d calls; want %d, %d", gb, gc, batches, calls)
	}
}

// A lone call leads its own batch in its own goroutine: Do returns with
// the answer without any other goroutine's help.
func TestLoneCallRunsAtOnce(t *testing.T) {
	r := newRecorder(batch.Options{Inflight: 1, Size: 64})
	for id := 1; id <= 3; id++ {
		v, err := r.b.Do(context.Background(), job{id: id})
		if err != nil || v != id*10 {
			t.Fatalf("Do(%d) = %d, %v", id, v, err)
		}
	}
	if got, want := r.ran(), [][]int{{1}, {2}, {3}}; !slices.EqualFunc(got, want, slices.Equal) {
		t.Errorf("batches %v, want %v", got, want)
	}
	wantStats(t, r.b, 3, 3)
	waitQueued(t, r.b, 0, 0)
}

// Calls that arrive while the one batch in flight runs are answered
// together by the next, led by the oldest of them, each with its own answer.
func TestQueuedCallsShareTheNextBatch(t *testing.T) {
	r := newRecorder(batch.Options{Inflight: 1, Size: 64})
	answers, release := lineUp(t, r, 1, 2, 3, 4, 5)
	release()
	for _, c := range answers {
		wantAnswer(t, receive(t, c))
	}
	if got, want := r.ran(), [][]int{{0}, {1, 2, 3, 4, 5}}; !slices.EqualFunc(got, want, slices.Equal) {
		t.Errorf("batches %v, want %v", got, want)
	}
	wantStats(t, r.b, 2, 6)
	waitQueued(t, r.b, 0, 0)
}

// A batch takes at most Size calls; the rest wait for the next, oldest
// first.
func TestBatchSizeIsCapped(t *testing.T) {
	r := newRecorder(batch.Options{Inflight: 1, Size: 3})
	answers, release := lineUp(t, r, 1, 2, 3, 4, 5, 6, 7)
	release()
	for _, c := range answers {
		wantAnswer(t, receive(t, c))
	}
	if got, want := r.ran(), [][]int{{0}, {1, 2, 3}, {4, 5, 6}, {7}}; !slices.EqualFunc(got, want, slices.Equal) {
		t.Errorf("batches %v, want %v", got, want)
	}
	wantStats(t, r.b, 4, 8)
}

// Up to Inflight batches run at once; the next call waits.
func TestInflightBatchesAreBounded(t *testing.T) {
	r := newRecorder(batch.Options{Inflight: 2, Size: 64})
	hold := make(chan struct{})
	defer close(hold)
	first := r.do(context.Background(), job{id: 1, hold: hold})
	second := r.do(context.Background(), job{id: 2, hold: hold})
	waitRunning(t, r, 2) // both lead a batch of their own
	third := r.do(context.Background(), job{id: 3})
	waitQueued(t, r.b, 2, 1)
	hold <- struct{}{} // one of the two batches finishes...
	var done answer
	select {
	case done = <-first:
	case done = <-second:
	}
	wantAnswer(t, done)
	wantAnswer(t, receive(t, third)) // ...and hands its slot to the third
	waitQueued(t, r.b, 1, 0)
}

// A waiting call whose context ends gives up with its error, and no batch
// runs it; the calls around it are answered.
func TestCancelledWhileWaiting(t *testing.T) {
	r := newRecorder(batch.Options{Inflight: 1, Size: 64})
	answers, release := lineUp(t, r, 1)
	ctx, cancel := context.WithCancel(context.Background())
	gone := r.do(ctx, job{id: 2})
	waitQueued(t, r.b, 1, 2)
	answers = append(answers, r.do(context.Background(), job{id: 3}))
	waitQueued(t, r.b, 1, 3)
	cancel()
	if a := receive(t, gone); !errors.Is(a.err, context.Canceled) || a.v != 0 {
		t.Errorf("cancelled call: %+v, want context.Canceled", a)
	}
	release()
	for _, c := range answers {
		wantAnswer(t, receive(t, c))
	}
	if got, want := r.ran(), [][]int{{0}, {1, 3}}; !slices.EqualFunc(got, want, slices.Equal) {
		t.Errorf("batches %v, want %v", got, want)
	}
	wantStats(t, r.b, 2, 3)
	waitQueued(t, r.b, 0, 0)
}

// A waiting call whose context ends and the slot handed to it at the same
// moment either gives up (and no batch runs it) or leads the next batch and
// answers; the call queued behind it is answered either way, and the slot
// comes free.
func TestCancelRacingAHandOff(t *testing.T) {
	outcomes := map[string]int{}
	for range 200 {
		r := newRecorder(batch.Options{Inflight: 1, Size: 64})
		answers, release := lineUp(t, r)
		ctx, cancel := context.WithCancel(context.Background())
		racer := r.do(ctx, job{id: 1})
		waitQueued(t, r.b, 1, 1)
		answers = append(answers, r.do(context.Background(), job{id: 2}))
		waitQueued(t, r.b, 1, 2)
		go cancel()
		release()
		for _, c := range answers {
			wantAnswer(t, receive(t, c))
		}
		a := receive(t, racer)
		ran := r.ran()
		switch {
		case errors.Is(a.err, context.Canceled):
			outcomes["gave up"]++
			if want := [][]int{{0}, {2}}; !slices.EqualFunc(ran, want, slices.Equal) {
				t.Fatalf("the racer gave up, batches %v, want %v", ran, want)
			}
		default:
			outcomes["led"]++
			wantAnswer(t, a)
			if want := [][]int{{0}, {1, 2}}; !slices.EqualFunc(ran, want, slices.Equal) {
				t.Fatalf("the racer answered, batches %v, want %v", ran, want)
			}
		}
		waitQueued(t, r.b, 0, 0)
		cancel()
	}
	t.Logf("outcomes: %v", outcomes)
}

// A panic while a batch runs goes up its leader's stack; the others in the
// batch get ErrLeaderPanicked instead of waiting forever, the calls queued
// behind it get the slot, and the slot is free again afterwards.
func TestPanicInBatchReleasesItsSlot(t *testing.T) {
	t.Run("alone", func(t *testing.T) {
		r := newRecorder(batch.Options{Inflight: 1, Size: 64})
		if a := receive(t, r.do(context.Background(), job{id: 1, boom: true})); !a.panicked {
			t.Fatalf("boom: %+v, want a panic", a)
		}
		wantAnswer(t, receive(t, r.do(context.Background(), job{id: 2})))
		wantStats(t, r.b, 2, 2)
	})
	t.Run("with others", func(t *testing.T) {
		r := newRecorder(batch.Options{Inflight: 1, Size: 3})
		hold := make(chan struct{})
		first := r.do(context.Background(), job{id: 0, hold: hold})
		waitRunning(t, r, 1)
		// 1, the oldest waiter, leads the batch that meets boom; 4 waits
		// for the next.
		var answers []<-chan answer
		for i, j := range []job{{id: 1}, {id: 2, boom: true}, {id: 3}, {id: 4}} {
			answers = append(answers, r.do(context.Background(), j))
			waitQueued(t, r.b, 1, i+1)
		}
		close(hold)
		wantAnswer(t, receive(t, first))
		got := map[int]answer{}
		for _, c := range answers {
			a := receive(t, c)
			got[a.id] = a
		}
		if !got[1].panicked {
			t.Errorf("the leader did not panic: %+v", got[1])
		}
		for _, id := range []int{2, 3} {
			if a := got[id]; a.panicked || !errors.Is(a.err, batch.ErrLeaderPanicked) || a.v != 0 {
				t.Errorf("%d in the panicking batch: %+v, want ErrLeaderPanicked", id, a)
			}
		}
		wantAnswer(t, got[4])
		for id := 5; id < 8; id++ {
			wantAnswer(t, receive(t, r.do(context.Background(), job{id: id})))
		}
		waitQueued(t, r.b, 0, 0)
	})
}

// A batch runs with its leader's values, none of its cancellation, and the
// latest deadline among its calls (no deadline if none has one), shortened
// to Options.Timeout.
func TestBatchContext(t *testing.T) {
	type key struct{}
	deadline := func(r *recorder, batch int) (time.Time, bool) {
		r.mu.Lock()
		defer r.mu.Unlock()
		return r.ctxs[batch].Deadline()
	}

	t.Run("latest deadline", func(t *testing.T) {
		r := newRecorder(batch.Options{Inflight: 1, Size: 64})
		answers, release := lineUp(t, r)
		now := time.Now()
		var cancels []context.CancelFunc
		for i, d := range []time.Duration{time.Hour, 3 * time.Hour, 2 * time.Hour} {
			ctx, cancel := context.WithDeadline(context.WithValue(context.Background(), key{}, i+1), now.Add(d))
			cancels = append(cancels, cancel)
			answers = append(answers, r.do(ctx, job{id: i + 1}))
			waitQueued(t, r.b, 1, i+1)
		}
		release()
		for _, c := range answers {
			wantAnswer(t, receive(t, c))
		}
		for _, cancel := range cancels {
			cancel()
		}
		if d, ok := deadline(r, 0); ok {
			t.Errorf("a lone call without a deadline ran until %v", d)
		}
		if d, ok := deadline(r, 1); !ok || !d.Equal(now.Add(3*time.Hour)) {
			t.Errorf("batch ran until %v, %v; want the latest deadline, %v", d, ok, now.Add(3*time.Hour))
		}
		r.mu.Lock()
		ctx := r.ctxs[1]
		r.mu.Unlock()
		if v := ctx.Value(key{}); v != 1 {
			t.Errorf("batch's value %v, want its leader's, 1", v)
		}
	})

	t.Run("no cancellation", func(t *testing.T) {
		r := newRecorder(batch.Options{Inflight: 1, Size: 64})
		hold := make(chan struct{})
		ctx, cancel := context.WithCancel(context.Background())
		leader := r.do(ctx, job{id: 1, hold: hold})
		waitRunning(t, r, 1)
		cancel() // the leader's caller gives up while its batch runs
		close(hold)
		wantAnswer(t, receive(t, leader))
		r.mu.Lock()
		defer r.mu.Unlock()
		if r.errs[0] != nil {
			t.Errorf("batch's context: %v; want the leader's cancellation ignored", r.errs[0])
		}
	})

	t.Run("timeout", func(t *testing.T) {
		r := newRecorder(batch.Options{Inflight: 1, Size: 64, Timeout: time.Minute})
		soon := time.Now().Add(time.Second)
		ctx, cancel := context.WithDeadline(context.Background(), soon)
		defer cancel()
		wantAnswer(t, receive(t, r.do(ctx, job{id: 1})))
		ctx, cancel = context.WithTimeout(context.Background(), time.Hour)
		defer cancel()
		wantAnswer(t, receive(t, r.do(ctx, job{id: 2})))
		before := time.Now()
		wantAnswer(t, receive(t, r.do(context.Background(), job{id: 3})))
		if d, ok := deadline(r, 0); !ok || !d.Equal(soon) {
			t.Errorf("batch ran until %v, %v; want its call's deadline %v, sooner than Timeout", d, ok, soon)
		}
		for i := 1; i < 3; i++ {
			if d, ok := deadline(r, i); !ok || d.After(time.Now().Add(time.Minute)) || (i == 2 && d.Before(before.Add(time.Minute))) {
				t.Errorf("batch %d ran until %v, %v; want Timeout from its start", i, d, ok)
			}
		}
	})
}

// Many callers at once, some giving up: every call that returns without
// its context's error has its own answer from exactly one batch, no batch
// exceeds Size, no more than Inflight run at once, and Stats counts them.
func TestConcurrentCalls(t *testing.T) {
	const (
		callers  = 32
		each     = 200
		inflight = 2
		size     = 8
	)
	var running, most atomic.Int32
	var mu sync.Mutex
	seen := map[int]int{}
	b := batch.New(batch.Options{Inflight: inflight, Size: size}, func(ctx context.Context, calls batch.Calls[int, int]) {
		n := running.Add(1)
		defer running.Add(-1)
		for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
		}
		if len(calls) > size {
			t.Errorf("a batch of %d calls, want at most %d", len(calls), size)
		}
		mu.Lock()
		for i := range calls {
			seen[calls.Request(i)]++
		}
		mu.Unlock()
		runtime.Gosched()
		for i := range calls {
			calls.Answer(i, -calls.Request(i), nil)
		}
	})
	var answered, gaveUp atomic.Uint64
	var wg sync.WaitGroup
	for g := range callers {
		wg.Go(func() {
			for i := range each {
				id := g*each + i
				ctx, cancel := context.WithCancel(context.Background())
				if i%4 == 0 {
					go cancel()
				}
				v, err := b.Do(ctx, id)
				cancel()
				switch {
				case errors.Is(err, context.Canceled) && i%4 == 0:
					gaveUp.Add(1)
					mu.Lock()
					if seen[id] != 0 {
						t.Errorf("call %d gave up, yet a batch ran it", id)
					}
					mu.Unlock()
				case err != nil || v != -id:
					t.Errorf("call %d: %d, %v", id, v, err)
				default:
					answered.Add(1)
				}
			}
		})
	}
	wg.Wait()
	for id, n := range seen {
		if n != 1 {
			t.Errorf("call %d ran in %d batches", id, n)
		}
	}
	if uint64(len(seen)) != answered.Load() || answered.Load()+gaveUp.Load() != callers*each {
		t.Errorf("%d calls ran, %d answered, %d gave up, of %d", len(seen), answered.Load(), gaveUp.Load(), callers*each)
	}
	if m := most.Load(); m > inflight {
		t.Errorf("%d batches ran at once, want at most %d", m, inflight)
	}
	batches, calls := b.Stats()
	if calls != answered.Load() || batches == 0 || batches > calls {
		t.Errorf("Stats() = %d batches, %d calls; want %d calls", batches, calls, answered.Load())
	}
	if in, p := b.Queued(); in != 0 || p != 0 {
		t.Errorf("after all calls returned: %d batches running, %d calls waiting", in, p)
	}
	t.Logf("%d calls in %d batches, %d gave up", calls, batches, gaveUp.Load())
}

func ExampleBatcher() {
	squares := batch.New(batch.Options{Inflight: 2, Size: 64}, func(ctx context.Context, calls batch.Calls[int, int]) {
		for i := range calls {
			n := calls.Request(i)
			calls.Answer(i, n*n, nil)
		}
	})
	v, err := squares.Do(context.Background(), 7)
	fmt.Println(v, err)
	// Output: 49 <nil>
}
