package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"time"
)

type postgres struct {
	host, port, bindir string
}

// findPostgres reuses the script CI uses, so the benchmark runs against the
// same server (or throwaway cluster) as the tests.
func findPostgres(ctx context.Context, root string) (*postgres, error) {
	cmd := exec.CommandContext(ctx, "bash", filepath.Join(root, ".ci", "ensure-postgres.sh"))
	cmd.Dir = root
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("ensure-postgres.sh: %w", err)
	}
	f := strings.Fields(string(out))
	if len(f) != 2 {
		return nil, fmt.Errorf("ensure-postgres.sh printed %q, want \"HOST PORT\"", out)
	}
	bindirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	if len(bindirs) == 0 {
		return nil, fmt.Errorf("no /usr/lib/postgresql/*/bin (pgbench, psql)")
	}
	sort.Slice(bindirs, func(i, j int) bool { return versionLess(bindirs[i], bindirs[j]) })
	return &postgres{host: f[0], port: f[1], bindir: bindirs[len(bindirs)-1]}, nil
}

func versionLess(a, b string) bool {
	va, _ := strconv.Atoi(filepath.Base(filepath.Dir(a)))
	vb, _ := strconv.Atoi(filepath.Base(filepath.Dir(b)))
	return va < vb
}

func (p *postgres) tool(ctx context.Context, name string, args ...string) *exec.Cmd {
	base := []string{"-h", p.host, "-p", p.port, "-U", "postgres"}
	cmd := exec.CommandContext(ctx, filepath.Join(p.bindir, name), append(base, args...)...)
	cmd.Env = append(os.Environ(), "PGCONNECT_TIMEOUT=10")
	return cmd
}

func (p *postgres) psql(ctx context.Context, db, sql string) (string, error) {
	out, err := p.tool(ctx, "psql", "-d", db, "-Atqc", sql).CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("psql %q: %w: %s", sql, err, out)
	}
	return strings.TrimSpace(string(out)), nil
}

func (p *postgres) createDB(ctx context.Context, name string) error {
	if out, err := p.tool(ctx, "createdb", name).CombinedOutput(); err != nil {
		return fmt.Errorf("createdb %s: %w: %s", name, err, out)
	}
	return nil
}

// dropDB runs on the way out, possibly after Ctrl-C cancelled the run's
// context, so it has its own deadline.
func (p *postgres) dropDB(name string) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if out, err := p.tool(ctx, "dropdb", "--if-exists", "--force", name).CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "authbench: dropdb %s: %v: %s\n", name, err, out)
	}
}

func (p *postgres) pgbenchInit(ctx context.Context, db string) error {
	if out, err := p.tool(ctx, "pgbench", "-i", "-s", "10", "-q", db).CombinedOutput(); err != nil {
		return fmt.Errorf("pgbench -i: %w: %s", err, out)
	}
	return nil
}

var (
	tpsRe    = regexp.MustCompile(`tps = ([0-9.]+) \(without initial connection time\)`)
	failedRe = regexp.MustCompile(`number of failed transactions: (\d+)`)
)

// pgbenchSelect runs the select-only built-in script (pgbench -S).
func (p *postgres) pgbenchSelect(ctx context.Context, db string, conns int, d time.Duration, prepared bool, tmp string) (result, error) {
	mode, name := "simple", "pgbench -S"
	if prepared {
		mode, name = "prepared", "pgbench -S -M prepared"
	}
	return p.pgbench(ctx, db, name, "select_"+mode, conns, d, tmp, "-S", "-M", mode)
}

// sessionQuery is what get-session asks Postgres (the session joined to its
// user, by token), in the two forms pgbench needs: in simple mode the
// variable is pasted into the text, in prepared mode it becomes $1.
const sessionQuery = `SELECT s.id, s.expires_at, s.token, s.created_at, s.updated_at, s.ip_address, s.user_agent, s.user_id,
 u.id, u.name, u.email, u.email_verified, u.image, u.created_at, u.updated_at
 FROM session AS s LEFT JOIN "user" AS u ON u.id = s.user_id WHERE s.token = %s;
`

// pgbenchSessionQuery measures what Postgres alone can do for get-session's
// query, by protocol: the gap between the two is the cost of planning the
// query on every request, which is what a client-side interpolated query pays.
func (p *postgres) pgbenchSessionQuery(ctx context.Context, db, token string, conns int, d time.Duration, prepared bool, tmp string) (result, error) {
	mode, name, param := "simple", "pgbench get-session query", "':token'"
	if prepared {
		mode, name, param = "prepared", "pgbench get-session query -M prepared", ":token"
	}
	script := filepath.Join(tmp, "session_"+mode+".sql")
	if err := os.WriteFile(script, []byte(fmt.Sprintf(sessionQuery, param)), 0o644); err != nil {
		return result{}, err
	}
	return p.pgbench(ctx, db, name, "session_"+mode, conns, d, tmp, "-f", script, "-D", "token="+token, "-M", mode)
}

// pgbench runs one timed pgbench. One transaction in ten is logged, enough
// for p99 without the logging itself costing the baseline much.
func (p *postgres) pgbench(ctx context.Context, db, name, tag string, conns int, d time.Duration, tmp string, args ...string) (result, error) {
	progress("%s, %d connections, %s", name, conns, d)
	prefix := filepath.Join(tmp, "pgbench_"+tag)
	secs := int((d + time.Second - 1) / time.Second)
	args = append(args, "-n", "-c", strconv.Itoa(conns), "-j", strconv.Itoa(min(conns, runtime.NumCPU())),
		"-T", strconv.Itoa(secs), "-l", "--sampling-rate=0.1", "--log-prefix="+prefix, db)
	cmd := p.tool(ctx, "pgbench", args...)
	cmd.Dir = tmp
	before := snapCPU(0)
	out, err := cmd.CombinedOutput()
	after := snapCPU(0)
	if err != nil {
		return result{}, fmt.Errorf("%s: %w: %s", name, err, out)
	}
	m := tpsRe.FindSubmatch(out)
	if m == nil {
		return result{}, fmt.Errorf("%s: no tps in output:\n%s", name, out)
	}
	r := result{name: name, conns: conns, elapsed: time.Duration(secs) * time.Second}
	r.rps, _ = strconv.ParseFloat(string(m[1]), 64)
	if f := failedRe.FindSubmatch(out); f != nil {
		r.errors, _ = strconv.Atoi(string(f[1]))
	}
	logs, _ := filepath.Glob(prefix + ".*")
	for _, l := range logs {
		lat, err := readPgbenchLog(l)
		if err != nil {
			return result{}, err
		}
		r.lat = append(r.lat, lat...)
	}
	r.finishLatencies()
	r.cpu = after.sub(before, cmd.ProcessState.UserTime()+cmd.ProcessState.SystemTime())
	progress("%s: %.0f tps", name, r.rps)
	return r, nil
}

// readPgbenchLog reads the per-transaction log; its third field is the
// transaction's latency in microseconds.
func readPgbenchLog(path string) ([]time.Duration, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var lat []time.Duration
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 3 {
			continue
		}
		us, err := strconv.ParseInt(f[2], 10, 64)
		if err != nil {
			return nil, fmt.Errorf("%s: %q: %w", path, sc.Text(), err)
		}
		lat = append(lat, time.Duration(us)*time.Microsecond)
	}
	return lat, sc.Err()
}

type machine struct {
	cores     int
	cpuModel  string
	goVersion string
	pgVersion string
	kernel    string
}

func (m machine) String() string {
	return fmt.Sprintf("%d cores (%s), %s, PostgreSQL %s, Linux %s", m.cores, m.cpuModel, m.goVersion, m.pgVersion, m.kernel)
}

func describeMachine(ctx context.Context, p *postgres) (machine, error) {
	m := machine{cores: runtime.NumCPU(), goVersion: runtime.Version(), cpuModel: "unknown CPU"}
	v, err := p.psql(ctx, "postgres", "show server_version")
	if err != nil {
		return m, err
	}
	m.pgVersion = v
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.kernel = strings.TrimSpace(string(b))
	}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if k, val, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				m.cpuModel = strings.TrimSpace(val)
				break
			}
		}
	}
	return m, nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b)
}
