package mail

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/authd/authd/core"
)

// Outbox is an in-memory core.Mailer for tests: it records what was sent and
// can be told to fail or to be slow. It is safe for concurrent use.
type Outbox struct {
	mu      sync.Mutex
	mails   []core.Mail
	taken   []bool
	arrived chan struct{} // closed and replaced whenever a mail is recorded
	fail    error
	delay   time.Duration
}

// NewOutbox returns an empty, working outbox.
func NewOutbox() *Outbox { return &Outbox{arrived: make(chan struct{})} }

// Send waits for the configured delay (or until ctx ends), then either
// returns the configured failure or records m.
func (o *Outbox) Send(ctx context.Context, m core.Mail) error {
	o.mu.Lock()
	delay, fail := o.delay, o.fail
	o.mu.Unlock()
	if delay > 0 {
		t := time.NewTimer(delay)
		defer t.Stop()
		select {
		case <-t.C:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	if fail != nil {
		return fail
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	o.mails = append(o.mails, m)
	o.taken = append(o.taken, false)
	close(o.arrived)
	o.arrived = make(chan struct{})
	return nil
}

// FailWith makes every later Send return err without recording the mail;
// nil restores delivery.
func (o *Outbox) FailWith(err error) {
	o.mu.Lock()
	o.fail = err
	o.mu.Unlock()
}

// SetDelay makes every later Send take d first, as a slow server would.
func (o *Outbox) SetDelay(d time.Duration) {
	o.mu.Lock()
	o.delay = d
	o.mu.Unlock()
}

// Mails returns every recorded mail, oldest first.
func (o *Outbox) Mails() []core.Mail {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]core.Mail(nil), o.mails...)
}

// Last returns the newest mail to the address to (case-insensitive).
func (o *Outbox) Last(to string) (core.Mail, bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	for i := len(o.mails) - 1; i >= 0; i-- {
		if strings.EqualFold(o.mails[i].To, to) {
			return o.mails[i], true
		}
	}
	return core.Mail{}, false
}

// WaitFor returns the oldest mail to the address to that no earlier WaitFor
// returned, waiting for one until ctx ends. Taking mails in turn lets a test
// that triggers two mails to one user read both.
func (o *Outbox) WaitFor(ctx context.Context, to string) (core.Mail, error) {
	for {
		o.mu.Lock()
		for i, m := range o.mails {
			if !o.taken[i] && strings.EqualFold(m.To, to) {
				o.taken[i] = true
				o.mu.Unlock()
				return m, nil
			}
		}
		arrived := o.arrived
		o.mu.Unlock()
		select {
		case <-arrived:
		case <-ctx.Done():
			return core.Mail{}, fmt.Errorf("outbox: no mail to %s: %w", to, ctx.Err())
		}
	}
}
