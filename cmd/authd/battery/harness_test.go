package battery

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/authd/authd/adapters/bunpg"
	"github.com/authd/authd/cmd/authd/authdtest"
)

// testSecret is APP_SECRET for every instance; two instances on one
// database must share it to accept each other's cookies.
const testSecret = "battery-secret-0123456789abcdefghijklmnopqrstuvwxyz"

func TestMain(m *testing.M) {
	code := authdtest.Run(m)
	if shared.pg != nil {
		shared.pg.destroy()
	}
	os.Exit(code)
}

// ---- Postgres ----

// pgCluster is a private Postgres cluster (initdb + pg_ctl) on a loopback
// port, with fsync off: the tests stop and start it at will.
type pgCluster struct {
	root string // temp dir, removed by destroy
	data string
	log  string
	port int
	bin  string
	as   *user.User // OS user that runs the server; nil = the current user

	mu      sync.Mutex
	running bool
}

var shared struct {
	once sync.Once
	pg   *pgCluster
	err  error
}

// sharedCluster is the package's cluster for tests that never stop it; each
// test still works in a database of its own.
func sharedCluster(t testing.TB) *pgCluster {
	t.Helper()
	shared.once.Do(func() {
		shared.pg, shared.err = newPGCluster()
		if shared.err == nil {
			shared.err = shared.pg.start()
		}
	})
	if shared.err != nil {
		t.Fatalf("shared Postgres cluster: %v", shared.err)
	}
	return shared.pg
}

// privateCluster is a cluster for one test, destroyed when it ends.
func privateCluster(t testing.TB) *pgCluster {
	t.Helper()
	pg, err := newPGCluster()
	if err != nil {
		t.Fatalf("Postgres cluster: %v", err)
	}
	t.Cleanup(pg.destroy)
	if err := pg.start(); err != nil {
		t.Fatalf("Postgres cluster: %v", err)
	}
	return pg
}

func pgBinDir() (string, error) {
	if dir := os.Getenv("AUTHD_BATTERY_PGBIN"); dir != "" {
		return dir, nil
	}
	if p, err := exec.LookPath("pg_ctl"); err == nil {
		return filepath.Dir(p), nil
	}
	matches, _ := filepath.Glob("/usr/lib/postgresql/*/bin/pg_ctl")
	if len(matches) == 0 {
		return "", errors.New("pg_ctl not found: install the Postgres server or set AUTHD_BATTERY_PGBIN")
	}
	sort.Strings(matches)
	return filepath.Dir(matches[len(matches)-1]), nil
}

func newPGCluster() (*pgCluster, error) {
	bin, err := pgBinDir()
	if err != nil {
		return nil, err
	}
	root, err := os.MkdirTemp("", "authd-battery-pg-")
	if err != nil {
		return nil, err
	}
	c := &pgCluster{root: root, data: filepath.Join(root, "data"), log: filepath.Join(root, "postgres.log"), bin: bin}
	fail := func(err error) (*pgCluster, error) {
		os.RemoveAll(root)
		return nil, err
	}
	// Postgres refuses to run as root; as root, hand the cluster to the
	// postgres account.
	if os.Geteuid() == 0 {
		if c.as, err = user.Lookup("postgres"); err != nil {
			return fail(fmt.Errorf("running as root needs the postgres OS user: %w", err))
		}
		if err := os.Chmod(root, 0o755); err != nil {
			return fail(err)
		}
	}
	if err := os.Mkdir(c.data, 0o700); err != nil {
		return fail(err)
	}
	if err := os.WriteFile(c.log, nil, 0o644); err != nil {
		return fail(err)
	}
	if c.as != nil {
		uid, _ := strconv.Atoi(c.as.Uid)
		gid, _ := strconv.Atoi(c.as.Gid)
		for _, p := range []string{c.data, c.log} {
			if err := os.Chown(p, uid, gid); err != nil {
				return fail(err)
			}
		}
	}
	if out, err := c.pg("initdb", "-D", c.data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--locale=C", "--no-sync").CombinedOutput(); err != nil {
		return fail(fmt.Errorf("initdb: %v\n%s", err, out))
	}
	if c.port, err = freePort(); err != nil {
		return fail(err)
	}
	conf := fmt.Sprintf(`
listen_addresses = '127.0.0.1'
port = %d
unix_socket_directories = ''
max_connections = 200
fsync = off
synchronous_commit = off
full_page_writes = off
`, c.port)
	f, err := os.OpenFile(filepath.Join(c.data, "postgresql.conf"), os.O_APPEND|os.O_WRONLY, 0)
	if err == nil {
		_, err = f.WriteString(conf)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}
	if err != nil {
		return fail(err)
	}
	return c, nil
}

// pg builds a command running a Postgres tool as the cluster's owner.
func (c *pgCluster) pg(tool string, args ...string) *exec.Cmd {
	path := filepath.Join(c.bin, tool)
	if c.as == nil {
		return exec.Command(path, args...)
	}
	return exec.Command("runuser", append([]string{"-u", c.as.Username, "--", path}, args...)...)
}

func (c *pgCluster) start() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	out, err := c.pg("pg_ctl", "-D", c.data, "-l", c.log, "-w", "-t", "60", "start").CombinedOutput()
	if err != nil {
		logTail, _ := os.ReadFile(c.log)
		return fmt.Errorf("pg_ctl start: %v\n%s\n%s", err, out, tail(string(logTail), 20))
	}
	c.running = true
	return nil
}

// stop is `pg_ctl -m fast stop`: clients are disconnected at once.
func (c *pgCluster) stop() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	out, err := c.pg("pg_ctl", "-D", c.data, "-m", "fast", "-w", "-t", "60", "stop").CombinedOutput()
	if err != nil {
		return fmt.Errorf("pg_ctl stop: %v\n%s", err, out)
	}
	c.running = false
	return nil
}

func (c *pgCluster) destroy() {
	c.mu.Lock()
	if c.running {
		_ = c.pg("pg_ctl", "-D", c.data, "-m", "immediate", "-w", "stop").Run()
		c.running = false
	}
	c.mu.Unlock()
	os.RemoveAll(c.root)
}

func (c *pgCluster) config(name string) bunpg.Config {
	return bunpg.Config{
		Host: "127.0.0.1", Port: c.port, Name: name, User: "postgres", SSLMode: "disable",
		AppName: "authd-battery", MaxOpenConns: 4, DialTimeout: 5 * time.Second, QueryTimeout: 20 * time.Second,
	}
}

// open is a pool on database name for the test's own queries.
func (c *pgCluster) open(t testing.TB, name string) *bun.DB {
	t.Helper()
	db, err := bunpg.Open(c.config(name))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return db
}

// createDB makes an empty database with a random name.
func (c *pgCluster) createDB(t testing.TB) string {
	t.Helper()
	name := "battery_" + randomHex(6)
	admin := c.open(t, "postgres")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE "+name+" TEMPLATE template0"); err != nil {
		t.Fatalf("create database: %v", err)
	}
	return name
}

// migratedDB is createDB plus `authd migrate up` from the binary under test.
func (c *pgCluster) migratedDB(t testing.TB) string {
	t.Helper()
	name := c.createDB(t)
	res := runAuthd(t, authdEnv(c, name, authdtest.FreeAddr(t)), time.Minute, "migrate", "up")
	if res.code != 0 {
		t.Fatalf("authd migrate up: exit %d\n%s", res.code, res.stderr)
	}
	return name
}

// ---- the authd process ----

// env is authd's environment; a missing key is unset.
type env map[string]string

// authdEnv is a working configuration for database name on cluster c,
// listening on addr, with rate limiting off unless a test turns it on.
func authdEnv(c *pgCluster, name, addr string) env {
	return env{
		"APP_ENV":                  "test",
		"APP_SECRET":               testSecret,
		"AUTH_BASE_URL":            "http://" + addr + "/api",
		"AUTH_RATE_LIMIT_ENABLED":  "false",
		"AUTH_DELETE_USER_ENABLED": "true",
		"HTTP_ADDR":                addr,
		"DB_HOST":                  "127.0.0.1",
		"DB_PORT":                  strconv.Itoa(c.port),
		"DB_NAME":                  name,
		"DB_USER":                  "postgres",
		"DB_SSLMODE":               "disable",
		"SMTP_TLS":                 "none", // the sinks are loopback
	}
}

func (e env) with(kv ...string) env {
	out := env{}
	for k, v := range e {
		out[k] = v
	}
	for i := 0; i+1 < len(kv); i += 2 {
		out[kv[i]] = kv[i+1]
	}
	return out
}

func (e env) without(keys ...string) env {
	out := e.with()
	for _, k := range keys {
		delete(out, k)
	}
	return out
}

// list is the process environment minus anything that configures authd,
// Postgres clients or the Go runtime's memory limit (the RSS figures must
// reflect the binary's own defaults), plus e.
func (e env) list() []string {
	var out []string
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		switch {
		case name == "GOMEMLIMIT", name == "GOGC", name == "CONFIG_FILE",
			strings.HasPrefix(name, "APP_"), strings.HasPrefix(name, "AUTH_"), strings.HasPrefix(name, "HTTP_"),
			strings.HasPrefix(name, "DB_"), strings.HasPrefix(name, "SMTP_"), strings.HasPrefix(name, "PG"):
			continue
		}
		out = append(out, kv)
	}
	for k, v := range e {
		out = append(out, k+"="+v)
	}
	return out
}

// authd is a running `authd serve`.
type authd struct {
	Origin string // http://127.0.0.1:port
	Addr   string
	cmd    *exec.Cmd
	stderr *authdtest.SyncBuffer
	done   chan struct{}
	exit   error // valid once done is closed
}

// startAuthd runs `authd serve` with e (HTTP_ADDR must be set) and waits
// until /api/ready answers 200. When the test ends the process gets SIGTERM,
// then SIGKILL after 10 s; its stderr is shown if the test failed.
func startAuthd(t testing.TB, e env) *authd {
	t.Helper()
	a := spawnAuthd(t, e)
	if err := authdtest.WaitReady(a.Origin+"/api/ready", a.done, 30*time.Second); err != nil {
		select {
		case <-a.done: // a.exit is set
			t.Fatalf("authd %v: %v\n%s", err, a.exit, tail(a.stderr.String(), 40))
		default:
			t.Fatalf("authd %v\n%s", err, tail(a.stderr.String(), 40))
		}
	}
	return a
}

func spawnAuthd(t testing.TB, e env) *authd {
	t.Helper()
	bin := authdtest.Binary(t)
	addr := e["HTTP_ADDR"]
	a := &authd{Origin: "http://" + addr, Addr: addr, stderr: &authdtest.SyncBuffer{}, done: make(chan struct{})}
	a.cmd = exec.Command(bin, "serve")
	a.cmd.Dir = t.TempDir() // no configs/config.yaml or .env to pick up
	a.cmd.Env = e.list()
	a.cmd.Stdout = a.stderr
	a.cmd.Stderr = a.stderr
	a.cmd.SysProcAttr = childAttr()
	if err := a.cmd.Start(); err != nil {
		t.Fatalf("start authd: %v", err)
	}
	go func() {
		a.exit = a.cmd.Wait()
		close(a.done)
	}()
	t.Cleanup(func() {
		if a.alive() {
			sent := time.Now()
			_ = a.cmd.Process.Signal(syscall.SIGTERM)
			select {
			case <-a.done:
			case <-time.After(10 * time.Second):
				_ = a.cmd.Process.Kill()
				<-a.done
			}
			if d := time.Since(sent); d > 3*time.Second {
				t.Logf("authd %s took %s to stop after SIGTERM at the end of the test", addr, d.Round(time.Millisecond))
			}
		}
		if t.Failed() {
			t.Logf("authd %s stderr (exit: %v), last lines:\n%s", addr, a.exit, tail(a.stderr.String(), 60))
		}
	})
	return a
}

func (a *authd) alive() bool {
	select {
	case <-a.done:
		return false
	default:
		return true
	}
}

func (a *authd) pid() int { return a.cmd.Process.Pid }

// waitExit waits up to d for the process to end and returns its exit code
// (-1 if it was killed by a signal or is still running).
func (a *authd) waitExit(d time.Duration) (int, bool) {
	select {
	case <-a.done:
	case <-time.After(d):
		return -1, false
	}
	return a.cmd.ProcessState.ExitCode(), true
}

// memory reads VmRSS and VmHWM (peak RSS) of the process, in bytes.
func (a *authd) memory() (rss, hwm int64, err error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", a.pid()))
	if err != nil {
		return 0, 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		name, value, ok := strings.Cut(sc.Text(), ":")
		if !ok || (name != "VmRSS" && name != "VmHWM") {
			continue
		}
		fields := strings.Fields(value) // "12345 kB"
		if len(fields) != 2 || fields[1] != "kB" {
			return 0, 0, fmt.Errorf("unexpected /proc status line %q", sc.Text())
		}
		kb, err := strconv.ParseInt(fields[0], 10, 64)
		if err != nil {
			return 0, 0, err
		}
		if name == "VmRSS" {
			rss = kb << 10
		} else {
			hwm = kb << 10
		}
	}
	if rss == 0 || hwm == 0 {
		return 0, 0, errors.New("VmRSS/VmHWM missing from /proc status")
	}
	return rss, hwm, sc.Err()
}

type runResult struct {
	code    int // -1 when the process did not finish in time
	stderr  string
	elapsed time.Duration
}

// runAuthd runs the binary with args to completion (killed after limit).
func runAuthd(t testing.TB, e env, limit time.Duration, args ...string) runResult {
	t.Helper()
	bin := authdtest.Binary(t)
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Dir = t.TempDir()
	cmd.Env = e.list()
	var out authdtest.SyncBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.SysProcAttr = childAttr()
	start := time.Now()
	err := cmd.Run()
	res := runResult{stderr: out.String(), elapsed: time.Since(start)}
	var exit *exec.ExitError
	switch {
	case ctx.Err() != nil:
		res.code = -1
	case err == nil:
		res.code = 0
	case errors.As(err, &exit):
		res.code = exit.ExitCode()
	default:
		t.Fatalf("run authd %v: %v", args, err)
	}
	return res
}

// ---- HTTP ----

// client is a browser-like caller: a cookie jar and the trusted Origin on
// every request.
type client struct {
	origin string
	hc     *http.Client
}

type clientOpt func(*http.Transport)

// fromIP makes the client's connections come from a given loopback address,
// so that rate-limit tests get a client key of their own.
func fromIP(ip string) clientOpt {
	return func(tr *http.Transport) {
		d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}, Timeout: 5 * time.Second}
		tr.DialContext = d.DialContext
	}
}

func newClient(a *authd, opts ...clientOpt) *client {
	jar, _ := cookiejar.New(nil)
	tr := &http.Transport{
		MaxIdleConns:        512,
		MaxIdleConnsPerHost: 512,
		IdleConnTimeout:     30 * time.Second,
		DisableCompression:  true,
	}
	for _, o := range opts {
		o(tr)
	}
	return &client{origin: a.Origin, hc: &http.Client{
		Jar:       jar,
		Transport: tr,
		Timeout:   30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}}
}

// reply is one response, read in full.
type reply struct {
	Status  int
	Header  http.Header
	Body    []byte
	Latency time.Duration
}

func (r *reply) String() string {
	return fmt.Sprintf("%d %s (%s)", r.Status, truncate(string(r.Body), 300), r.Latency.Round(time.Millisecond))
}

// code is the better-auth error code of the body, "" if none.
func (r *reply) code() string {
	var e struct {
		Code string `json:"code"`
	}
	_ = json.Unmarshal(r.Body, &e)
	return e.Code
}

func (c *client) do(method, path string, body any) (*reply, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, c.origin+path, rd)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Origin", c.origin)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	start := time.Now()
	res, err := c.hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		return nil, fmt.Errorf("read body of %s %s: %w", method, path, err)
	}
	return &reply{Status: res.StatusCode, Header: res.Header, Body: b, Latency: time.Since(start)}, nil
}

func (c *client) get(path string) (*reply, error) { return c.do(http.MethodGet, path, nil) }
func (c *client) post(path string, body any) (*reply, error) {
	return c.do(http.MethodPost, path, body)
}

func (c *client) signUp(email, password string) (*reply, error) {
	return c.post("/api/auth/sign-up/email", map[string]any{"name": "Battery User", "email": email, "password": password})
}

func (c *client) signIn(email, password string) (*reply, error) {
	return c.post("/api/auth/sign-in/email", map[string]any{"email": email, "password": password})
}

// mustSignUp signs up and fails the test unless the answer is 200.
func (c *client) mustSignUp(t testing.TB, email, password string) *reply {
	t.Helper()
	r, err := c.signUp(email, password)
	if err != nil {
		t.Fatalf("sign-up %s: %v", email, err)
	}
	if r.Status != http.StatusOK {
		t.Fatalf("sign-up %s: %s", email, r)
	}
	return r
}

// bodyToken is the "token" field of a sign-up or sign-in body.
func bodyToken(t testing.TB, r *reply) string {
	t.Helper()
	var v struct {
		Token string `json:"token"`
	}
	if err := json.Unmarshal(r.Body, &v); err != nil || v.Token == "" {
		t.Fatalf("no session token in %s", r)
	}
	return v.Token
}

// sessionEmail is the user email of a get-session body, "" for null.
func sessionEmail(body []byte) (string, error) {
	var v *struct {
		Session struct {
			Token string `json:"token"`
		} `json:"session"`
		User struct {
			Email string `json:"email"`
		} `json:"user"`
	}
	if err := json.Unmarshal(body, &v); err != nil {
		return "", fmt.Errorf("get-session body %q: %w", truncate(string(body), 200), err)
	}
	if v == nil {
		return "", nil
	}
	return v.User.Email, nil
}

// ---- small helpers ----

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func uniqueEmail(prefix string) string { return prefix + "-" + randomHex(4) + "@battery.test" }

func tail(s string, lines int) string {
	parts := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(parts) > lines {
		parts = parts[len(parts)-lines:]
	}
	return strings.Join(parts, "\n")
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// percentile of sorted-in-place durations (p in 0..100).
func percentile(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
	i := int(float64(len(ds)-1) * p / 100)
	return ds[i]
}

// histogram renders status counts as "200×12 503×3".
func histogram(m map[int]int) string {
	keys := make([]int, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Ints(keys)
	var sb strings.Builder
	for _, k := range keys {
		if sb.Len() > 0 {
			sb.WriteByte(' ')
		}
		fmt.Fprintf(&sb, "%d×%d", k, m[k])
	}
	return sb.String()
}

func mib(b int64) string { return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20)) }

// count runs a single-integer query.
func count(t testing.TB, db *bun.DB, query string, args ...any) int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var n int
	if err := db.QueryRowContext(ctx, query, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

func execSQL(t testing.TB, db *bun.DB, query string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if _, err := db.ExecContext(ctx, query); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
}

// oversizedRequest writes req on its own connection while reading the
// answer. The server answers a request it refuses before reading all of it
// and closes; the unread rest makes that close a reset, which fails a
// client that only reads after writing (Go's http.Client then reports the
// broken write, not the answer that already arrived).
func oversizedRequest(t *testing.T, a *authd, req string) int {
	t.Helper()
	conn, err := net.Dial("tcp", a.Addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	go func() { _, _ = conn.Write([]byte(req)) }()
	res, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("reading the answer to an oversized request: %v", err)
	}
	res.Body.Close()
	return res.StatusCode
}
