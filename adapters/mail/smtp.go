// Package mail delivers core.Mail: over SMTP in production, to the log in
// development, into memory in tests, and through an asynchronous queue so
// that requests never wait for a mail server.
package mail

import (
	"context"
	"errors"
	"fmt"
	netmail "net/mail"
	"strings"
	"time"

	gomail "github.com/wneessen/go-mail"

	"github.com/authd/authd/core"
)

const (
	defaultSMTPPort    = 587 // submission, the port relays expect clients on
	implicitTLSPort    = 465 // SMTPS speaks TLS from the first byte
	defaultSMTPTimeout = 10 * time.Second
)

// SMTPConfig says where and how to submit mail.
type SMTPConfig struct {
	Host string
	// Port defaults to 587. Port 465 means implicit TLS (SMTPS); any other
	// port upgrades with STARTTLS when the server offers it.
	Port int
	// Username enables SMTP AUTH; without it no AUTH is attempted.
	Username, Password string
	// From is the sender, e.g. "Example <no-reply@example.com>".
	From string
	// Timeout bounds one delivery from dial to QUIT (10 s when zero).
	Timeout time.Duration
}

// SMTPMailer implements core.Mailer with go-mail. Each Send opens its own
// connection: authd sends few mails, and a fresh client per mail leaves no
// shared connection state to guard or to go stale.
type SMTPMailer struct {
	cfg  SMTPConfig
	opts []gomail.Option
}

// NewSMTPMailer checks cfg and applies its defaults.
func NewSMTPMailer(cfg SMTPConfig) (*SMTPMailer, error) {
	if cfg.Host == "" {
		return nil, errors.New("smtp: host is required")
	}
	if _, err := netmail.ParseAddress(cfg.From); err != nil {
		return nil, fmt.Errorf("smtp: invalid from address %q: %w", cfg.From, err)
	}
	if cfg.Port == 0 {
		cfg.Port = defaultSMTPPort
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = defaultSMTPTimeout
	}
	opts := []gomail.Option{
		gomail.WithPort(cfg.Port),
		// Opportunistic so a loopback relay or test sink without TLS works,
		// while real relays still get STARTTLS.
		gomail.WithTLSPolicy(gomail.TLSOpportunistic),
	}
	if cfg.Port == implicitTLSPort {
		opts = append(opts, gomail.WithSSL())
	}
	if cfg.Username != "" {
		// Auto-discovery never offers PLAIN or LOGIN over an unencrypted
		// connection, so the password is not sent in clear text.
		opts = append(opts,
			gomail.WithSMTPAuth(gomail.SMTPAuthAutoDiscover),
			gomail.WithUsername(cfg.Username),
			gomail.WithPassword(cfg.Password))
	}
	if _, err := gomail.NewClient(cfg.Host, append(opts, gomail.WithTimeout(cfg.Timeout))...); err != nil {
		return nil, fmt.Errorf("smtp: %w", err)
	}
	return &SMTPMailer{cfg: cfg, opts: opts}, nil
}

// Send delivers m as a text/plain message whose decoded body is m.Text. It
// gives up after the configured timeout or at ctx's deadline, if sooner.
func (s *SMTPMailer) Send(ctx context.Context, m core.Mail) error {
	if strings.ContainsAny(m.Subject, "\r\n") {
		return errors.New("smtp: line break in subject")
	}
	msg := gomail.NewMsg()
	if err := msg.From(s.cfg.From); err != nil {
		return fmt.Errorf("smtp: from: %w", err)
	}
	if err := msg.To(m.To); err != nil {
		return fmt.Errorf("smtp: recipient: %w", err)
	}
	msg.Subject(m.Subject)
	msg.SetBodyString(gomail.TypeTextPlain, m.Text)

	timeout := s.cfg.Timeout
	if dl, ok := ctx.Deadline(); ok && time.Until(dl) < timeout {
		timeout = time.Until(dl)
	}
	if timeout <= 0 {
		return fmt.Errorf("smtp: %w", context.DeadlineExceeded)
	}
	c, err := gomail.NewClient(s.cfg.Host, append(s.opts, gomail.WithTimeout(timeout))...)
	if err != nil {
		return fmt.Errorf("smtp: %w", err)
	}
	if err := c.DialAndSendWithContext(ctx, msg); err != nil {
		return fmt.Errorf("smtp: %w", err)
	}
	return nil
}
