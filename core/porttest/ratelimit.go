package porttest

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/authd/authd/core"
)

// RunRateLimiter checks core.RateLimiter against better-auth's algorithm:
// the first request counts 1; once now - lastRequest >= window the count
// restarts at 1; otherwise a request is denied at count >= max, or counted
// and lastRequest moves to now. Denied requests change nothing, and Peek
// predicts Consume's verdict without changing anything either.
func RunRateLimiter(t *testing.T, newAdapters func(t *testing.T) Adapters) {
	runGroup(t, newAdapters, func(a Adapters) []string { return nilPorts(a, "RateLimiter", "Tx") }, []testCase{
		{"SlidingWindow", rateSlidingWindow},
		{"KeysAreIndependent", rateKeysIndependent},
		{"ConcurrentConsumeIsAtomic", rateConcurrent},
		{"PeekCountsNothing", ratePeekCountsNothing},
		{"PeekFollowsTheWindow", ratePeekFollowsWindow},
		{"RetryAfterNeverExceedsTheWindow", rateRetryClamped},
		{"ResetForgetsTheKeyOnly", rateReset},
		{"ResetInsideATransaction", rateResetInTx},
		{"ResetPrefixForgetsThePrefixOnly", rateResetPrefix},
		{"ResetPrefixInsideATransaction", rateResetPrefixInTx},
		{"LongKeysStayDistinct", rateLongKeys},
	})
}

const (
	rateWindow = 10 * time.Second
	rateMax    = 3
)

func consume(t *testing.T, a Adapters, key string, at time.Time) core.RateDecision {
	t.Helper()
	d, err := a.RateLimiter.Consume(t.Context(), key, rateWindow, rateMax, at)
	noErr(t, "Consume", err)
	return d
}

func wantAllowed(t *testing.T, a Adapters, key string, at time.Time, step string) {
	t.Helper()
	if d := consume(t, a, key, at); !d.Allowed {
		t.Fatalf("%s: denied (retry after %v), want allowed", step, d.RetryAfter)
	}
}

// wantDenied also checks RetryAfter, which better-auth computes as
// lastRequest + window - now.
func wantDenied(t *testing.T, a Adapters, key string, at time.Time, retryAfter time.Duration, step string) {
	t.Helper()
	d := consume(t, a, key, at)
	if d.Allowed {
		t.Fatalf("%s: allowed, want denied", step)
	}
	if d.RetryAfter != retryAfter {
		t.Fatalf("%s: RetryAfter = %v, want %v", step, d.RetryAfter, retryAfter)
	}
}

func rateSlidingWindow(t *testing.T, a Adapters) {
	key, t0 := "203.0.113.9|/sign-in/email|"+randID(), now()
	wantAllowed(t, a, key, t0, "1st request")
	wantAllowed(t, a, key, t0.Add(time.Second), "2nd request")
	wantAllowed(t, a, key, t0.Add(2*time.Second), "3rd request")
	wantDenied(t, a, key, t0.Add(3*time.Second), 9*time.Second, "4th request")
	// The window runs from the last allowed request, not the first.
	wantDenied(t, a, key, t0.Add(rateWindow), 2*time.Second, "request one window after the first")
	// Denied requests do not move lastRequest: if they did, this one would
	// wait a full window.
	wantDenied(t, a, key, t0.Add(rateWindow+2*time.Second-time.Millisecond), time.Millisecond, "request 1ms before the window frees")
	// now - lastRequest == window frees the key and restarts the count at 1,
	// so two more fit before the limit.
	t1 := t0.Add(rateWindow + 2*time.Second)
	wantAllowed(t, a, key, t1, "request as the window frees")
	wantAllowed(t, a, key, t1.Add(time.Millisecond), "2nd request of the new window")
	wantAllowed(t, a, key, t1.Add(2*time.Millisecond), "3rd request of the new window")
	wantDenied(t, a, key, t1.Add(3*time.Millisecond), rateWindow-time.Millisecond, "4th request of the new window")
}

func rateKeysIndependent(t *testing.T, a Adapters) {
	at := now()
	exhausted, fresh := "198.51.100.1|/sign-up/email|"+randID(), "198.51.100.2|/sign-up/email|"+randID()
	for range rateMax {
		wantAllowed(t, a, exhausted, at, "request within the limit")
	}
	wantDenied(t, a, exhausted, at, rateWindow, "request over the limit")
	for range rateMax {
		wantAllowed(t, a, fresh, at, "request on another key")
	}
	wantDenied(t, a, fresh, at, rateWindow, "request over the limit on another key")
}

func rateConcurrent(t *testing.T, a Adapters) {
	const callers = 50
	key, at := "192.0.2.1|/sign-in/email|"+randID(), now()
	start := make(chan struct{})
	var wg sync.WaitGroup
	decisions := make([]core.RateDecision, callers)
	errs := make([]error, callers)
	for i := range callers {
		wg.Go(func() {
			<-start
			decisions[i], errs[i] = a.RateLimiter.Consume(t.Context(), key, rateWindow, rateMax, at)
		})
	}
	close(start)
	wg.Wait()
	allowed := 0
	for i, d := range decisions {
		noErr(t, "Consume", errs[i])
		if d.Allowed {
			allowed++
		} else if d.RetryAfter <= 0 || d.RetryAfter > rateWindow {
			t.Fatalf("denied Consume: RetryAfter = %v, want in (0, %v]", d.RetryAfter, rateWindow)
		}
	}
	if allowed != rateMax {
		t.Fatalf("%d of %d concurrent Consume calls allowed, want exactly %d", allowed, callers, rateMax)
	}
}

func peek(t *testing.T, a Adapters, key string, at time.Time) core.RateDecision {
	t.Helper()
	d, err := a.RateLimiter.Peek(t.Context(), key, rateWindow, rateMax, at)
	noErr(t, "Peek", err)
	return d
}

func wantPeekAllowed(t *testing.T, a Adapters, key string, at time.Time, step string) {
	t.Helper()
	if d := peek(t, a, key, at); !d.Allowed {
		t.Fatalf("%s: Peek denied (retry after %v), want allowed", step, d.RetryAfter)
	}
}

func wantPeekDenied(t *testing.T, a Adapters, key string, at time.Time, retryAfter time.Duration, step string) {
	t.Helper()
	d := peek(t, a, key, at)
	if d.Allowed {
		t.Fatalf("%s: Peek allowed, want denied", step)
	}
	if d.RetryAfter != retryAfter {
		t.Fatalf("%s: Peek RetryAfter = %v, want %v", step, d.RetryAfter, retryAfter)
	}
}

// ratePeekCountsNothing: any number of peeks, on a fresh key, below the limit
// or at it, leaves the count and lastRequest as they were.
func ratePeekCountsNothing(t *testing.T, a Adapters) {
	key, t0 := "signin-failed:"+randEmail(), now()
	for range rateMax + 2 {
		wantPeekAllowed(t, a, key, t0, "peek at a fresh key")
	}
	for i := range rateMax {
		at := t0.Add(time.Duration(i) * time.Second)
		wantAllowed(t, a, key, at, "request after peeks")
		if i < rateMax-1 {
			wantPeekAllowed(t, a, key, at, "peek below the limit")
		}
	}
	last := t0.Add((rateMax - 1) * time.Second)
	for range 3 {
		wantPeekDenied(t, a, key, last.Add(time.Second), rateWindow-time.Second, "peek at the limit")
	}
	// Had a peek counted or moved lastRequest, Consume would disagree here.
	wantDenied(t, a, key, last.Add(rateWindow-time.Millisecond), time.Millisecond, "request at the limit after peeks")
	wantPeekDenied(t, a, key, last.Add(rateWindow-time.Millisecond), time.Millisecond, "peek 1ms before the window frees")
}

// ratePeekFollowsTheWindow: Peek frees a key exactly when Consume does, and
// sees a restarted count after that.
func ratePeekFollowsWindow(t *testing.T, a Adapters) {
	key, t0 := "mail-reset:"+randID(), now()
	for range rateMax {
		wantAllowed(t, a, key, t0, "request within the limit")
	}
	wantPeekDenied(t, a, key, t0, rateWindow, "peek at the limit")
	t1 := t0.Add(rateWindow)
	wantPeekAllowed(t, a, key, t1, "peek as the window frees")
	wantAllowed(t, a, key, t1, "request as the window frees")
	// The count restarted at 1: the key is below its limit again.
	wantPeekAllowed(t, a, key, t1.Add(time.Millisecond), "peek after the restart")
	wantAllowed(t, a, key, t1.Add(time.Millisecond), "2nd request of the new window")
	wantAllowed(t, a, key, t1.Add(2*time.Millisecond), "3rd request of the new window")
	wantPeekDenied(t, a, key, t1.Add(3*time.Millisecond), rateWindow-time.Millisecond, "peek at the new window's limit")
}

// A request whose clock lags the one that last moved the window (another
// instance, or a longer wait for a connection) must still be told to wait no
// longer than the window.
func rateRetryClamped(t *testing.T, a Adapters) {
	key, t0 := "198.51.100.1|/sign-in/email|"+randID(), now()
	for i := range rateMax {
		wantAllowed(t, a, key, t0.Add(time.Duration(i+1)*time.Second), "filling the window")
	}
	wantDenied(t, a, key, t0, rateWindow, "lagging clock")
	d, err := a.RateLimiter.Peek(t.Context(), key, rateWindow, rateMax, t0)
	noErr(t, "Peek", err)
	if d.Allowed || d.RetryAfter != rateWindow {
		t.Fatalf("Peek with a lagging clock = %+v, want denied after %v", d, rateWindow)
	}
}

func rateReset(t *testing.T, a Adapters) {
	key, other, t0 := "signin-failed:"+randID(), "signin-failed:"+randID(), now()
	for range rateMax {
		wantAllowed(t, a, key, t0, "filling the window")
		wantAllowed(t, a, other, t0, "filling the other key")
	}
	wantDenied(t, a, key, t0, rateWindow, "at the limit")
	noErr(t, "Reset", a.RateLimiter.Reset(t.Context(), key))
	wantPeekAllowed(t, a, key, t0, "Peek after Reset")
	wantAllowed(t, a, key, t0, "first after Reset")
	wantDenied(t, a, other, t0, rateWindow, "the other key after Reset")
	noErr(t, "Reset of an unknown key", a.RateLimiter.Reset(t.Context(), "signin-failed:"+randID()))
}

// A Reset made inside a transaction holds once it commits.
func rateResetInTx(t *testing.T, a Adapters) {
	key, t0 := "signin-failed:"+randID(), now()
	for range rateMax {
		wantAllowed(t, a, key, t0, "filling the window")
	}
	noErr(t, "WithinTx", a.Tx.WithinTx(t.Context(), func(ctx context.Context) error { return a.RateLimiter.Reset(ctx, key) }))
	wantPeekAllowed(t, a, key, t0, "after a committed Reset")
}

// rateResetPrefix: every key under the prefix is forgotten, a key that
// merely shares its first characters or contains it elsewhere is not.
func rateResetPrefix(t *testing.T, a Adapters) {
	id, t0 := randID(), now()
	prefix := "signin-failed-net:" + id + ":"
	under := []string{prefix + "a", prefix + "b"}
	kept := []string{"signin-failed-net:" + id + "-other:a", "signin-failed-net:" + id[:len(id)-1] + ":a", "x" + prefix + "a"}
	for _, k := range append(append([]string{}, under...), kept...) {
		for range rateMax {
			wantAllowed(t, a, k, t0, "filling the window")
		}
	}
	noErr(t, "ResetPrefix", a.RateLimiter.ResetPrefix(t.Context(), prefix))
	for _, k := range under {
		wantPeekAllowed(t, a, k, t0, "key under the prefix after ResetPrefix")
	}
	for _, k := range kept {
		wantPeekDenied(t, a, k, t0, rateWindow, "key outside the prefix after ResetPrefix")
	}
	noErr(t, "ResetPrefix matching nothing", a.RateLimiter.ResetPrefix(t.Context(), "signin-failed-net:"+randID()+":"))

	// A prefix is plain text: SQL LIKE's wildcards and escape match only themselves.
	id = randID()
	wild, lookalike := `n_%\:`+id+":", "nab:"+id+":a"
	for range rateMax {
		wantAllowed(t, a, wild+"a", t0, "filling the window")
		wantAllowed(t, a, lookalike, t0, "filling the window")
	}
	noErr(t, "ResetPrefix", a.RateLimiter.ResetPrefix(t.Context(), wild))
	wantPeekAllowed(t, a, wild+"a", t0, "key under a prefix with LIKE wildcards after ResetPrefix")
	wantPeekDenied(t, a, lookalike, t0, rateWindow, "key the prefix matches only as a LIKE pattern")
}

// A ResetPrefix made inside a transaction holds once it commits.
func rateResetPrefixInTx(t *testing.T, a Adapters) {
	prefix, t0 := "signin-failed-net:"+randID()+":", now()
	key := prefix + "net"
	for range rateMax {
		wantAllowed(t, a, key, t0, "filling the window")
	}
	noErr(t, "WithinTx", a.Tx.WithinTx(t.Context(), func(ctx context.Context) error {
		return a.RateLimiter.ResetPrefix(ctx, prefix)
	}))
	wantPeekAllowed(t, a, key, t0, "after a committed ResetPrefix")
}

// Keys are stored bounded (core.BoundedRateKey); two long keys that differ
// only at the end must still count apart.
func rateLongKeys(t *testing.T, a Adapters) {
	at, head := now(), "198.51.100.1|/"+strings.Repeat("é", 3000)+randID()
	exhausted, fresh := head+"a", head+"b"
	for range rateMax {
		wantAllowed(t, a, exhausted, at, "request within the limit")
	}
	wantDenied(t, a, exhausted, at, rateWindow, "request over the limit")
	wantPeekDenied(t, a, exhausted, at, rateWindow, "peek over the limit")
	wantAllowed(t, a, fresh, at, "request on a long key differing at the end")
	noErr(t, "Reset", a.RateLimiter.Reset(t.Context(), exhausted))
	wantAllowed(t, a, exhausted, at, "request after Reset")
}
