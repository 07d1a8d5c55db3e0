package mail_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/authd/authd/adapters/mail"
	"github.com/authd/authd/adapters/mail/smtptest"
	"github.com/authd/authd/core"
)

var _ core.Mailer = (*mail.SMTPMailer)(nil)

// A verification link as better-auth builds it: long enough for
// quoted-printable soft line breaks, with '=' and '&' that QP must escape.
const verifyURL = "http://localhost:8100/api/auth/verify-email?token=eyJhbGciOiJIUzI1NiJ9.eyJlbWFpbCI6ImFsaWNlQGV4YW1wbGUuY29tIiwidXNlcklkIjoidTEiLCJpYXQiOjE3MDAwMDAwMDAsImV4cCI6MTcwMDAwMzYwMH0.AcCxahRS06pvCgnCLnFLysiO_Fvm6_PDuYunszq38vY&callbackURL=%2Fdashboard"

func testMail(to string) core.Mail {
	return core.Mail{
		To:      to,
		Subject: "Verify your email address",
		Text:    "Grüße!\n\nClick the link to verify your email:\n" + verifyURL + "\n\nIgnore this mail if you did not sign up.\n",
	}
}

func newSMTPMailer(t *testing.T, s *smtptest.Server, tweak func(*mail.SMTPConfig)) *mail.SMTPMailer {
	t.Helper()
	cfg := mail.SMTPConfig{Host: s.Host(), Port: s.Port(), TLS: mail.TLSNone, TLSConfig: s.ClientTLS(),
		From: "Authd <no-reply@authd.test>", Timeout: 5 * time.Second}
	if s.ClientTLS() != nil {
		cfg.TLS = mail.TLSStartTLS
	}
	if tweak != nil {
		tweak(&cfg)
	}
	m, err := mail.NewSMTPMailer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func waitCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func TestSMTPMailerDeliversExactText(t *testing.T) {
	sink := smtptest.NewServer(t)
	m := testMail("alice@example.com")
	if err := newSMTPMailer(t, sink, nil).Send(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	got, err := sink.WaitFor(waitCtx(t), "alice@example.com")
	if err != nil {
		t.Fatal(err)
	}
	if got.Text != m.Text {
		t.Errorf("text:\n got %q\nwant %q", got.Text, m.Text)
	}
	if got.Subject != m.Subject {
		t.Errorf("subject %q", got.Subject)
	}
	if got.From != "no-reply@authd.test" || len(got.To) != 1 || got.To[0] != "alice@example.com" {
		t.Errorf("envelope from %q to %v", got.From, got.To)
	}
	if links := got.Links(); len(links) != 1 || links[0] != verifyURL {
		t.Errorf("links %q", links)
	}
	if !strings.Contains(string(got.Raw), "Content-Type: text/plain") {
		t.Errorf("raw message is not text/plain:\n%s", got.Raw)
	}
}

func TestSMTPMailerAuthenticatesOnlyWhenConfigured(t *testing.T) {
	sink := smtptest.NewServer(t, smtptest.WithAuth("mailer", "s3cret"), smtptest.WithSTARTTLS())
	ctx := context.Background()

	good := newSMTPMailer(t, sink, func(c *mail.SMTPConfig) { c.Username, c.Password = "mailer", "s3cret" })
	if err := good.Send(ctx, testMail("a@example.com")); err != nil {
		t.Fatalf("with credentials: %v", err)
	}
	bad := newSMTPMailer(t, sink, func(c *mail.SMTPConfig) { c.Username, c.Password = "mailer", "wrong" })
	if err := bad.Send(ctx, testMail("b@example.com")); err == nil {
		t.Fatal("wrong password: no error")
	}
	anon := newSMTPMailer(t, sink, nil)
	if err := anon.Send(ctx, testMail("c@example.com")); err == nil {
		t.Fatal("no credentials against a server that requires AUTH: no error")
	}
	if msgs := sink.Messages(); len(msgs) != 1 || msgs[0].To[0] != "a@example.com" {
		t.Fatalf("delivered %+v, want only the authenticated mail", msgs)
	}
}

// STARTTLS is required, not opportunistic: against a server that does not
// offer it (or an attacker who struck it from the reply) nothing is sent,
// neither the mail nor the credentials.
func TestSMTPMailerRequiresSTARTTLS(t *testing.T) {
	sink := smtptest.NewServer(t)
	for name, tweak := range map[string]func(*mail.SMTPConfig){
		"default mode": func(c *mail.SMTPConfig) { c.TLS = "" },
		"starttls":     func(c *mail.SMTPConfig) { c.TLS = mail.TLSStartTLS },
	} {
		if err := newSMTPMailer(t, sink, tweak).Send(context.Background(), testMail("a@example.com")); err == nil {
			t.Errorf("%s: delivered without STARTTLS", name)
		}
	}
	if msgs := sink.Messages(); len(msgs) != 0 {
		t.Fatalf("%d messages sent in clear text", len(msgs))
	}
}

func TestSMTPMailerDeliversOverTLS(t *testing.T) {
	for name, c := range map[string]struct {
		opt  smtptest.Option
		mode mail.TLSMode
	}{
		"starttls": {smtptest.WithSTARTTLS(), mail.TLSStartTLS},
		"implicit": {smtptest.WithImplicitTLS(), mail.TLSImplicit},
	} {
		t.Run(name, func(t *testing.T) {
			sink := smtptest.NewServer(t, c.opt, smtptest.WithAuth("mailer", "s3cret"))
			mailer := newSMTPMailer(t, sink, func(cfg *mail.SMTPConfig) {
				cfg.TLS, cfg.Username, cfg.Password = c.mode, "mailer", "s3cret"
			})
			if err := mailer.Send(context.Background(), testMail("a@example.com")); err != nil {
				t.Fatal(err)
			}
			if msgs := sink.Messages(); len(msgs) != 1 || !msgs[0].TLS || msgs[0].Text != testMail("").Text {
				t.Fatalf("delivered %+v, want one message over TLS", msgs)
			}
		})
	}
}

// The sink's certificate is not in the system roots: without the test's
// TLSConfig the mailer must refuse it rather than send to an impostor.
func TestSMTPMailerVerifiesTheCertificate(t *testing.T) {
	sink := smtptest.NewServer(t, smtptest.WithSTARTTLS())
	mailer := newSMTPMailer(t, sink, func(c *mail.SMTPConfig) { c.TLSConfig = nil })
	if err := mailer.Send(context.Background(), testMail("a@example.com")); err == nil {
		t.Fatal("delivered to a server with an untrusted certificate")
	}
	if n := len(sink.Messages()); n != 0 {
		t.Fatalf("%d messages stored", n)
	}
}

func TestSMTPMailerFailsOnRefusingServer(t *testing.T) {
	sink := smtptest.NewServer(t)
	sink.SetMode(smtptest.Refuse)
	if err := newSMTPMailer(t, sink, nil).Send(context.Background(), testMail("a@example.com")); err == nil {
		t.Fatal("no error from a refusing server")
	}
	if n := len(sink.Messages()); n != 0 {
		t.Fatalf("%d messages stored", n)
	}
}

func TestSMTPMailerGivesUpOnHangingServer(t *testing.T) {
	sink := smtptest.NewServer(t)
	sink.SetMode(smtptest.Hang)

	mailer := newSMTPMailer(t, sink, func(c *mail.SMTPConfig) { c.Timeout = 200 * time.Millisecond })
	start := time.Now()
	if err := mailer.Send(context.Background(), testMail("a@example.com")); err == nil {
		t.Fatal("no error from a hanging server")
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("configured timeout ignored: took %v", d)
	}

	// A ctx deadline shorter than the configured timeout wins.
	slow := newSMTPMailer(t, sink, func(c *mail.SMTPConfig) { c.Timeout = time.Minute })
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start = time.Now()
	if err := slow.Send(ctx, testMail("a@example.com")); err == nil {
		t.Fatal("no error from a hanging server")
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("ctx deadline ignored: took %v", d)
	}

	// The server recovers once it stops hanging.
	sink.SetMode(smtptest.OK)
	if err := mailer.Send(context.Background(), testMail("a@example.com")); err != nil {
		t.Fatal(err)
	}
}

func TestSMTPMailerRejectsHeaderInjection(t *testing.T) {
	sink := smtptest.NewServer(t)
	mailer := newSMTPMailer(t, sink, nil)
	ctx := context.Background()
	evilTo := testMail("a@example.com\r\nBcc: eve@evil.test")
	if err := mailer.Send(ctx, evilTo); err == nil {
		t.Error("CRLF in recipient: no error")
	}
	evilSubject := testMail("a@example.com")
	evilSubject.Subject = "Hi\r\nBcc: eve@evil.test"
	if err := mailer.Send(ctx, evilSubject); err == nil {
		t.Error("CRLF in subject: no error")
	}
	if n := len(sink.Messages()); n != 0 {
		t.Fatalf("%d messages delivered", n)
	}
}

func TestNewSMTPMailerValidatesConfig(t *testing.T) {
	for name, cfg := range map[string]mail.SMTPConfig{
		"no host":  {From: "a@example.com"},
		"no from":  {Host: "127.0.0.1"},
		"bad from": {Host: "127.0.0.1", From: "not an address"},
		"bad port": {Host: "127.0.0.1", From: "a@example.com", Port: 70000},
		"bad mode": {Host: "127.0.0.1", From: "a@example.com", TLS: "opportunistic"},
		// CRAM-MD5 or NTLM over clear text hands a crackable hash to the network.
		"credentials in clear": {Host: "mail.example.com", From: "a@example.com", TLS: mail.TLSNone, Username: "u", Password: "p"},
	} {
		if _, err := mail.NewSMTPMailer(cfg); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	loopback := mail.SMTPConfig{Host: "127.0.0.1", From: "a@example.com", TLS: mail.TLSNone, Username: "u", Password: "p"}
	if _, err := mail.NewSMTPMailer(loopback); err != nil {
		t.Errorf("credentials in clear to a loopback relay: %v", err)
	}
}

func TestSinkWritesMessagesToDir(t *testing.T) {
	dir := t.TempDir()
	sink := smtptest.NewServer(t, smtptest.WithDir(dir))
	mailer := newSMTPMailer(t, sink, nil)
	for _, to := range []string{"a@example.com", "b@example.com"} {
		if err := mailer.Send(context.Background(), testMail(to)); err != nil {
			t.Fatal(err)
		}
	}
	files, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil || len(files) != 2 {
		t.Fatalf("files %v, %v", files, err)
	}
	raw, err := os.ReadFile(files[1])
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		To   []string `json:"to"`
		Text string   `json:"text"`
		Raw  string   `json:"raw"`
	}
	if err := json.Unmarshal(raw, &got); err != nil {
		t.Fatal(err)
	}
	if len(got.To) != 1 || got.To[0] != "b@example.com" || got.Text != testMail("").Text || got.Raw == "" {
		t.Fatalf("second file: %+v", got)
	}
}

func TestSinkWaitForTakesMessagesInTurn(t *testing.T) {
	sink := smtptest.NewServer(t)
	mailer := newSMTPMailer(t, sink, nil)
	ctx := waitCtx(t)

	first := testMail("Alice@Example.com")
	second := testMail("alice@example.com")
	second.Subject = "Reset your password"

	// WaitFor blocks until the mail arrives.
	got := make(chan smtptest.Message, 1)
	go func() {
		m, err := sink.WaitFor(ctx, "alice@example.com")
		if err != nil {
			t.Error(err)
		}
		got <- m
	}()
	for _, m := range []core.Mail{first, second} {
		if err := mailer.Send(context.Background(), m); err != nil {
			t.Fatal(err)
		}
	}
	if m := <-got; m.Subject != first.Subject {
		t.Fatalf("first WaitFor got %q", m.Subject)
	}
	m, err := sink.WaitFor(ctx, "ALICE@example.com")
	if err != nil || m.Subject != second.Subject {
		t.Fatalf("second WaitFor got %q, %v", m.Subject, err)
	}
	short, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := sink.WaitFor(short, "alice@example.com"); err == nil {
		t.Fatal("third WaitFor returned a message that was already taken")
	}
}
