package mail_test

import (
	"context"
	"strings"
	"testing"

	"github.com/authd/authd/adapters/mail"
	"github.com/authd/authd/core"
)

var _ core.Mailer = (*mail.LogMailer)(nil)

func TestLogMailerLogsTheLinkAtInfo(t *testing.T) {
	log, buf := newLog()
	if err := mail.NewLogMailer(log).Send(context.Background(), testMail("dev@example.com")); err != nil {
		t.Fatal(err)
	}
	var line string
	for _, l := range strings.Split(buf.String(), "\n") {
		if strings.Contains(l, `"level":"INFO"`) {
			line = l
		}
	}
	for _, want := range []string{`"to":"dev@example.com"`, `"subject":"Verify your email address"`, "callbackURL=%2Fdashboard"} {
		if !strings.Contains(line, want) {
			t.Errorf("INFO line lacks %s:\n%s", want, buf.String())
		}
	}
	if !strings.Contains(buf.String(), `"level":"WARN"`) {
		t.Errorf("no warning that tokens go to the log:\n%s", buf.String())
	}
}
