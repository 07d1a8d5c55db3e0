package mail

import (
	"context"
	"fmt"
	"log/slog"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/authd/authd/core"
)

// Async decorates a Mailer so that Send only enqueues: a slow or dead mail
// server then neither delays responses nor reveals, through timing, whether
// an account exists. Delivery failures are logged, never returned, which is
// also what better-auth does with errors from its mail hooks.
//
// Logs name the recipient's domain only and never contain the text, which
// holds live tokens.
type Async struct {
	inner   core.Mailer
	queue   chan core.Mail
	timeout time.Duration
	log     *slog.Logger

	mu     sync.RWMutex // orders Send's enqueue against Close's close(queue)
	closed bool

	base  context.Context
	abort context.CancelFunc // ends in-flight deliveries when Close runs out of time
	done  chan struct{}      // closed when every worker has returned
}

// NewAsync starts workers (at least 1) that deliver through inner with a
// per-mail timeout (30 s when <= 0); up to queueSize mails (at least 1) wait.
func NewAsync(inner core.Mailer, workers, queueSize int, timeout time.Duration, log *slog.Logger) *Async {
	workers = max(workers, 1)
	queueSize = max(queueSize, 1)
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	if log == nil {
		log = slog.Default()
	}
	base, abort := context.WithCancel(context.Background())
	a := &Async{
		inner:   inner,
		queue:   make(chan core.Mail, queueSize),
		timeout: timeout,
		log:     log,
		base:    base,
		abort:   abort,
		done:    make(chan struct{}),
	}
	var wg sync.WaitGroup
	for range workers {
		wg.Go(a.work)
	}
	go func() {
		wg.Wait()
		close(a.done)
	}()
	return a
}

// Send enqueues m and returns nil at once. When the queue is full, or after
// Close, the mail is dropped and an error is logged.
func (a *Async) Send(ctx context.Context, m core.Mail) error {
	a.mu.RLock()
	defer a.mu.RUnlock()
	if a.closed {
		a.log.ErrorContext(ctx, "mail dropped: mailer is shut down", "domain", domain(m.To), "subject", m.Subject)
		return nil
	}
	select {
	case a.queue <- m:
	default:
		a.log.ErrorContext(ctx, "mail dropped: queue full", "domain", domain(m.To), "subject", m.Subject, "capacity", cap(a.queue))
	}
	return nil
}

// Close stops taking mail and waits until the queue is delivered. If ctx
// ends first it aborts in-flight deliveries, drops the rest and returns
// ctx's error. It suits an fx OnStop hook.
func (a *Async) Close(ctx context.Context) error {
	a.mu.Lock()
	if !a.closed {
		a.closed = true
		close(a.queue)
	}
	a.mu.Unlock()
	select {
	case <-a.done:
		a.abort()
		return nil
	case <-ctx.Done():
		a.abort()
		return fmt.Errorf("mail: shutdown: %w", ctx.Err())
	}
}

func (a *Async) work() {
	for m := range a.queue {
		if a.base.Err() != nil {
			a.log.Error("mail dropped: shutdown deadline passed", "domain", domain(m.To), "subject", m.Subject)
			continue
		}
		a.deliver(m)
	}
}

func (a *Async) deliver(m core.Mail) {
	ctx, cancel := context.WithTimeout(a.base, a.timeout)
	defer cancel()
	start := time.Now()
	if err := a.inner.Send(ctx, m); err != nil {
		a.log.Error("mail delivery failed", "domain", domain(m.To), "subject", m.Subject,
			"elapsed", time.Since(start), "err", redact(err.Error()))
	}
}

func domain(addr string) string {
	if at := strings.LastIndexByte(addr, '@'); at >= 0 {
		return addr[at+1:]
	}
	return "?"
}

// address matches a mail address's local part and domain, as servers quote
// them in rejections ("550 5.1.1 <bob@example.com>: ...").
var address = regexp.MustCompile(`[A-Za-z0-9.!#$%&'*+/=?^_{|}~-]+@([A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*)`)

// redact removes every mail address's local part from a server's error
// text (SMTP rejections usually quote the recipient, and a relay may quote
// others), so logs hold domains only.
func redact(text string) string {
	return address.ReplaceAllString(text, "<recipient>@$1")
}
