package mail_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/authd/authd/adapters/mail"
	"github.com/authd/authd/core"
)

var _ core.Mailer = (*mail.Async)(nil)

// syncBuffer is a log sink that workers may write while the test reads.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func newLog() (*slog.Logger, *syncBuffer) {
	buf := &syncBuffer{}
	return slog.New(slog.NewJSONHandler(buf, nil)), buf
}

// assertNoGoroutineLeak fails if, shortly after the test body, more
// goroutines run than before it.
func assertNoGoroutineLeak(t *testing.T) {
	before := runtime.NumGoroutine()
	t.Cleanup(func() {
		deadline := time.Now().Add(3 * time.Second)
		for runtime.NumGoroutine() > before {
			if time.Now().After(deadline) {
				t.Errorf("goroutines: %d before, %d after", before, runtime.NumGoroutine())
				return
			}
			time.Sleep(5 * time.Millisecond)
		}
	})
}

func closeWithin(t *testing.T, a *mail.Async, d time.Duration) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	return a.Close(ctx)
}

func TestAsyncSendDoesNotWaitForSlowMailerAndCloseDrains(t *testing.T) {
	assertNoGoroutineLeak(t)
	inner := mail.NewOutbox()
	inner.SetDelay(200 * time.Millisecond)
	log, _ := newLog()
	a := mail.NewAsync(inner, 2, 10, 5*time.Second, log)

	start := time.Now()
	for _, to := range []string{"a@example.com", "b@example.com", "c@example.com", "d@example.com"} {
		if err := a.Send(context.Background(), testMail(to)); err != nil {
			t.Fatal(err)
		}
	}
	if d := time.Since(start); d > 50*time.Millisecond {
		t.Fatalf("four Sends took %v behind a 200 ms mailer", d)
	}
	if n := len(inner.Mails()); n != 0 {
		t.Fatalf("%d mails delivered synchronously", n)
	}
	if err := closeWithin(t, a, 5*time.Second); err != nil {
		t.Fatal(err)
	}
	if n := len(inner.Mails()); n != 4 {
		t.Fatalf("Close returned with %d of 4 mails delivered", n)
	}
}

func TestAsyncLogsFailuresWithoutSecrets(t *testing.T) {
	assertNoGoroutineLeak(t)
	inner := mail.NewOutbox()
	inner.FailWith(errors.New("550 5.1.1 <Bob.Smith@Example.com>: Recipient address rejected; alias of carol.jones@example.org"))
	log, buf := newLog()
	a := mail.NewAsync(inner, 1, 10, time.Second, log)
	m := testMail("bob.smith@example.com")
	if err := a.Send(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	if err := closeWithin(t, a, 5*time.Second); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	if !strings.Contains(out, "mail delivery failed") || !strings.Contains(out, `"domain":"example.com"`) ||
		!strings.Contains(out, "Recipient address rejected") {
		t.Fatalf("failure not logged usefully:\n%s", out)
	}
	for _, secret := range []string{"bob.smith", "Bob.Smith", "carol.jones", "token=", "eyJ", "verify-email"} {
		if strings.Contains(out, secret) {
			t.Errorf("log contains %q:\n%s", secret, out)
		}
	}
}

func TestAsyncBoundsEachDelivery(t *testing.T) {
	assertNoGoroutineLeak(t)
	inner := mail.NewOutbox()
	inner.SetDelay(time.Hour)
	log, buf := newLog()
	a := mail.NewAsync(inner, 1, 10, 50*time.Millisecond, log)
	_ = a.Send(context.Background(), testMail("a@example.com"))
	if err := closeWithin(t, a, 5*time.Second); err != nil {
		t.Fatalf("Close: %v (the per-mail timeout should have ended the delivery)", err)
	}
	if out := buf.String(); !strings.Contains(out, "deadline exceeded") {
		t.Fatalf("timeout not logged:\n%s", out)
	}
}

func TestAsyncDropsWhenQueueFull(t *testing.T) {
	assertNoGoroutineLeak(t)
	inner := mail.NewOutbox()
	inner.SetDelay(time.Hour)
	log, buf := newLog()
	a := mail.NewAsync(inner, 1, 1, time.Hour, log)

	start := time.Now()
	for range 5 {
		if err := a.Send(context.Background(), testMail("a@example.com")); err != nil {
			t.Fatal(err)
		}
	}
	if d := time.Since(start); d > 50*time.Millisecond {
		t.Fatalf("Send blocked on a full queue for %v", d)
	}
	out := buf.String()
	if n := strings.Count(out, "mail dropped: queue full"); n < 3 {
		t.Fatalf("%d drops logged, want at least 3 (1 in flight, 1 queued):\n%s", n, out)
	}
	if strings.Contains(out, "verify-email") {
		t.Fatalf("drop log contains the URL:\n%s", out)
	}

	// The stuck delivery outlives Close's budget: Close gives up, aborts it
	// and the workers still exit (checked by assertNoGoroutineLeak).
	if err := closeWithin(t, a, 100*time.Millisecond); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Close = %v, want DeadlineExceeded", err)
	}
}

func TestAsyncSendAfterCloseIsDroppedNotPanicking(t *testing.T) {
	assertNoGoroutineLeak(t)
	inner := mail.NewOutbox()
	log, buf := newLog()
	a := mail.NewAsync(inner, 1, 1, time.Second, log)
	if err := closeWithin(t, a, time.Second); err != nil {
		t.Fatal(err)
	}
	if err := a.Send(context.Background(), testMail("a@example.com")); err != nil {
		t.Fatal(err)
	}
	if err := closeWithin(t, a, time.Second); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if !strings.Contains(buf.String(), "mailer is shut down") || len(inner.Mails()) != 0 {
		t.Fatalf("late mail not dropped with a log line:\n%s", buf.String())
	}
}

func TestAsyncConcurrentSendAndClose(t *testing.T) {
	assertNoGoroutineLeak(t)
	inner := mail.NewOutbox()
	log, _ := newLog()
	a := mail.NewAsync(inner, 4, 1000, time.Second, log)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 50 {
				_ = a.Send(context.Background(), testMail("a@example.com"))
			}
		})
	}
	time.Sleep(time.Millisecond)
	if err := closeWithin(t, a, 5*time.Second); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
}
