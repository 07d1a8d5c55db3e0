package mail

import (
	"log/slog"
	"time"

	"go.uber.org/fx"

	"github.com/authd/authd/core"
)

// Config selects and bounds the mailer: SMTP when SMTP.Host is set, else the
// log (development), always behind an Async queue of Workers senders,
// QueueSize waiting mails and Timeout per delivery.
type Config struct {
	SMTP      SMTPConfig
	Workers   int
	QueueSize int
	Timeout   time.Duration
}

// Module provides the core.Mailer and drains its queue when the application
// stops. It needs Config and a *slog.Logger in the graph.
var Module = fx.Module("mail", fx.Provide(newQueuedMailer))

// newQueuedMailer always queues, so that a slow or failing mail server never
// holds up a request or reveals whether an account exists.
func newQueuedMailer(lc fx.Lifecycle, cfg Config, log *slog.Logger) (core.Mailer, error) {
	var inner core.Mailer
	if cfg.SMTP.Host == "" {
		inner = NewLogMailer(log)
	} else {
		m, err := NewSMTPMailer(cfg.SMTP)
		if err != nil {
			return nil, err
		}
		inner = m
	}
	async := NewAsync(inner, cfg.Workers, cfg.QueueSize, cfg.Timeout, log)
	lc.Append(fx.StopHook(async.Close))
	return async, nil
}
