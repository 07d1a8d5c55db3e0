package battery

import (
	"fmt"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/authd/authd/adapters/mail/smtptest"
	"github.com/authd/authd/cmd/authd/authdtest"
)

// failFastLimit is how long a start that cannot succeed may take to give up.
const failFastLimit = 10 * time.Second

// TestStartupFailsClosed is battery 34 phase 0 and 46: a server that cannot
// reach Postgres, has a weak or missing setting, or cannot bind its port
// exits non-zero at once, naming the cause, instead of serving.
func TestStartupFailsClosed(t *testing.T) {
	pg := sharedCluster(t)
	db := pg.migratedDB(t)

	// The control proves the base configuration works, so that each failure
	// below is caused by the one thing it changes.
	t.Run("control", func(t *testing.T) {
		a := startAuthd(t, authdEnv(pg, db, authdtest.FreeAddr(t)))
		if !a.alive() {
			t.Fatal("authd did not stay up")
		}
	})

	t.Run("postgres down", func(t *testing.T) {
		port, err := freePort() // nothing listens there
		if err != nil {
			t.Fatal(err)
		}
		res := runAuthd(t, authdEnv(pg, db, authdtest.FreeAddr(t)).with("DB_PORT", strconv.Itoa(port)), 40*time.Second, "serve")
		expectFailure(t, res, "127.0.0.1", strconv.Itoa(port))
	})

	t.Run("secret of 31 characters", func(t *testing.T) {
		res := runAuthd(t, authdEnv(pg, db, authdtest.FreeAddr(t)).with("APP_SECRET", strings.Repeat("s", 31)), 40*time.Second, "serve")
		expectFailure(t, res, "APP_SECRET")
	})

	t.Run("base URL missing", func(t *testing.T) {
		res := runAuthd(t, authdEnv(pg, db, authdtest.FreeAddr(t)).without("AUTH_BASE_URL"), 40*time.Second, "serve")
		expectFailure(t, res, "AUTH_BASE_URL")
	})

	t.Run("port busy", func(t *testing.T) {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		res := runAuthd(t, authdEnv(pg, db, l.Addr().String()), 40*time.Second, "serve")
		expectFailure(t, res)
	})
}

// TestProductionRefusesUnsafeSettings is issue 9 defect 4 on the binary:
// production is what a deployment gets without APP_ENV, and it refuses to
// start, naming the variable, on settings that would leak reset links or
// credentials or trust every site.
func TestProductionRefusesUnsafeSettings(t *testing.T) {
	pg := sharedCluster(t)
	db := pg.migratedDB(t)
	sink := smtptest.NewServer(t)
	prod := func() env {
		addr := authdtest.FreeAddr(t)
		return authdEnv(pg, db, addr).with("APP_ENV", "production", "AUTH_BASE_URL", "https://"+addr+"/api",
			"AUTH_RATE_LIMIT_ENABLED", "true", "SMTP_HOST", sink.Host(), "SMTP_PORT", fmt.Sprint(sink.Port()))
	}

	// Loopback mail relay and database may go without TLS: nothing crosses
	// a network. This control proves each refusal below has one cause.
	t.Run("control", func(t *testing.T) {
		if a := startAuthd(t, prod()); !a.alive() {
			t.Fatal("authd did not stay up")
		}
	})
	for _, c := range []struct {
		name     string
		env      env
		mentions []string
	}{
		{"APP_ENV unset over http", authdEnv(pg, db, authdtest.FreeAddr(t)).without("APP_ENV"), []string{"AUTH_BASE_URL", "APP_ENV=development", "SMTP_HOST"}},
		{"no SMTP_HOST", prod().without("SMTP_HOST"), []string{"SMTP_HOST"}},
		{"SMTP in clear text", prod().with("SMTP_HOST", "smtp.example.com"), []string{"SMTP_TLS"}},
		{"origin *.com", prod().with("AUTH_TRUSTED_ORIGINS", "*.com"), []string{"AUTH_TRUSTED_ORIGINS"}},
		{"origin https://*", prod().with("AUTH_TRUSTED_ORIGINS", "https://*"), []string{"AUTH_TRUSTED_ORIGINS"}},
		{"database in clear text", prod().with("DB_HOST", "db.example.com"), []string{"DB_SSLMODE"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			expectFailure(t, runAuthd(t, c.env, 40*time.Second, "serve"), c.mentions...)
		})
	}
}

func expectFailure(t *testing.T, res runResult, mentions ...string) {
	t.Helper()
	t.Logf("exit %d after %s; stderr:\n%s", res.code, res.elapsed.Round(time.Millisecond), tail(res.stderr, 15))
	switch {
	case res.code == -1:
		t.Errorf("still running after %s, want a prompt non-zero exit", res.elapsed.Round(time.Second))
	case res.code == 0:
		t.Errorf("exit code 0, want non-zero")
	case res.elapsed > failFastLimit:
		t.Errorf("took %s to exit, want <= %s", res.elapsed.Round(time.Millisecond), failFastLimit)
	}
	for _, m := range mentions {
		if !strings.Contains(res.stderr, m) {
			t.Errorf("stderr does not mention %q", m)
		}
	}
}
