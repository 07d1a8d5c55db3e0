package battery

import (
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

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
