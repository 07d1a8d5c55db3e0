package password

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/authd/authd/core"
)

// gatedHasher replaces scrypt with a function that reports each call's
// password on entered and then blocks until release is closed, so tests can
// hold slots for as long as they need.
func gatedHasher(maxConcurrent, maxQueue int) (h *ScryptHasher, entered chan string, release chan struct{}) {
	h = NewScryptHasher(maxConcurrent, maxQueue)
	entered = make(chan string, 64)
	release = make(chan struct{})
	h.derive = func(pw, _ []byte) ([]byte, error) {
		entered <- string(pw)
		<-release
		return make([]byte, keyLen), nil
	}
	return h, entered, release
}

func waitForWaiting(t *testing.T, h *ScryptHasher, n int64) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for h.waiting.Load() != n {
		if time.Now().After(deadline) {
			t.Fatalf("waiting = %d, want %d", h.waiting.Load(), n)
		}
		time.Sleep(time.Millisecond)
	}
}

func TestConcurrencyIsCapped(t *testing.T) {
	h := NewScryptHasher(3, 100)
	var running, peak atomic.Int64
	h.derive = func(_, _ []byte) ([]byte, error) {
		n := running.Add(1)
		for {
			p := peak.Load()
			if n <= p || peak.CompareAndSwap(p, n) {
				break
			}
		}
		time.Sleep(10 * time.Millisecond)
		running.Add(-1)
		return make([]byte, keyLen), nil
	}
	var wg sync.WaitGroup
	for range 30 {
		wg.Go(func() {
			if _, err := h.Hash(context.Background(), "pw"); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if got := peak.Load(); got != 3 {
		t.Fatalf("peak concurrency %d, want 3", got)
	}
}

func TestFullQueueIsRejectedAtOnce(t *testing.T) {
	h, entered, release := gatedHasher(1, 1)
	done := make(chan error, 2)
	go func() { _, err := h.Hash(context.Background(), "holder"); done <- err }()
	<-entered
	if h.Busy() {
		t.Fatal("Busy with a free place in the queue")
	}
	go func() { _, err := h.Hash(context.Background(), "waiter"); done <- err }()
	waitForWaiting(t, h, 1)
	if !h.Busy() {
		t.Fatal("not Busy with the queue full")
	}

	start := time.Now()
	_, err := h.Verify(context.Background(), decoyHash, "rejected")
	if !errors.Is(err, core.ErrUnavailable) || !errors.Is(err, ErrHasherBusy) {
		t.Fatalf("err = %v, want core.ErrUnavailable carrying ErrHasherBusy", err)
	}
	var ce *core.Error
	if !errors.As(err, &ce) || ce.Kind != core.KindUnavailable {
		t.Fatalf("err = %#v, want a *core.Error of KindUnavailable", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Fatalf("rejection took %v", d)
	}

	close(release)
	for range 2 {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
	if h.Busy() {
		t.Fatal("still Busy once every caller is done")
	}
}

func TestWaitingHonoursContext(t *testing.T) {
	h, entered, release := gatedHasher(1, 10)
	held := make(chan error, 1)
	go func() { _, err := h.Hash(context.Background(), "holder"); held <- err }()
	<-entered

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if _, err := h.Hash(ctx, "impatient"); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want context.DeadlineExceeded", err)
	}
	waitForWaiting(t, h, 0)

	close(release)
	if err := <-held; err != nil {
		t.Fatal(err)
	}
	// The cancelled waiter must not have consumed or leaked the slot.
	if _, err := h.Hash(context.Background(), "next"); err != nil {
		t.Fatal(err)
	}
	if pw := <-entered; pw != "next" {
		t.Fatalf("entered %q, want next", pw)
	}
}

func TestWaitersAreServedInArrivalOrder(t *testing.T) {
	h, entered, release := gatedHasher(1, 10)
	var wg sync.WaitGroup
	wg.Go(func() { _, _ = h.Hash(context.Background(), "holder") })
	<-entered
	order := []string{"first", "second", "third", "fourth"}
	for i, pw := range order {
		wg.Go(func() { _, _ = h.Hash(context.Background(), pw) })
		waitForWaiting(t, h, int64(i+1))
	}
	close(release)
	for _, want := range order {
		if got := <-entered; got != want {
			t.Fatalf("served %q, want %q", got, want)
		}
	}
	wg.Wait()
}

// The memory of a burst goes back to the OS once nobody has hashed or waited
// for idleAfter, and not while callers keep coming.
func TestIdleReleasesMemoryOnlyAfterTheBurst(t *testing.T) {
	h, entered, release := gatedHasher(1, 10)
	var released atomic.Int64
	h.idleAfter = 50 * time.Millisecond
	h.release = func() { released.Add(1) }

	done := make(chan error, 2)
	go func() { _, err := h.Hash(context.Background(), "first"); done <- err }()
	<-entered
	go func() { _, err := h.Hash(context.Background(), "second"); done <- err }()
	waitForWaiting(t, h, 1)
	time.Sleep(3 * h.idleAfter)
	if n := released.Load(); n != 0 {
		t.Fatalf("released %d times while hashing", n)
	}
	close(release)
	for range 2 {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(5 * time.Second)
	for released.Load() == 0 {
		if time.Now().After(deadline) {
			t.Fatal("memory never released after the burst")
		}
		time.Sleep(5 * time.Millisecond)
	}
	time.Sleep(3 * h.idleAfter)
	if n := released.Load(); n != 1 {
		t.Fatalf("released %d times for one burst, want 1", n)
	}
}
