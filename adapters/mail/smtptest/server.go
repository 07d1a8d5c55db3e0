// Package smtptest is a loopback SMTP sink for tests: github.com/emersion/go-smtp
// with a backend that keeps every message on 127.0.0.1, optionally behind
// STARTTLS or implicit TLS with a throw-away certificate, and that can refuse
// or hang on demand so that callers can test how they cope with a broken mail
// server.
package smtptest

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"io"
	"log"
	"math/big"
	"mime"
	"net"
	"net/mail"
	"net/textproto"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// Mode is how the server treats new connections.
type Mode int32

const (
	// OK accepts mail.
	OK Mode = iota
	// Refuse greets with 554 and hangs up, as a server that rejects us does.
	Refuse
	// Hang accepts the TCP connection and never says a word, as an
	// overloaded or black-holed server does.
	Hang
)

// idleTimeout bounds how long a connection may sit silent in OK mode, so a
// client that vanishes mid-dialogue cannot pin a goroutine for long.
const idleTimeout = time.Minute

// maxMessageBytes caps DATA; nothing a test sends comes close.
const maxMessageBytes = 10 << 20

// Option configures a Server.
type Option func(*Server)

// WithDir makes the server also write each message to dir as
// <sequence>.json ({"from","to","subject","text","raw"}), created atomically
// so a reader polling the directory (a Node test) never sees half a file.
func WithDir(dir string) Option { return func(s *Server) { s.dir = dir } }

// WithAuth makes the server demand SMTP AUTH PLAIN with these credentials
// before it takes mail. Over plain text the sink offers it too: what a
// client sends there is the client's policy, which is what tests check.
func WithAuth(user, pass string) Option {
	return func(s *Server) { s.user, s.pass = user, pass }
}

// WithSTARTTLS makes the server offer STARTTLS with a certificate for
// 127.0.0.1 that ClientTLS trusts.
func WithSTARTTLS() Option { return func(s *Server) { s.starttls = true } }

// WithImplicitTLS makes the server speak TLS from the first byte (SMTPS),
// with a certificate for 127.0.0.1 that ClientTLS trusts.
func WithImplicitTLS() Option { return func(s *Server) { s.implicitTLS = true } }

// Server is a running sink. Its methods are safe for concurrent use.
type Server struct {
	ln                    net.Listener
	srv                   *smtp.Server
	served                chan struct{}
	dir                   string
	user, pass            string
	starttls, implicitTLS bool
	roots                 *x509.CertPool

	mu       sync.Mutex
	mode     Mode
	msgs     []Message
	taken    []bool
	arrived  chan struct{} // closed and replaced whenever a message arrives
	hung     map[net.Conn]struct{}
	closed   bool
	writeErr error
}

// NewServer starts a sink for the duration of the test.
func NewServer(t testing.TB, opts ...Option) *Server {
	t.Helper()
	s, err := Start(opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Error(err)
		}
	})
	return s
}

// Start starts a sink outside a test (e.g. in TestMain); stop it with Close.
func Start(opts ...Option) (*Server, error) {
	s := &Server{arrived: make(chan struct{}), hung: map[net.Conn]struct{}{}, served: make(chan struct{})}
	for _, o := range opts {
		o(s)
	}
	if s.dir != "" {
		if err := os.MkdirAll(s.dir, 0o755); err != nil {
			return nil, err
		}
	}
	s.srv = smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) {
		_, tls := c.TLSConnectionState()
		return &session{s: s, authed: s.user == "", tls: tls}, nil
	}))
	s.srv.Domain = "smtptest"
	s.srv.AllowInsecureAuth = true
	s.srv.ReadTimeout, s.srv.WriteTimeout = idleTimeout, idleTimeout
	s.srv.MaxMessageBytes = maxMessageBytes
	s.srv.ErrorLog = log.New(io.Discard, "", 0)

	var tlsConfig *tls.Config
	if s.starttls || s.implicitTLS {
		cert, roots, err := selfSigned()
		if err != nil {
			return nil, err
		}
		s.roots = roots
		tlsConfig = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	}
	if s.starttls {
		s.srv.TLSConfig = tlsConfig
	}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s.ln = ln
	var served net.Listener = gate{ln, s}
	if s.implicitTLS {
		served = tls.NewListener(served, tlsConfig)
	}
	go func() {
		defer close(s.served)
		_ = s.srv.Serve(served)
	}()
	return s, nil
}

// Addr is host:port.
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Host is the loopback address the server listens on.
func (s *Server) Host() string { return s.ln.Addr().(*net.TCPAddr).IP.String() }

// Port is the TCP port the server listens on.
func (s *Server) Port() int { return s.ln.Addr().(*net.TCPAddr).Port }

// ClientTLS is a client configuration that trusts the sink's certificate
// (nil unless WithSTARTTLS or WithImplicitTLS).
func (s *Server) ClientTLS() *tls.Config {
	if s.roots == nil {
		return nil
	}
	return &tls.Config{RootCAs: s.roots, ServerName: s.Host(), MinVersion: tls.VersionTLS12}
}

// SetMode changes how connections opened from now on are treated.
func (s *Server) SetMode(m Mode) {
	s.mu.Lock()
	s.mode = m
	s.mu.Unlock()
}

// Messages returns every message received so far, oldest first.
func (s *Server) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Message(nil), s.msgs...)
}

// WaitFor returns the oldest message to the recipient to (case-insensitive)
// that no earlier WaitFor returned, waiting for one until ctx ends. Taking
// messages in turn lets a test that triggers two mails read both.
func (s *Server) WaitFor(ctx context.Context, to string) (Message, error) {
	for {
		s.mu.Lock()
		for i, m := range s.msgs {
			if !s.taken[i] && hasRecipient(m, to) {
				s.taken[i] = true
				s.mu.Unlock()
				return m, nil
			}
		}
		arrived := s.arrived
		s.mu.Unlock()
		select {
		case <-arrived:
		case <-ctx.Done():
			return Message{}, fmt.Errorf("smtptest: no mail to %s: %w", to, ctx.Err())
		}
	}
}

// Close stops the server and hangs up on every client (including hung
// ones). It reports a failure to write to the WithDir directory, which
// would otherwise go unnoticed.
func (s *Server) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	for c := range s.hung {
		c.Close()
	}
	s.mu.Unlock()
	_ = s.srv.Close()
	// go-smtp closes only listeners its Serve has registered, which it may
	// not have done yet.
	_ = s.ln.Close()
	<-s.served
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.writeErr
}

func hasRecipient(m Message, to string) bool {
	for _, r := range m.To {
		if strings.EqualFold(r, to) {
			return true
		}
	}
	return false
}

// gate hands go-smtp only the connections of OK mode; it answers the others
// itself, before any TLS or SMTP.
type gate struct {
	net.Listener
	s *Server
}

func (g gate) Accept() (net.Conn, error) {
	for {
		c, err := g.Listener.Accept()
		if err != nil {
			return nil, err
		}
		g.s.mu.Lock()
		mode, closed := g.s.mode, g.s.closed
		if mode == Hang && !closed {
			g.s.hung[c] = struct{}{} // silent until the client or Close hangs up
		}
		g.s.mu.Unlock()
		switch {
		case closed:
			c.Close()
		case mode == Refuse:
			_, _ = io.WriteString(c, "554 5.3.2 smtptest refuses service\r\n")
			c.Close()
		case mode == OK:
			return c, nil
		}
	}
}

// session is one SMTP dialogue's state.
type session struct {
	s      *Server
	authed bool
	tls    bool
	from   string
	to     []string
}

func (ss *session) AuthMechanisms() []string {
	if ss.s.user == "" {
		return nil
	}
	return []string{sasl.Plain}
}

func (ss *session) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(_, user, pass string) error {
		if user != ss.s.user || pass != ss.s.pass {
			return smtp.ErrAuthFailed
		}
		ss.authed = true
		return nil
	}), nil
}

func (ss *session) Mail(from string, _ *smtp.MailOptions) error {
	if !ss.authed {
		return smtp.ErrAuthRequired
	}
	ss.from, ss.to = from, nil
	return nil
}

func (ss *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	ss.to = append(ss.to, to)
	return nil
}

func (ss *session) Data(r io.Reader) error {
	raw, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	ss.s.store(ss.from, ss.to, bytes.ReplaceAll(raw, []byte("\r\n"), []byte("\n")), ss.tls)
	return nil
}

func (ss *session) Reset()        { ss.from, ss.to = "", nil }
func (ss *session) Logout() error { return nil }

func (s *Server) store(from string, to []string, raw []byte, overTLS bool) {
	m := Message{From: from, To: append([]string(nil), to...), Raw: raw, TLS: overTLS}
	// A message the sink cannot parse is still kept raw; the test reading it
	// will see the empty Subject/Text and fail with the evidence in hand.
	if parsed, err := mail.ReadMessage(bytes.NewReader(raw)); err == nil {
		m.Subject, _ = new(mime.WordDecoder).DecodeHeader(parsed.Header.Get("Subject"))
		if text, err := textBody(textproto.MIMEHeader(parsed.Header), parsed.Body); err == nil {
			m.Text = strings.ReplaceAll(text, "\r\n", "\n")
		}
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	s.msgs = append(s.msgs, m)
	s.taken = append(s.taken, false)
	close(s.arrived)
	s.arrived = make(chan struct{})
	if s.dir != "" {
		if err := writeJSON(s.dir, len(s.msgs), m); err != nil && s.writeErr == nil {
			s.writeErr = err
		}
	}
}

// selfSigned makes a certificate for 127.0.0.1 and localhost, valid for a
// day, and a pool that trusts it.
func selfSigned() (tls.Certificate, *x509.CertPool, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "smtptest"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
		DNSNames:              []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	roots := x509.NewCertPool()
	roots.AddCert(leaf)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, roots, nil
}
