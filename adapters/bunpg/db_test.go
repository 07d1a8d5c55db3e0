package bunpg_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"go.uber.org/fx"
	"go.uber.org/fx/fxtest"

	"github.com/uptrace/bun"

	"github.com/authd/authd/adapters/bunpg"
	"github.com/authd/authd/adapters/bunpg/bunpgtest"
	"github.com/authd/authd/core"
)

// deadPort returns a loopback port nothing listens on.
func deadPort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	return port
}

func TestPingNamesServerAndDatabase(t *testing.T) {
	t.Parallel()
	live := bunpgtest.NewDatabase(t)
	down := live
	down.Host, down.Port, down.Name = "127.0.0.1", deadPort(t), "authd_somewhere"
	missing := live
	missing.Name = "authd_no_such_database"

	for _, tc := range []struct {
		name  string
		cfg   bunpg.Config
		cause string
	}{
		{"nothing listening", down, "connection refused"},
		{"no such database", missing, `database "authd_no_such_database" does not exist`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			db := open(t, tc.cfg)
			err := bunpg.Ping(context.Background(), db, tc.cfg)
			want := fmt.Sprintf("cannot reach Postgres at %s:%d database %s: ", tc.cfg.Host, tc.cfg.Port, tc.cfg.Name)
			if err == nil || !strings.HasPrefix(err.Error(), want) || !strings.Contains(err.Error(), tc.cause) {
				t.Fatalf("Ping = %v\nwant %q...%q", err, want, tc.cause)
			}
		})
	}

	if err := bunpg.Ping(context.Background(), open(t, live), live); err != nil {
		t.Fatalf("Ping of a live database: %v", err)
	}
}

func TestPingGivesUpWithinTimeouts(t *testing.T) {
	t.Parallel()
	// A listener that accepts and never answers: the startup handshake hangs.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	}()
	cfg := bunpg.Config{Host: "127.0.0.1", Port: ln.Addr().(*net.TCPAddr).Port, Name: "x", User: "postgres",
		DialTimeout: 200 * time.Millisecond, QueryTimeout: 300 * time.Millisecond}
	start := time.Now()
	err = bunpg.Ping(context.Background(), open(t, cfg), cfg)
	if err == nil {
		t.Fatal("Ping of a silent server succeeded")
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("Ping took %v, want about DialTimeout+QueryTimeout", d)
	}
}

func TestOpenRejectsIncompleteConfig(t *testing.T) {
	t.Parallel()
	good := bunpg.Config{Host: "h", Port: 5432, Name: "n", User: "u"}
	for name, mutate := range map[string]func(*bunpg.Config){
		"no host":     func(c *bunpg.Config) { c.Host = "" },
		"no database": func(c *bunpg.Config) { c.Name = "" },
		"no user":     func(c *bunpg.Config) { c.User = "" },
		"port 0":      func(c *bunpg.Config) { c.Port = 0 },
		"port 70000":  func(c *bunpg.Config) { c.Port = 70000 },
		"sslmode":     func(c *bunpg.Config) { c.SSLMode = "prefer" },
	} {
		cfg := good
		mutate(&cfg)
		if db, err := bunpg.Open(cfg); err == nil {
			db.Close()
			t.Errorf("%s: Open accepted %+v", name, cfg)
		}
	}
}

func TestSSLModes(t *testing.T) {
	t.Parallel()
	cfg := bunpgtest.NewDatabase(t)
	ctx := context.Background()
	var serverSSL string
	if err := open(t, cfg).NewRaw("SHOW ssl").Scan(ctx, &serverSSL); err != nil {
		t.Fatal(err)
	}

	usesTLS := func(mode string) (bool, error) {
		c := cfg
		c.SSLMode = mode
		var ssl bool
		err := open(t, c).NewRaw("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()").Scan(ctx, &ssl)
		return ssl, err
	}
	if ssl, err := usesTLS("disable"); err != nil || ssl {
		t.Errorf("disable: TLS %t, err %v; want a plain connection", ssl, err)
	}
	ssl, err := usesTLS("require")
	switch serverSSL {
	case "on":
		if err != nil || !ssl {
			t.Errorf("require: TLS %t, err %v; want an encrypted connection", ssl, err)
		}
	default:
		if err == nil || !strings.Contains(err.Error(), "SSL is not enabled") {
			t.Errorf("require against a server without TLS: %v", err)
		}
	}
	// The test server's certificate is not issued by a trusted CA for
	// 127.0.0.1, so verification must refuse it.
	if _, err := usesTLS("verify-full"); err == nil {
		t.Error("verify-full accepted a certificate that cannot be verified")
	}
}

// A Host that is a directory reaches the server through its Unix-domain
// socket there, as in libpq; TLS settings do not apply to it.
func TestUnixSocket(t *testing.T) {
	t.Parallel()
	cfg := bunpgtest.NewDatabase(t)
	ctx := context.Background()
	var dirs string
	if err := open(t, cfg).NewRaw("SHOW unix_socket_directories").Scan(ctx, &dirs); err != nil {
		t.Fatal(err)
	}
	dir, _, _ := strings.Cut(dirs, ",")
	dir = strings.TrimSpace(dir)
	if !strings.HasPrefix(dir, "/") {
		t.Fatalf("the test server has no socket directory (unix_socket_directories = %q)", dirs)
	}
	for _, mode := range []string{"disable", "verify-full"} {
		c := cfg
		c.Host, c.SSLMode = dir, mode
		var addr *string
		err := open(t, c).NewRaw("SELECT client_addr::text FROM pg_stat_activity WHERE pid = pg_backend_pid()").Scan(ctx, &addr)
		if err != nil || addr != nil {
			t.Errorf("sslmode %s through %s: client address %v, err %v; want a socket connection (no address)", mode, dir, addr, err)
		}
	}
}

func TestNewDBLifecycle(t *testing.T) {
	t.Parallel()
	cfg := bunpgtest.NewDatabase(t)
	var db *bun.DB
	app := fxtest.New(t, fx.Supply(cfg), fx.Provide(bunpg.NewDB), fx.Populate(&db))
	app.RequireStart()
	if err := db.PingContext(context.Background()); err != nil {
		t.Fatalf("db unusable after start: %v", err)
	}
	app.RequireStop()
	if err := db.PingContext(context.Background()); err == nil || !strings.Contains(err.Error(), "closed") {
		t.Fatalf("db still open after stop: %v", err)
	}

	bad := cfg
	bad.Port = deadPort(t)
	app2 := fx.New(fx.NopLogger, fx.Supply(bad), fx.Provide(bunpg.NewDB), fx.Invoke(func(*bun.DB) {}))
	err := app2.Start(context.Background())
	if err == nil || !strings.Contains(err.Error(), "cannot reach Postgres at") {
		t.Fatalf("start against a dead server = %v, want the Ping error", err)
	}
}

// The module must build a complete graph: every repository port bound to the
// shared *bun.DB.
func TestModuleProvidesEveryPort(t *testing.T) {
	t.Parallel()
	cfg, _ := bunpgtest.NewMigratedDatabase(t)
	var (
		users         core.UserRepository
		sessions      core.SessionRepository
		accounts      core.AccountRepository
		verifications core.VerificationRepository
		tx            core.Transactor
		tasks         core.TaskLock
		db            *bun.DB
	)
	app := fxtest.New(t, fx.Supply(cfg), bunpg.Module,
		fx.Populate(&users, &sessions, &accounts, &verifications, &tx, &tasks, &db))
	app.RequireStart()
	defer app.RequireStop()
	for name, port := range map[string]any{"users": users, "sessions": sessions, "accounts": accounts,
		"verifications": verifications, "tx": tx, "tasks": tasks, "db": db} {
		if port == nil {
			t.Errorf("%s not provided", name)
		}
	}
	ctx := context.Background()
	err := tx.WithinTx(ctx, func(ctx context.Context) error {
		_, err := users.ByID(ctx, "nobody")
		return err
	})
	if !errors.Is(err, core.ErrUserNotFound) {
		t.Fatalf("repository from the module: %v", err)
	}
}

func TestConfigNeverPrintsPassword(t *testing.T) {
	t.Parallel()
	cfg := bunpg.Config{Host: "h", Port: 1, Name: "n", User: "u", Password: "pw-canary-42"}
	var out strings.Builder
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%d", "%x"} {
		fmt.Fprintf(&out, verb+"\n", cfg)
		fmt.Fprintf(&out, verb+"\n", &cfg)
	}
	b, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	out.Write(b)
	if strings.Contains(out.String(), "pw-canary-42") {
		t.Fatalf("password printed:\n%s", out.String())
	}
	if !strings.Contains(out.String(), "Host:h") {
		t.Fatalf("other fields should still print:\n%s", out.String())
	}
}
