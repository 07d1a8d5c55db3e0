package smtptest

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/textproto"
	"os"
	"path/filepath"
	"strings"
)

// Message is one delivered mail.
type Message struct {
	From    string   // envelope sender (MAIL FROM)
	To      []string // envelope recipients (RCPT TO)
	Subject string   // decoded Subject header
	Text    string   // decoded text/plain body, LF line endings
	Raw     []byte   // the message as received, LF line endings
	TLS     bool     // whether the message arrived over TLS
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
