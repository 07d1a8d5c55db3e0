// Package e2e runs the real better-auth JS client (and, for data
// compatibility, the better-auth server library) against the authd binary,
// and the same client suite against better-auth itself to prove the suite.
package e2e

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/authd/authd/adapters/bunpg"
	"github.com/authd/authd/cmd/authd/authdtest"
)

// testSecret signs cookies and email tokens on both servers; sharing it is
// what lets either server accept the other's cookies in the compat test.
const testSecret = "e2e-secret-0123456789abcdefghijklmnopqrstuvwxyz"

func TestMain(m *testing.M) { os.Exit(authdtest.Run(m)) }

func jsDir(t testing.TB) string {
	t.Helper()
	dir, err := filepath.Abs("js")
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

var npmInstall struct {
	once sync.Once
	log  string
	err  error
}

// nodeTool finds node or npm; their absence fails the test, since a skipped
// compatibility suite would read as a pass.
func nodeTool(t testing.TB, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		t.Fatalf("%s is required for the better-auth compatibility tests (Node 20+): %v", name, err)
	}
	return p
}

// installJS runs `npm ci` in js/ unless node_modules already holds exactly
// the locked tree (a stamp with the lockfile's hash), so repeated runs are fast.
func installJS(t testing.TB) {
	t.Helper()
	authdtest.TrackModuleInputs(t)
	npm := nodeTool(t, "npm")
	nodeTool(t, "node")
	npmInstall.once.Do(func() {
		dir := jsDir(t)
		lock, err := os.ReadFile(filepath.Join(dir, "package-lock.json"))
		if err != nil {
			npmInstall.err = err
			return
		}
		sum := sha256.Sum256(lock)
		want := hex.EncodeToString(sum[:])
		stamp := filepath.Join(dir, "node_modules", ".authd-e2e-lock.sha256")
		if got, err := os.ReadFile(stamp); err == nil && string(got) == want {
			return
		}
		cmd := exec.Command(npm, "ci", "--no-audit", "--no-fund", "--ignore-scripts")
		cmd.Dir = dir
		out, err := cmd.CombinedOutput()
		npmInstall.log = string(out)
		if err != nil {
			npmInstall.err = fmt.Errorf("npm ci: %w", err)
			return
		}
		npmInstall.err = os.WriteFile(stamp, []byte(want), 0o644)
	})
	if npmInstall.err != nil {
		t.Fatalf("%v\n%s", npmInstall.err, npmInstall.log)
	}
}

// inheritedEnv is the process environment without anything that configures
// authd, better-auth, Postgres clients or Node's test mode (better-auth turns
// its origin checks off under NODE_ENV=test), so each child sees only what
// the test sets.
func inheritedEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		switch {
		case name == "NODE_ENV", name == "TEST", name == "TZ", name == "NODE_OPTIONS",
			strings.HasPrefix(name, "APP_"), strings.HasPrefix(name, "AUTH_"), strings.HasPrefix(name, "HTTP_"),
			strings.HasPrefix(name, "DB_"), strings.HasPrefix(name, "SMTP_"), strings.HasPrefix(name, "PG"),
			strings.HasPrefix(name, "BETTER_AUTH_"):
			continue
		}
		env = append(env, kv)
	}
	return env
}

// nodeEnv is what every Node process gets: the database as libpq variables
// (pg reads them), UTC (pg maps `timestamp` columns through the local zone)
// and the shared secret.
func nodeEnv(db bunpg.Config, extra ...string) []string {
	env := append(inheritedEnv(),
		"TZ=UTC",
		"PGHOST="+db.Host,
		"PGPORT="+strconv.Itoa(db.Port),
		"PGDATABASE="+db.Name,
		"PGUSER="+db.User,
		"PGPASSWORD="+db.Password,
		"APP_SECRET="+testSecret,
	)
	return append(env, extra...)
}

// lineLogger forwards a child's output to t.Log line by line, as it comes.
type lineLogger struct {
	t      testing.TB
	prefix string
	mu     sync.Mutex
	buf    []byte
}

func (w *lineLogger) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf = append(w.buf, p...)
	for {
		i := bytes.IndexByte(w.buf, '\n')
		if i < 0 {
			return len(p), nil
		}
		w.t.Log(w.prefix + string(w.buf[:i]))
		w.buf = w.buf[i+1:]
	}
}

func (w *lineLogger) flush() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.buf) > 0 {
		w.t.Log(w.prefix + string(w.buf))
		w.buf = nil
	}
}

// runNode runs node with args in js/, streaming its output to the test log.
func runNode(t testing.TB, env []string, args ...string) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, nodeTool(t, "node"), args...)
	cmd.Dir = jsDir(t)
	cmd.Env = env
	out := &lineLogger{t: t, prefix: "node: "}
	cmd.Stdout, cmd.Stderr = out, out
	err := cmd.Run()
	out.flush()
	return err
}

// server is a child process serving HTTP; it is stopped when the test ends
// and its output is shown only if the test failed.
type server struct {
	Origin string
	done   chan struct{}
	out    *authdtest.SyncBuffer
}

func startServer(t testing.TB, name, addr, readyPath string, env []string, dir string, argv ...string) *server {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Dir = dir
	cmd.Env = env
	s := &server{Origin: "http://" + addr, done: make(chan struct{}), out: &authdtest.SyncBuffer{}}
	cmd.Stdout, cmd.Stderr = s.out, s.out
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = 10 * time.Second
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatalf("start %s: %v", name, err)
	}
	var waitErr error
	go func() {
		waitErr = cmd.Wait()
		close(s.done)
	}()
	t.Cleanup(func() {
		cancel()
		<-s.done
		if t.Failed() {
			t.Logf("%s output (exit: %v):\n%s", name, waitErr, s.out)
		}
	})

	if err := authdtest.WaitReady(s.Origin+readyPath, s.done, 60*time.Second); err != nil {
		select {
		case <-s.done: // waitErr is set
			t.Fatalf("%s %v: %v\n%s", name, err, waitErr, s.out)
		default:
			t.Fatalf("%s %v\n%s", name, err, s.out)
		}
	}
	return s
}

// startReference serves the real better-auth (js/reference-server.mjs) on db.
func startReference(t *testing.T, db bunpg.Config, mailDir string) *server {
	t.Helper()
	return startReferenceWith(t, db, mailDir)
}

// startReferenceWith is startReference with authd settings (KEY=VALUE) that
// reference-auth.mjs maps onto better-auth's options.
func startReferenceWith(t testing.TB, db bunpg.Config, mailDir string, extra ...string) *server {
	t.Helper()
	installJS(t)
	addr := authdtest.FreeAddr(t)
	env := nodeEnv(db, append([]string{"HTTP_ADDR=" + addr, "MAIL_DIR=" + mailDir}, extra...)...)
	return startServer(t, "reference better-auth", addr, "/api/auth/ok", env, jsDir(t), nodeTool(t, "node"), "reference-server.mjs")
}

// startAuthd runs the authd binary on db, mailing through the sink at
// smtpAddr; extra settings (KEY=VALUE) come last and win.
func startAuthd(t testing.TB, db bunpg.Config, smtpAddr string, extra ...string) *server {
	t.Helper()
	bin := authdtest.Binary(t)
	addr := authdtest.FreeAddr(t)
	smtpHost, smtpPort, err := net.SplitHostPort(smtpAddr)
	if err != nil {
		t.Fatal(err)
	}
	env := append(inheritedEnv(),
		"APP_ENV=test",
		"APP_SECRET="+testSecret,
		"AUTH_BASE_URL=http://"+addr+"/api",
		"HTTP_ADDR="+addr,
		"DB_HOST="+db.Host,
		"DB_PORT="+strconv.Itoa(db.Port),
		"DB_NAME="+db.Name,
		"DB_USER="+db.User,
		"DB_PASSWORD="+db.Password,
		"SMTP_HOST="+smtpHost,
		"SMTP_PORT="+smtpPort,
		"SMTP_TLS=none", // the sink is loopback
		"AUTH_RATE_LIMIT_ENABLED=false",
		"AUTH_DELETE_USER_ENABLED=true",
	)
	env = append(env, extra...)
	return startServer(t, "authd", addr, "/api/ready", env, t.TempDir(), bin, "serve")
}

// runClientSuite runs js/client.test.mjs against origin and fails t on any
// failing case.
func runClientSuite(t *testing.T, db bunpg.Config, origin, mailDir string) {
	t.Helper()
	runClientSuiteWith(t, db, origin, mailDir)
}

// runClientSuiteWith is runClientSuite with the server's settings (KEY=VALUE)
// in the suite's environment, so that it knows what to expect.
func runClientSuiteWith(t *testing.T, db bunpg.Config, origin, mailDir string, settings ...string) {
	t.Helper()
	env := nodeEnv(db, append([]string{"AUTHD_URL=" + origin, "MAIL_DIR=" + mailDir}, settings...)...)
	err := runNode(t, env, "--test", "--test-reporter=spec", "client.test.mjs")
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		t.Fatalf("better-auth client suite failed against %s (exit %d); see the node output above", origin, exit.ExitCode())
	case err != nil:
		t.Fatalf("run node: %v", err)
	}
}
