// Package mail delivers core.Mail: over SMTP in production, to the log in
// development, into memory in tests, and through an asynchronous queue so
// that requests never wait for a mail server.
package mail

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
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

// TLSMode is how the connection to the mail server is protected.
type TLSMode string

const (
	// TLSStartTLS requires STARTTLS: a server that does not offer it gets
	// nothing, not a mail in clear text (never opportunistic, which an
	// attacker on the path defeats by striking STARTTLS from the reply).
	TLSStartTLS TLSMode = "starttls"
	// TLSImplicit speaks TLS from the first byte (SMTPS, port 465).
	TLSImplicit TLSMode = "tls"
	// TLSNone sends in clear text, for a relay on the same host.
	TLSNone TLSMode = "none"
)

// SMTPConfig says where and how to submit mail.
type SMTPConfig struct {
	Host string
	// Port defaults to 465 with TLSImplicit, else 587.
	Port int
	// TLS defaults to TLSStartTLS.
	TLS TLSMode
	// TLSConfig replaces the client's TLS settings (tests trust their sink's
	// certificate with it); nil verifies Host against the system roots.
	TLSConfig *tls.Config
	// Username enables SMTP AUTH; without it no AUTH is attempted. With
	// TLSNone it is refused unless Host is a loopback address.
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
	if cfg.TLS == "" {
		cfg.TLS = TLSStartTLS
	}
	if cfg.Port == 0 {
		cfg.Port = defaultSMTPPort
		if cfg.TLS == TLSImplicit {
			cfg.Port = implicitTLSPort
		}
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = defaultSMTPTimeout
	}
	opts := []gomail.Option{gomail.WithPort(cfg.Port)}
	switch cfg.TLS {
	case TLSStartTLS:
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSMandatory))
	case TLSImplicit:
		opts = append(opts, gomail.WithSSL())
	case TLSNone:
		// CRAM-MD5 and NTLM, which go-mail would pick over clear text, are
		// broken hashes of the password: only a relay on this host may see them.
		if cfg.Username != "" && !isLoopback(cfg.Host) {
			return nil, errors.New("smtp: credentials need TLS towards a host that is not loopback")
		}
		opts = append(opts, gomail.WithTLSPolicy(gomail.NoTLS))
	default:
		return nil, fmt.Errorf("smtp: TLS mode must be starttls, tls or none (got %q)", cfg.TLS)
	}
	if cfg.TLSConfig != nil {
		opts = append(opts, gomail.WithTLSConfig(cfg.TLSConfig))
	}
	if cfg.Username != "" {
		// Auto-discovery picks the strongest mechanism the server offers and
		// never PLAIN or LOGIN over an unencrypted connection.
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

// isLoopback reports whether host is "localhost" or a loopback IP literal,
// the only hosts whose traffic never crosses a network.
func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(strings.Trim(host, "[]"))
	return ip != nil && ip.IsLoopback()
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
