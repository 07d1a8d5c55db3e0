package bunpg_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/migrate"

	"github.com/authd/authd/adapters/bunpg"
	"github.com/authd/authd/adapters/bunpg/bunpgtest"
)

// utcNow is how Postgres renders the seed's "default now()".
const utcNow = "now()"

// wantColumns is the schema contract: table.column -> type, nullability and
// default, as information_schema reports them.
var wantColumns = map[string]string{
	"user.id":             "text NOT NULL",
	"user.name":           "text NOT NULL",
	"user.email":          "text NOT NULL",
	"user.email_verified": "boolean NOT NULL DEFAULT false",
	"user.image":          "text NULL",
	"user.created_at":     "timestamp without time zone NOT NULL DEFAULT " + utcNow,
	"user.updated_at":     "timestamp without time zone NOT NULL DEFAULT " + utcNow,

	"user.two_factor_enabled":              "boolean NOT NULL DEFAULT false",
	"two_factor.id":                        "text NOT NULL",
	"two_factor.secret":                    "text NOT NULL",
	"two_factor.backup_codes":              "text NOT NULL",
	"two_factor.user_id":                   "text NOT NULL",
	"two_factor.verified":                  "boolean NULL DEFAULT true",
	"two_factor.failed_verification_count": "integer NULL DEFAULT 0",
	"two_factor.locked_until":              "timestamp without time zone NULL",

	"session.id":         "text NOT NULL",
	"session.expires_at": "timestamp without time zone NOT NULL",
	"session.token":      "text NOT NULL",
	"session.created_at": "timestamp without time zone NOT NULL DEFAULT " + utcNow,
	"session.updated_at": "timestamp without time zone NOT NULL DEFAULT " + utcNow,
	"session.ip_address": "text NULL",
	"session.user_agent": "text NULL",
	"session.user_id":    "text NOT NULL",

	"account.id":                       "text NOT NULL",
	"account.account_id":               "text NOT NULL",
	"account.provider_id":              "text NOT NULL",
	"account.user_id":                  "text NOT NULL",
	"account.access_token":             "text NULL",
	"account.refresh_token":            "text NULL",
	"account.id_token":                 "text NULL",
	"account.access_token_expires_at":  "timestamp without time zone NULL",
	"account.refresh_token_expires_at": "timestamp without time zone NULL",
	"account.scope":                    "text NULL",
	"account.password":                 "text NULL",
	"account.created_at":               "timestamp without time zone NOT NULL DEFAULT " + utcNow,
	"account.updated_at":               "timestamp without time zone NOT NULL DEFAULT " + utcNow,

	"verification.id":         "text NOT NULL",
	"verification.identifier": "text NOT NULL",
	"verification.value":      "text NOT NULL",
	"verification.expires_at": "timestamp without time zone NOT NULL",
	"verification.created_at": "timestamp without time zone NOT NULL DEFAULT " + utcNow,
	"verification.updated_at": "timestamp without time zone NOT NULL DEFAULT " + utcNow,

	"rate_limit.key":          "text NOT NULL",
	"rate_limit.count":        "integer NOT NULL",
	"rate_limit.last_request": "bigint NOT NULL",

	"jwks.id":               "text NOT NULL",
	"jwks.public_key":       "text NOT NULL",
	"jwks.private_key":      "text NOT NULL",
	"jwks.created_at":       "timestamp without time zone NOT NULL",
	"jwks.expires_at":       "timestamp without time zone NULL",
	"jwks.alg":              "text NULL",
	"jwks.crv":              "text NULL",
	"cache_backlog.id":      "bigint NOT NULL DEFAULT nextval('cache_backlog_id_seq'::regclass)",
	"cache_backlog.kind":    "text NOT NULL",
	"cache_backlog.subject": "text NOT NULL",
	"cache_backlog.at":      "timestamp without time zone NOT NULL",
}

var wantConstraints = []string{
	"account PRIMARY KEY (id)",
	"account FOREIGN KEY (user_id) REFERENCES user(id) ON DELETE CASCADE",
	"jwks PRIMARY KEY (id)",
	"rate_limit PRIMARY KEY (key)",
	"cache_backlog PRIMARY KEY (id)",
	"session PRIMARY KEY (id)",
	"session UNIQUE (token)",
	"session FOREIGN KEY (user_id) REFERENCES user(id) ON DELETE CASCADE",
	"two_factor PRIMARY KEY (id)",
	"two_factor FOREIGN KEY (user_id) REFERENCES user(id) ON DELETE CASCADE",
	"user PRIMARY KEY (id)",
	"user UNIQUE (email)",
	"verification PRIMARY KEY (id)",
}

var wantIndexes = []string{
	"account_provider_account_idx ON account (provider_id, account_id)",
	"account_user_id_idx ON account (user_id)",
	"rate_limit_key_prefix_idx ON rate_limit (key text_pattern_ops)",
	"rate_limit_last_request_idx ON rate_limit (last_request)",
	"session_expires_at_idx ON session (expires_at)",
	"session_user_id_idx ON session (user_id)",
	"two_factor_secret_idx ON two_factor (secret)",
	"two_factor_user_id_idx ON two_factor (user_id)",
	"verification_expires_at_idx ON verification (expires_at)",
	"verification_identifier_idx ON verification (identifier)",
}

// schema describes the public schema's application tables (bun's own
// bookkeeping tables excluded) in a comparable form.
type schema struct {
	Columns     map[string]string
	Constraints []string
	Indexes     []string
}

func readSchema(t *testing.T, db *bun.DB) schema {
	t.Helper()
	ctx := context.Background()
	s := schema{Columns: map[string]string{}}

	var cols []struct {
		Table, Column, Type, Nullable string
		Default                       *string
	}
	err := db.NewRaw(`
		SELECT table_name AS "table", column_name AS "column", data_type AS "type",
		       is_nullable AS "nullable", column_default AS "default"
		FROM information_schema.columns
		WHERE table_schema = 'public' AND table_name NOT LIKE 'bun\_%'`).Scan(ctx, &cols)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cols {
		desc := c.Type + map[string]string{"YES": " NULL", "NO": " NOT NULL"}[c.Nullable]
		if c.Default != nil {
			desc += " DEFAULT " + *c.Default
		}
		s.Columns[c.Table+"."+c.Column] = desc
	}

	// pg_get_constraintdef covers PK, UNIQUE and FK (with its ON DELETE) in
	// one readable string per constraint.
	err = db.NewRaw(`
		SELECT c.relname || ' ' || replace(pg_get_constraintdef(k.oid), '"', '')
		FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid
		JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE n.nspname = 'public' AND c.relname NOT LIKE 'bun\_%'
		ORDER BY 1`).Scan(ctx, &s.Constraints)
	if err != nil {
		t.Fatal(err)
	}

	err = db.NewRaw(`
		SELECT indexname || ' ON ' || regexp_replace(indexdef, '^.* ON public\.(\S+) USING btree (.*)$', '\1 \2')
		FROM pg_indexes
		WHERE schemaname = 'public' AND tablename NOT LIKE 'bun\_%' AND indexname NOT LIKE '%\_pkey' AND indexname NOT LIKE '%\_key'
		ORDER BY 1`).Scan(ctx, &s.Indexes)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func checkSchema(t *testing.T, db *bun.DB) {
	t.Helper()
	got := readSchema(t, db)
	for k, want := range wantColumns {
		if got.Columns[k] != want {
			t.Errorf("column %s = %q, want %q", k, got.Columns[k], want)
		}
	}
	for k := range got.Columns {
		if _, ok := wantColumns[k]; !ok {
			t.Errorf("unexpected column %s", k)
		}
	}
	if !slices.Equal(sorted(got.Constraints), sorted(wantConstraints)) {
		t.Errorf("constraints:\n%s\nwant:\n%s", strings.Join(sorted(got.Constraints), "\n"), strings.Join(sorted(wantConstraints), "\n"))
	}
	if !slices.Equal(got.Indexes, wantIndexes) {
		t.Errorf("indexes %q, want %q", got.Indexes, wantIndexes)
	}
}

func sorted(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return s
}

func open(t *testing.T, cfg bunpg.Config) *bun.DB {
	t.Helper()
	db, err := bunpg.Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return db
}

func appliedNames(t *testing.T, db *bun.DB) []string {
	t.Helper()
	var names []string
	if err := db.NewRaw("SELECT name FROM bun_migrations ORDER BY name, id").Scan(context.Background(), &names); err != nil {
		t.Fatal(err)
	}
	return names
}

func tables(t *testing.T, db *bun.DB) []string {
	t.Helper()
	var names []string
	err := db.NewRaw(`SELECT table_name FROM information_schema.tables
		WHERE table_schema = 'public' AND table_name NOT LIKE 'bun\_%' ORDER BY 1`).Scan(context.Background(), &names)
	if err != nil {
		t.Fatal(err)
	}
	return names
}

var allMigrations = []string{"20260101000001", "20260101000002", "20261207000011", "20261207000012", "20261207000013", "20261207000014", "20261207000015"}

func TestMigrateCreatesSchema(t *testing.T) {
	t.Parallel()
	_, db := bunpgtest.NewMigratedDatabase(t)
	checkSchema(t, db)
	if got := appliedNames(t, db); !slices.Equal(got, allMigrations) {
		t.Errorf("bun_migrations = %v, want %v", got, allMigrations)
	}
}

func TestMigrateTwiceIsNoop(t *testing.T) {
	t.Parallel()
	_, db := bunpgtest.NewMigratedDatabase(t)
	before := readSchema(t, db)
	if err := bunpg.Migrate(context.Background(), db); err != nil {
		t.Fatal(err)
	}
	if got := appliedNames(t, db); !slices.Equal(got, allMigrations) {
		t.Errorf("second run recorded again: %v", got)
	}
	if fmt.Sprint(readSchema(t, db)) != fmt.Sprint(before) {
		t.Error("second run changed the schema")
	}
}

// A migrator that crashed after committing a migration but before recording
// it runs the migration again; IF NOT EXISTS must make that harmless, and
// existing rows must survive.
func TestUpFilesAreIdempotent(t *testing.T) {
	t.Parallel()
	_, db := bunpgtest.NewMigratedDatabase(t)
	ctx := context.Background()
	if _, err := db.ExecContext(ctx, `INSERT INTO "user" (id, name, email) VALUES ('u1', 'n', 'a@example.com')`); err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, "TRUNCATE bun_migrations"); err != nil {
		t.Fatal(err)
	}
	if err := bunpg.Migrate(ctx, db); err != nil {
		t.Fatalf("re-applying the up files failed: %v", err)
	}
	checkSchema(t, db)
	var n int
	if err := db.NewRaw(`SELECT count(*) FROM "user"`).Scan(ctx, &n); err != nil || n != 1 {
		t.Errorf("user rows after re-apply = %d (%v), want 1", n, err)
	}
}

func TestRollbackAndReapply(t *testing.T) {
	t.Parallel()
	_, db := bunpgtest.NewMigratedDatabase(t)
	ctx := context.Background()
	before := readSchema(t, db)

	if err := bunpg.Rollback(ctx, db); err != nil {
		t.Fatal(err)
	}
	if got := tables(t, db); len(got) != 0 {
		t.Errorf("tables left after rollback: %v", got)
	}
	if got := appliedNames(t, db); len(got) != 0 {
		t.Errorf("bun_migrations after rollback: %v", got)
	}

	if err := bunpg.Migrate(ctx, db); err != nil {
		t.Fatal(err)
	}
	if after := readSchema(t, db); fmt.Sprint(after) != fmt.Sprint(before) {
		t.Errorf("up-down-up schema differs:\n%v\nvs\n%v", after, before)
	}
	checkSchema(t, db)
}

func TestStatus(t *testing.T) {
	t.Parallel()
	cfg := bunpgtest.NewDatabase(t)
	db := open(t, cfg)
	ctx := context.Background()

	st, err := bunpg.Status(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	if len(st) != len(allMigrations) || st[0].Applied || st[1].Applied || st[0].Name != "20260101000001_auth_schema" {
		t.Fatalf("status of a fresh database = %v", st)
	}
	if got := tables(t, db); len(got) != 0 {
		t.Errorf("Status created tables: %v", got)
	}

	if err := bunpg.Migrate(ctx, db); err != nil {
		t.Fatal(err)
	}
	st, err = bunpg.Status(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range st {
		if !m.Applied || m.GroupID != 1 || !strings.Contains(m.String(), "applied (group 1") {
			t.Errorf("after migrate: %v", m)
		}
	}
}

// Instances starting together on an empty database must take turns: none
// fails, the schema is right, and each migration is recorded once.
func TestConcurrentMigrators(t *testing.T) {
	t.Parallel()
	cfg := bunpgtest.NewDatabase(t)
	const n = 3
	dbs := make([]*bun.DB, n)
	for i := range dbs {
		dbs[i] = open(t, cfg) // separate pools, like separate processes
	}
	start := make(chan struct{})
	errs := make(chan error, n)
	var wg sync.WaitGroup
	for _, db := range dbs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			errs <- bunpg.Migrate(ctx, db)
		}()
	}
	close(start)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("migrator failed: %v", err)
		}
	}
	checkSchema(t, dbs[0])
	if got := appliedNames(t, dbs[0]); !slices.Equal(got, allMigrations) {
		t.Errorf("bun_migrations = %v, want each migration once: %v", got, allMigrations)
	}
}

// The lock lives and dies with a session: a migrator waits while another
// session holds it, and proceeds as soon as that session is gone, as after
// a kill -9.
func TestMigrateWaitsForLockAndSurvivesCrashedHolder(t *testing.T) {
	t.Parallel()
	cfg := bunpgtest.NewDatabase(t)
	ctx := context.Background()

	holder := open(t, cfg)
	conn, err := holder.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var pid int
	if err := conn.NewRaw("SELECT pg_backend_pid()").Scan(ctx, &pid); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.ExecContext(ctx, "SELECT pg_advisory_lock(?)", bunpg.MigrationLockKey); err != nil {
		t.Fatal(err)
	}

	db := open(t, cfg)
	done := make(chan error, 1)
	go func() { done <- bunpg.Migrate(ctx, db) }()

	select {
	case err := <-done:
		t.Fatalf("Migrate ran while another session held the lock (err %v)", err)
	case <-time.After(500 * time.Millisecond):
	}
	if got := tables(t, db); len(got) != 0 {
		t.Fatalf("tables created while locked out: %v", got)
	}

	// Simulate the holder's crash: its backend goes away, and so does the lock.
	if _, err := db.ExecContext(ctx, "SELECT pg_terminate_backend(?)", pid); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Migrate still waiting after the lock holder died")
	}
	checkSchema(t, db)

	// And the finished migrator released its own lock.
	var held int
	if err := db.NewRaw("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND database = (SELECT oid FROM pg_database WHERE datname = current_database())").Scan(ctx, &held); err != nil {
		t.Fatal(err)
	}
	if held != 0 {
		t.Errorf("%d advisory locks still held after Migrate returned", held)
	}
}

// A migration that fails is rolled back and not recorded, so that the next
// run retries it, and the lock is released for that next run.
func TestFailedMigrationIsNotRecorded(t *testing.T) {
	t.Parallel()
	cfg := bunpgtest.NewDatabase(t)
	db := open(t, cfg)
	ctx := context.Background()

	set := migrate.NewMigrations()
	if err := set.Discover(fstest.MapFS{
		"1_good.tx.up.sql":   {Data: []byte("CREATE TABLE good (id int);")},
		"1_good.tx.down.sql": {Data: []byte("DROP TABLE good;")},
		"2_bad.tx.up.sql":    {Data: []byte("CREATE TABLE half (id int);\nCREATE TABLE oops (id nosuchtype);")},
		"2_bad.tx.down.sql":  {Data: []byte("DROP TABLE half;")},
	}); err != nil {
		t.Fatal(err)
	}
	err := bunpg.MigrateSet(ctx, db, set)
	if err == nil || !strings.Contains(err.Error(), "2: up") {
		t.Fatalf("Migrate = %v, want an error naming the bad migration", err)
	}
	if got := appliedNames(t, db); !slices.Equal(got, []string{"1"}) {
		t.Errorf("bun_migrations = %v, want only the good migration", got)
	}
	if got := tables(t, db); !slices.Equal(got, []string{"good"}) {
		t.Errorf("tables = %v; the failed migration's transaction must roll back", got)
	}

	// The lock was released: another migrator proceeds at once.
	ctx2, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := bunpg.Migrate(ctx2, open(t, cfg)); err != nil {
		t.Fatalf("migrate after a failure: %v", err)
	}
}

func TestMigrateNeedsTwoConnections(t *testing.T) {
	t.Parallel()
	cfg := bunpgtest.NewDatabase(t)
	cfg.MaxOpenConns = 1
	err := bunpg.Migrate(context.Background(), open(t, cfg))
	if err == nil || !strings.Contains(err.Error(), "at least 2 connections") {
		t.Fatalf("Migrate on a 1-connection pool = %v, want a clear error instead of a deadlock", err)
	}
}
