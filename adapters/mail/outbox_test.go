package mail_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/authd/authd/adapters/mail"
	"github.com/authd/authd/core"
)

var _ core.Mailer = (*mail.Outbox)(nil)

func TestOutboxRecordsAndFinds(t *testing.T) {
	o := mail.NewOutbox()
	ctx := context.Background()
	a1, b, a2 := testMail("a@example.com"), testMail("b@example.com"), testMail("a@example.com")
	a2.Subject = "Second"
	for _, m := range []core.Mail{a1, b, a2} {
		if err := o.Send(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(o.Mails()); n != 3 {
		t.Fatalf("%d mails", n)
	}
	if m, ok := o.Last("A@example.com"); !ok || m.Subject != "Second" {
		t.Fatalf("Last = %+v, %v", m, ok)
	}
	if _, ok := o.Last("nobody@example.com"); ok {
		t.Fatal("Last found a mail for nobody")
	}
	wctx := waitCtx(t)
	if m, err := o.WaitFor(wctx, "a@example.com"); err != nil || m.Subject != a1.Subject {
		t.Fatalf("first WaitFor = %+v, %v", m, err)
	}
	if m, err := o.WaitFor(wctx, "a@example.com"); err != nil || m.Subject != "Second" {
		t.Fatalf("second WaitFor = %+v, %v", m, err)
	}
	short, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel()
	if _, err := o.WaitFor(short, "a@example.com"); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("third WaitFor err = %v", err)
	}
}

func TestOutboxWaitForBlocksUntilMailArrives(t *testing.T) {
	o := mail.NewOutbox()
	go func() {
		time.Sleep(20 * time.Millisecond)
		_ = o.Send(context.Background(), testMail("late@example.com"))
	}()
	if m, err := o.WaitFor(waitCtx(t), "late@example.com"); err != nil || m.To != "late@example.com" {
		t.Fatalf("WaitFor = %+v, %v", m, err)
	}
}

func TestOutboxFailAndDelay(t *testing.T) {
	o := mail.NewOutbox()
	boom := errors.New("boom")
	o.FailWith(boom)
	if err := o.Send(context.Background(), testMail("a@example.com")); !errors.Is(err, boom) {
		t.Fatalf("err = %v", err)
	}
	if n := len(o.Mails()); n != 0 {
		t.Fatalf("failed mail recorded")
	}
	o.FailWith(nil)
	o.SetDelay(time.Hour)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if err := o.Send(ctx, testMail("a@example.com")); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("delayed send err = %v", err)
	}
	o.SetDelay(10 * time.Millisecond)
	start := time.Now()
	if err := o.Send(context.Background(), testMail("a@example.com")); err != nil || time.Since(start) < 10*time.Millisecond {
		t.Fatalf("delayed send = %v after %v", err, time.Since(start))
	}
	if n := len(o.Mails()); n != 1 {
		t.Fatalf("%d mails", n)
	}
}
