// Package smtptest is a loopback SMTP sink for tests: it accepts mail on
// 127.0.0.1, keeps every message, and can refuse or hang on demand so that
// callers can test how they cope with a broken mail server.
package smtptest

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/md5"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"net/textproto"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
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

// Message is one delivered mail.
type Message struct {
	From    string   // envelope sender (MAIL FROM)
	To      []string // envelope recipients (RCPT TO)
	Subject string   // decoded Subject header
	Text    string   // decoded text/plain body, LF line endings
	Raw     []byte   // the message as received, LF line endings
}

// Links returns the lines of Text that are http(s) URLs, in order; mailers
// in this project put every action URL on a line of its own.
func (m Message) Links() []string {
	var links []string
	for _, line := range strings.Split(m.Text, "\n") {
		line = strings.TrimSpace(line)
		if strings.HasPrefix(line, "https://") || strings.HasPrefix(line, "http://") {
			links = append(links, line)
		}
	}
	return links
}

// Option configures a Server.
type Option func(*Server)

// WithDir makes the server also write each message to dir as
// <sequence>.json ({"from","to","subject","text","raw"}), created atomically
// so a reader polling the directory (a Node test) never sees half a file.
func WithDir(dir string) Option { return func(s *Server) { s.dir = dir } }

// WithAuth makes the server demand SMTP AUTH (PLAIN or CRAM-MD5) with these
// credentials before it takes mail.
func WithAuth(user, pass string) Option {
	return func(s *Server) { s.user, s.pass = user, pass }
}

// Server is a running sink. Its methods are safe for concurrent use.
type Server struct {
	ln         net.Listener
	dir        string
	user, pass string
	wg         sync.WaitGroup

	mu       sync.Mutex
	mode     Mode
	msgs     []Message
	taken    []bool
	arrived  chan struct{} // closed and replaced whenever a message arrives
	conns    map[net.Conn]struct{}
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
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s := &Server{ln: ln, arrived: make(chan struct{}), conns: map[net.Conn]struct{}{}}
	for _, o := range opts {
		o(s)
	}
	if s.dir != "" {
		if err := os.MkdirAll(s.dir, 0o755); err != nil {
			ln.Close()
			return nil, err
		}
	}
	s.wg.Add(1)
	go s.accept()
	return s, nil
}

// Addr is host:port.
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Host is the loopback address the server listens on.
func (s *Server) Host() string { return s.ln.Addr().(*net.TCPAddr).IP.String() }

// Port is the TCP port the server listens on.
func (s *Server) Port() int { return s.ln.Addr().(*net.TCPAddr).Port }

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

// Close stops the server, hangs up on every client (including hung ones)
// and waits for its goroutines. It reports a failure to write to the
// WithDir directory, which would otherwise go unnoticed.
func (s *Server) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	for c := range s.conns {
		c.Close()
	}
	s.mu.Unlock()
	s.ln.Close()
	s.wg.Wait()
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

func (s *Server) accept() {
	defer s.wg.Done()
	for {
		c, err := s.ln.Accept()
		if err != nil {
			return
		}
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			c.Close()
			return
		}
		s.conns[c] = struct{}{}
		mode := s.mode
		s.mu.Unlock()
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			defer s.forget(c)
			switch mode {
			case Refuse:
				io.WriteString(c, "554 5.3.2 smtptest refuses service\r\n")
			case Hang:
				_, _ = io.Copy(io.Discard, c) // until the client or Close hangs up
			default:
				s.serve(c)
			}
		}()
	}
}

func (s *Server) forget(c net.Conn) {
	c.Close()
	s.mu.Lock()
	delete(s.conns, c)
	s.mu.Unlock()
}

// session is one SMTP dialogue's state.
type session struct {
	tp     *textproto.Conn
	authed bool
	from   string
	to     []string
}

func (s *Server) serve(c net.Conn) {
	ss := &session{tp: textproto.NewConn(c), authed: s.user == ""}
	ss.reply("220 smtptest ESMTP ready")
	for {
		_ = c.SetDeadline(time.Now().Add(idleTimeout))
		line, err := ss.tp.ReadLine()
		if err != nil {
			return
		}
		verb, arg, _ := strings.Cut(line, " ")
		switch strings.ToUpper(verb) {
		case "EHLO":
			ext := []string{"250-smtptest", "250-8BITMIME"}
			if s.user != "" {
				ext = append(ext, "250-AUTH PLAIN CRAM-MD5")
			}
			ss.reply(strings.Join(append(ext, "250 HELP"), "\r\n"))
		case "HELO":
			ss.reply("250 smtptest")
		case "AUTH":
			s.auth(ss, arg)
		case "MAIL":
			addr, ok := path(arg, "FROM:")
			switch {
			case !ss.authed:
				ss.reply("530 5.7.0 Authentication required")
			case !ok:
				ss.reply("501 5.5.4 Syntax: MAIL FROM:<address>")
			default:
				ss.from, ss.to = addr, nil
				ss.reply("250 2.1.0 OK")
			}
		case "RCPT":
			addr, ok := path(arg, "TO:")
			switch {
			case ss.from == "":
				ss.reply("503 5.5.1 MAIL first")
			case !ok || addr == "":
				ss.reply("501 5.5.4 Syntax: RCPT TO:<address>")
			default:
				ss.to = append(ss.to, addr)
				ss.reply("250 2.1.5 OK")
			}
		case "DATA":
			if len(ss.to) == 0 {
				ss.reply("503 5.5.1 RCPT first")
				continue
			}
			ss.reply("354 End data with <CR><LF>.<CR><LF>")
			raw, err := io.ReadAll(io.LimitReader(ss.tp.DotReader(), maxMessageBytes+1))
			if err != nil {
				return
			}
			if len(raw) > maxMessageBytes {
				_, _ = io.Copy(io.Discard, ss.tp.DotReader())
				ss.reply("552 5.3.4 Message too big")
				continue
			}
			s.store(ss.from, ss.to, raw)
			ss.from, ss.to = "", nil
			ss.reply("250 2.0.0 OK queued")
		case "RSET":
			ss.from, ss.to = "", nil
			ss.reply("250 2.0.0 OK")
		case "NOOP":
			ss.reply("250 2.0.0 OK")
		case "QUIT":
			ss.reply("221 2.0.0 Bye")
			return
		default:
			ss.reply("502 5.5.2 Command not recognized")
		}
	}
}

func (ss *session) reply(text string) { _ = ss.tp.PrintfLine("%s", text) }

// path extracts the address from "FROM:<a@b> SIZE=1" style arguments.
func path(arg, prefix string) (string, bool) {
	if len(arg) < len(prefix) || !strings.EqualFold(arg[:len(prefix)], prefix) {
		return "", false
	}
	rest := strings.TrimSpace(arg[len(prefix):])
	if !strings.HasPrefix(rest, "<") {
		return "", false
	}
	addr, _, ok := strings.Cut(rest[1:], ">")
	return addr, ok
}

func (s *Server) auth(ss *session, arg string) {
	mech, initial, _ := strings.Cut(arg, " ")
	switch strings.ToUpper(mech) {
	case "PLAIN":
		if initial == "" {
			ss.reply("334 ")
			line, err := ss.tp.ReadLine()
			if err != nil {
				return
			}
			initial = line
		}
		dec, err := base64.StdEncoding.DecodeString(initial)
		parts := strings.Split(string(dec), "\x00")
		ss.authed = err == nil && len(parts) == 3 && parts[1] == s.user && parts[2] == s.pass
	case "CRAM-MD5":
		var nonce [16]byte
		_, _ = rand.Read(nonce[:])
		challenge := "<" + hex.EncodeToString(nonce[:]) + "@smtptest>"
		ss.reply("334 " + base64.StdEncoding.EncodeToString([]byte(challenge)))
		line, err := ss.tp.ReadLine()
		if err != nil {
			return
		}
		dec, err := base64.StdEncoding.DecodeString(line)
		user, digest, _ := strings.Cut(string(dec), " ")
		mac := hmac.New(md5.New, []byte(s.pass))
		mac.Write([]byte(challenge))
		ss.authed = err == nil && user == s.user && hmac.Equal([]byte(digest), []byte(hex.EncodeToString(mac.Sum(nil))))
	default:
		ss.reply("504 5.5.4 Unrecognized authentication type")
		return
	}
	if ss.authed {
		ss.reply("235 2.7.0 Authentication successful")
	} else {
		ss.reply("535 5.7.8 Authentication credentials invalid")
	}
}

func (s *Server) store(from string, to []string, raw []byte) {
	m := Message{From: from, To: append([]string(nil), to...), Raw: raw}
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

// textBody returns the first text/plain part, decoded.
func textBody(h textproto.MIMEHeader, body io.Reader) (string, error) {
	mediaType, params, err := mime.ParseMediaType(h.Get("Content-Type"))
	if err != nil {
		mediaType = "text/plain"
	}
	if strings.HasPrefix(mediaType, "multipart/") {
		mr := multipart.NewReader(body, params["boundary"])
		for {
			p, err := mr.NextRawPart()
			if err != nil {
				return "", err
			}
			if text, err := textBody(p.Header, p); err == nil {
				return text, nil
			}
		}
	}
	if mediaType != "text/plain" {
		return "", errors.New("not text/plain")
	}
	switch strings.ToLower(h.Get("Content-Transfer-Encoding")) {
	case "quoted-printable":
		body = quotedprintable.NewReader(body)
	case "base64":
		body = base64.NewDecoder(base64.StdEncoding, body) // skips line breaks itself
	}
	b, err := io.ReadAll(body)
	return string(b), err
}

func writeJSON(dir string, seq int, m Message) error {
	b, err := json.Marshal(struct {
		From    string   `json:"from"`
		To      []string `json:"to"`
		Subject string   `json:"subject"`
		Text    string   `json:"text"`
		Raw     string   `json:"raw"`
	}{m.From, m.To, m.Subject, m.Text, string(m.Raw)})
	if err != nil {
		return err
	}
	name := filepath.Join(dir, fmt.Sprintf("%06d.json", seq))
	tmp := name + ".tmp"
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, name)
}
