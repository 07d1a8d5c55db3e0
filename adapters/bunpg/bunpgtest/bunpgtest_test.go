package bunpgtest_test

import (
	"context"
	"fmt"
	"net"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/uptrace/bun"

	"github.com/authd/authd/adapters/bunpg"
	"github.com/authd/authd/adapters/bunpg/bunpgtest"
)

// fatalRecorder is a testing.TB whose Fatalf records the message and stops
// the calling goroutine, as the real one does.
type fatalRecorder struct {
	testing.TB
	msg string
}

func (f *fatalRecorder) Fatalf(format string, args ...any) {
	f.msg = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

func TestUnreachableServerFailsLoudly(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
	ln.Close()
	t.Setenv("AUTHD_TEST_PGHOST", "127.0.0.1")
	t.Setenv("AUTHD_TEST_PGPORT", port)

	rec := &fatalRecorder{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		bunpgtest.NewDatabase(rec)
		t.Error("NewDatabase returned without failing the test")
	}()
	<-done
	for _, want := range []string{"cannot reach Postgres at 127.0.0.1:" + port, "AUTHD_TEST_PGHOST"} {
		if !strings.Contains(rec.msg, want) {
			t.Errorf("Fatalf message %q does not contain %q", rec.msg, want)
		}
	}
}

func TestNewDatabaseIsFreshAndDropped(t *testing.T) {
	var cfg bunpg.Config
	t.Run("use", func(t *testing.T) {
		var db *bun.DB
		cfg, db = bunpgtest.NewMigratedDatabase(t)
		var n int
		if err := db.NewRaw(`SELECT count(*) FROM "user"`).Scan(context.Background(), &n); err != nil || n != 0 {
			t.Fatalf("fresh database has %d users (%v)", n, err)
		}
	})
	// The subtest's cleanup has run: the database must be gone.
	admin := cfg
	admin.Name = "postgres"
	db, err := bunpg.Open(admin)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var exists bool
	if err := db.NewRaw("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = ?)", cfg.Name).Scan(context.Background(), &exists); err != nil {
		t.Fatal(err)
	}
	if exists {
		t.Errorf("database %s still exists after the test", cfg.Name)
	}
}
