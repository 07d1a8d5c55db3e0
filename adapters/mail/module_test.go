package mail_test

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"go.uber.org/fx"
	"go.uber.org/fx/fxtest"

	"github.com/authd/authd/adapters/mail"
	"github.com/authd/authd/adapters/mail/smtptest"
	"github.com/authd/authd/core"
)

// The module queues in front of SMTP and delivers what is queued before
// the application has stopped.
func TestModuleQueuesAndDrainsOnStop(t *testing.T) {
	sink := smtptest.NewServer(t)
	var m core.Mailer
	app := fxtest.New(t, mail.Module, fx.NopLogger,
		fx.Supply(slog.New(slog.DiscardHandler), mail.Config{
			SMTP:    mail.SMTPConfig{Host: sink.Host(), Port: sink.Port(), TLS: mail.TLSNone, From: "a@authd.test"},
			Workers: 1, QueueSize: 4, Timeout: 5 * time.Second,
		}),
		fx.Populate(&m))
	app.RequireStart()
	for _, to := range []string{"a@example.com", "b@example.com", "c@example.com"} {
		if err := m.Send(context.Background(), testMail(to)); err != nil {
			t.Fatal(err)
		}
	}
	app.RequireStop()
	if n := len(sink.Messages()); n != 3 {
		t.Fatalf("%d of 3 queued mails delivered by the time Stop returned", n)
	}
}

func TestModuleRefusesABadSMTPConfig(t *testing.T) {
	app := fx.New(mail.Module, fx.NopLogger,
		fx.Supply(slog.New(slog.DiscardHandler), mail.Config{
			SMTP: mail.SMTPConfig{Host: "mail.example.com", TLS: "opportunistic", From: "a@authd.test"}, Workers: 1, QueueSize: 1,
		}),
		fx.Invoke(func(core.Mailer) {}))
	if app.Err() == nil {
		t.Fatal("module accepted an unknown TLS mode")
	}
}
