// Command authbench measures authd against its performance targets, side by
// side with the baselines those targets are defined by, in one run on this
// machine: pgbench -S on the same Postgres for get-session, and this machine's
// scrypt ceiling for sign-in and sign-up. It prints a markdown table.
//
//	go run ./cmd/authbench [-duration 10s] [-conns 32] [-flood-conns 256] [-wrk] [-profile DIR] [-env KEY=VALUE]
//
// It finds Postgres with .ci/ensure-postgres.sh, creates fresh databases,
// builds authd, migrates, serves it on a free loopback port, signs up fixture
// users through the HTTP API and drives each scenario with a closed-loop
// keep-alive load generator in this process. Everything it started (authd,
// pgbench, wrk, perf, its databases) is stopped or dropped on exit, also on
// Ctrl-C.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

type options struct {
	duration   time.Duration
	conns      int
	floodConns int
	users      int
	scryptTime time.Duration
	wrk        bool
	profileDir string
	authdBin   string
	settle     time.Duration
	profileOf  string
	quietWait  time.Duration
	scenarios  map[string]bool
	authdEnv   envList
}

// envList collects repeated -env KEY=VALUE flags.
type envList []string

func (e *envList) String() string { return strings.Join(*e, " ") }

func (e *envList) Set(v string) error {
	if k, _, ok := strings.Cut(v, "="); !ok || k == "" {
		return fmt.Errorf("want KEY=VALUE, got %q", v)
	}
	*e = append(*e, v)
	return nil
}

const backgroundWindow = 2 * time.Second

var allScenarios = []string{"pgbench", "get-session", "cookie-cache", "tokens", "redis", "instances", "sign-in", "sign-up", "flood"}

func main() {
	var o options
	var only string
	flag.DurationVar(&o.duration, "duration", 10*time.Second, "length of each measured scenario")
	flag.IntVar(&o.conns, "conns", 32, "connections (closed-loop workers) for get-session, sign-in, sign-up and pgbench")
	flag.IntVar(&o.floodConns, "flood-conns", 256, "connections of the sign-in flood")
	flag.IntVar(&o.users, "users", 0, "fixture users, each with a session (default: -conns)")
	flag.DurationVar(&o.scryptTime, "scrypt-duration", 5*time.Second, "how long to measure the scrypt ceiling")
	flag.DurationVar(&o.settle, "settle", 5*time.Second, "wait this long after the last scenario before measuring authd's settled RSS")
	flag.DurationVar(&o.quietWait, "quiet-wait", 30*time.Second, "before each measurement, wait up to this long for the machine to be idle (other work skews the numbers)")
	flag.BoolVar(&o.wrk, "wrk", false, "also measure get-session with wrk (Debian package wrk)")
	flag.StringVar(&o.profileDir, "profile", "", "after the measurements, profile authd during get-session and write the profile into this directory")
	flag.StringVar(&o.profileOf, "profile-scenario", "get-session", "scenario to profile with -profile: get-session or sign-in")
	flag.StringVar(&o.authdBin, "authd", "", "use this authd binary instead of building ./cmd/authd")
	flag.Var(&o.authdEnv, "env", "KEY=VALUE setting for authd, after the benchmark's own (repeatable; e.g. -env DB_MAX_OPEN_CONNS=16)")
	flag.StringVar(&only, "scenarios", strings.Join(allScenarios, ","), "comma-separated subset of "+strings.Join(allScenarios, ","))
	flag.Parse()
	if o.users <= 0 {
		o.users = o.conns
	}
	o.scenarios = map[string]bool{}
	for _, s := range strings.Split(only, ",") {
		s = strings.TrimSpace(s)
		if !contains(allScenarios, s) {
			fmt.Fprintf(os.Stderr, "authbench: unknown scenario %q\n", s)
			os.Exit(2)
		}
		o.scenarios[s] = true
	}
	if o.profileOf != "get-session" && o.profileOf != "sign-in" {
		fmt.Fprintln(os.Stderr, "authbench: -profile-scenario must be get-session or sign-in")
		os.Exit(2)
	}
	if o.conns < 1 || o.floodConns < 1 || o.duration < time.Second {
		fmt.Fprintln(os.Stderr, "authbench: -conns and -flood-conns must be positive and -duration at least 1s")
		os.Exit(2)
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, o)
	stop()
	if err != nil {
		fmt.Fprintf(os.Stderr, "authbench: %v\n", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, o options) (err error) {
	root, err := moduleRoot()
	if err != nil {
		return err
	}
	tmp, err := os.MkdirTemp("", "authbench-")
	if err != nil {
		return err
	}
	var cl cleanups
	var rep *report
	defer func() {
		cl.run()
		// authd's log is the only clue when it misbehaved, so it survives a
		// failure and any scenario that got unexpected errors.
		if err == nil && !rep.unexpectedErrors() {
			os.RemoveAll(tmp)
		} else {
			fmt.Fprintf(os.Stderr, "authbench: logs kept in %s\n", tmp)
		}
	}()

	pg, err := findPostgres(ctx, root)
	if err != nil {
		return err
	}
	m, err := describeMachine(ctx, pg)
	if err != nil {
		return err
	}
	progress("machine: %s", m)

	rep = &report{opts: o, machine: m}
	// Other work on a shared machine skews every number; the report says how much there was.
	bg := snapCPU(0)
	time.Sleep(backgroundWindow)
	rep.background = snapCPU(0).sub(bg, 0)
	progress("background load: %.2f cores busy", rep.background.other+rep.background.postgres+rep.background.client)

	bin := o.authdBin
	if bin == "" {
		bin = filepath.Join(tmp, "authd")
		progress("building authd")
		if err := goBuild(ctx, root, bin); err != nil {
			return err
		}
	}
	if err := dropPageCache(bin); err != nil {
		return err
	}

	if o.scenarios["pgbench"] {
		pgbDB := "authbench_pgb_" + randomHex(4)
		if err := pg.createDB(ctx, pgbDB); err != nil {
			return err
		}
		cl.add(func() { pg.dropDB(pgbDB) })
		progress("pgbench -i -s 10 %s", pgbDB)
		if err := pg.pgbenchInit(ctx, pgbDB); err != nil {
			return err
		}
		for _, prepared := range []bool{false, true} {
			waitQuiet(ctx, o.quietWait)
			r, err := pg.pgbenchSelect(ctx, pgbDB, o.conns, o.duration, prepared, tmp)
			if err != nil {
				return err
			}
			rep.pgbench = append(rep.pgbench, r)
		}
	}

	appDB := "authbench_" + randomHex(4)
	if err := pg.createDB(ctx, appDB); err != nil {
		return err
	}
	cl.add(func() { pg.dropDB(appDB) })
	secret := "authbench-" + randomHex(24)
	srv, err := startAuthd(ctx, bin, root, tmp, pg, appDB, secret, o.authdEnv)
	if srv != nil {
		cl.add(srv.stop)
	}
	if err != nil {
		return err
	}
	srv.quietWait = o.quietWait
	progress("authd pid %d serving %s", srv.pid, srv.origin)

	// Idle is measured before any request: that is what an operator sees for
	// an instance that has just started and is waiting for traffic.
	time.Sleep(time.Second)
	if rep.idle, err = procMemory(srv.pid); err != nil {
		return err
	}

	fx, err := createFixtures(ctx, srv, o.users)
	if err != nil {
		return err
	}
	progress("%d fixture users signed up", len(fx.users))

	b := bench{ctx: ctx, opts: o, srv: srv, fx: fx, tmp: tmp}
	if o.scenarios["pgbench"] {
		token, err := fx.users[0].token()
		if err != nil {
			return err
		}
		for _, prepared := range []bool{false, true} {
			srv.quiesce(ctx)
			r, err := pg.pgbenchSessionQuery(ctx, appDB, token, o.conns, o.duration, prepared, tmp)
			if err != nil {
				return err
			}
			rep.sessionQuery = append(rep.sessionQuery, r)
		}
	}
	if o.scenarios["get-session"] {
		if rep.getSession, err = b.getSession(); err != nil {
			return err
		}
		if o.wrk {
			if rep.wrk, err = b.wrkGetSession(); err != nil {
				return err
			}
		}
	}
	if o.scenarios["cookie-cache"] {
		// A second instance with the cache on, so that the database-path
		// numbers above are those of the default configuration.
		env := append(append([]string{}, o.authdEnv...), "AUTH_COOKIE_CACHE_MAX_AGE=300s")
		cached, err := startAuthd(ctx, bin, root, tmp, pg, appDB, secret, env)
		if cached != nil {
			defer cached.stop()
		}
		if err != nil {
			return err
		}
		if rep.cookieCache, err = b.cookieCacheGetSession(cached); err != nil {
			return err
		}
		cached.stop()
	}
	if o.scenarios["tokens"] {
		if rep.bearer, rep.token, rep.jwtSession, err = b.tokens(bin, root, pg, appDB, secret); err != nil {
			return err
		}
	}
	if o.scenarios["redis"] {
		rd, err := startBenchRedis(ctx, tmp)
		if err != nil {
			return err
		}
		defer rd.stop()
		waitQuiet(ctx, o.quietWait)
		if rep.redisBaseline, err = rd.getBaseline(ctx, o.conns, o.duration); err != nil {
			return err
		}
		progress("%s: %.0f req/s, p99 %s", rep.redisBaseline.name, rep.redisBaseline.rps, rep.redisBaseline.p99)
		env := append(append([]string{}, o.authdEnv...), "AUTH_SECONDARY_STORAGE=redis", "REDIS_URL=redis://127.0.0.1:"+rd.port+"/0")
		onRedis, err := startAuthd(ctx, bin, root, tmp, pg, appDB, secret, env)
		if onRedis != nil {
			defer onRedis.stop()
		}
		if err != nil {
			return err
		}
		if rep.redisGet, rep.redisPGPerGet, err = b.redisGetSession(onRedis, pg, appDB); err != nil {
			return err
		}
		onRedis.stop()
		if o.scenarios["instances"] {
			start := func() (*authd, error) { return startAuthd(ctx, bin, root, tmp, pg, appDB, secret, env) }
			if rep.instancesGet, rep.instancesSignIn, err = b.instances(start); err != nil {
				return err
			}
		}
	}
	if o.scenarios["sign-in"] || o.scenarios["sign-up"] || o.scenarios["flood"] {
		rep.ceilings = append(rep.ceilings, measureCeiling(ctx, srv, o.scryptTime))
	}
	if o.scenarios["sign-in"] {
		if rep.signIn, err = b.signIn("sign-in", o.conns); err != nil {
			return err
		}
	}
	if o.scenarios["sign-up"] {
		if rep.signUp, err = b.signUp(); err != nil {
			return err
		}
	}
	if o.scenarios["flood"] {
		if rep.flood, err = b.signIn("sign-in flood", o.floodConns); err != nil {
			return err
		}
		rep.floodHWM = rep.flood.hwm
	}
	// Measured again at the end: other work on a shared machine only ever
	// lowers the rate, so the better of the two is the machine's ceiling.
	if len(rep.ceilings) > 0 {
		rep.ceilings = append(rep.ceilings, measureCeiling(ctx, srv, o.scryptTime))
	}
	// The heap that scrypt left behind is given back to the OS only after the
	// next garbage collection; this shows where the process settles after the load.
	srv.quiesce(ctx)
	select {
	case <-time.After(o.settle):
	case <-ctx.Done():
		return ctx.Err()
	}
	if rep.settled, err = procMemory(srv.pid); err != nil {
		return err
	}
	if o.profileDir != "" {
		if rep.profile, err = b.profile(); err != nil {
			return err
		}
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	rep.print(os.Stdout)
	return nil
}

func measureCeiling(ctx context.Context, srv *authd, d time.Duration) ceiling {
	srv.quiesce(ctx)
	progress("scrypt ceiling (%s)", d)
	c := measureScryptCeiling(ctx, d)
	progress("scrypt ceiling: %.2f hashes/s (%.2f cores busy elsewhere)", c.rate, c.cpu.server+c.cpu.postgres+c.cpu.other)
	return c
}

// cleanups runs in reverse order what run started, so authd is stopped before
// its database is dropped.
type cleanups struct{ fns []func() }

func (c *cleanups) add(f func()) { c.fns = append(c.fns, f) }

func (c *cleanups) run() {
	for i := len(c.fns) - 1; i >= 0; i-- {
		c.fns[i]()
	}
}

func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, ".ci", "ensure-postgres.sh")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("run from inside the authd repository (no .ci/ensure-postgres.sh above the working directory)")
		}
		dir = parent
	}
}

func progress(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "%s  "+format+"\n", append([]any{time.Now().Format("15:04:05")}, args...)...)
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
