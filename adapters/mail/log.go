package mail

import (
	"context"
	"log/slog"

	"github.com/authd/authd/core"
)

// LogMailer is for local development only (it is what authd uses when
// SMTP_HOST is unset): instead of sending mail it logs the recipient, the
// subject and the whole text at INFO, because the developer needs the link
// to verify an email or reset a password. That text holds live tokens, which
// is why this mailer must never run in production.
type LogMailer struct {
	log *slog.Logger
}

// NewLogMailer logs through log (slog.Default() when nil) and warns once
// that mails, tokens included, go to the log.
func NewLogMailer(log *slog.Logger) *LogMailer {
	if log == nil {
		log = slog.Default()
	}
	log.Warn("no SMTP server configured: mails are written to this log, links and tokens included; do not run this in production")
	return &LogMailer{log: log}
}

// Send logs m and never fails.
func (l *LogMailer) Send(ctx context.Context, m core.Mail) error {
	l.log.InfoContext(ctx, "mail (development: not sent)", "to", m.To, "subject", m.Subject, "text", m.Text)
	return nil
}
