// Package bunpg stores authd's data in Postgres through Bun. It implements the
// repository ports of core, the Transactor and a shared RateLimiter, and runs
// the embedded migrations.
package bunpg

import (
	"context"
	"crypto/tls"
	"database/sql"
	"errors"
	"fmt"
	"net"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"
	"github.com/uptrace/bun/driver/pgdriver"
	"go.uber.org/fx"

	"github.com/authd/authd/adapters/bunpg/internal/pgconn"
)

// Config is what bunpg needs to reach Postgres. Zero MaxOpenConns, timeouts
// and AppName take the defaults below.
type Config struct {
	Host         string // name or address, or the directory of a Unix-domain socket ("/...")
	Port         int
	Name         string
	User         string
	Password     string `json:"-"`
	SSLMode      string // disable | require | verify-full
	AppName      string // shown in pg_stat_activity; default "authd"
	MaxOpenConns int    // default 4 x GOMAXPROCS
	DialTimeout  time.Duration
	QueryTimeout time.Duration // deadline of every repository call
	// SessionLookups bounds the get-session lookup queries in flight
	// (default GOMAXPROCS, at least 2, at most MaxOpenConns); lookups
	// arriving meanwhile are batched into the next one (see pgconn.Lookups).
	SessionLookups int
	// NoPreparedStatements sends the hot lookups as simple queries, for
	// poolers in transaction mode (PgBouncer), where a statement prepared
	// on one server connection is unknown on the next.
	NoPreparedStatements bool
}

// Format prints the config without its password, whatever the verb, so that
// logging it cannot leak the credential.
func (c Config) Format(f fmt.State, _ rune) {
	c.Password = "[redacted]"
	type plain Config // drops this method, so fmt prints the fields
	fmt.Fprintf(f, "%+v", plain(c))
}

const (
	defaultAppName      = "authd"
	defaultDialTimeout  = 5 * time.Second
	defaultQueryTimeout = 3 * time.Second
	// txTimeoutFactor bounds a whole transaction to this many query timeouts:
	// a transaction holds a pooled connection and row locks, so one stuck
	// caller must not starve the others (and BEGIN must not wait for a free
	// connection forever).
	txTimeoutFactor = 3
)

func (c Config) withDefaults() Config {
	if c.AppName == "" {
		c.AppName = defaultAppName
	}
	if c.MaxOpenConns <= 0 {
		c.MaxOpenConns = 4 * runtime.GOMAXPROCS(0)
	}
	if c.DialTimeout <= 0 {
		c.DialTimeout = defaultDialTimeout
	}
	if c.QueryTimeout <= 0 {
		c.QueryTimeout = defaultQueryTimeout
	}
	if c.SessionLookups <= 0 {
		c.SessionLookups = max(2, runtime.GOMAXPROCS(0))
	}
	c.SessionLookups = min(c.SessionLookups, c.MaxOpenConns)
	return c
}

// network and addr follow libpq: a Host that starts with "/" is the
// directory of the server's Unix-domain socket, named after the port. On
// one machine a socket costs far less per round trip than loopback TCP.
func validSSLMode(m string) bool {
	return m == "" || m == "disable" || m == "require" || m == "verify-full"
}

func (c Config) network() string {
	if c.unixSocket() {
		return "unix"
	}
	return "tcp"
}

func (c Config) addr() string {
	if c.unixSocket() {
		return filepath.Join(c.Host, ".s.PGSQL."+strconv.Itoa(c.Port))
	}
	return net.JoinHostPort(c.Host, strconv.Itoa(c.Port))
}

func (c Config) unixSocket() bool { return strings.HasPrefix(c.Host, "/") }

// Open builds the pool without connecting; call Ping to check the server.
// The connector is built from discrete options, never from a DSN string,
// because pgdriver.WithDSN panics on a malformed one and falls back to the
// PG* environment for missing parts.
func Open(cfg Config) (*bun.DB, error) {
	cfg = cfg.withDefaults()
	if cfg.Host == "" || cfg.Name == "" || cfg.User == "" {
		return nil, errors.New("bunpg: host, database name and user are required")
	}
	if cfg.Port < 1 || cfg.Port > 65535 {
		return nil, fmt.Errorf("bunpg: invalid port %d", cfg.Port)
	}
	if !validSSLMode(cfg.SSLMode) {
		return nil, fmt.Errorf("bunpg: unsupported sslmode %q (want disable, require or verify-full)", cfg.SSLMode)
	}
	var tlsConfig *tls.Config
	switch {
	case cfg.unixSocket():
		// As in libpq, SSL is not used on a Unix-domain socket, whatever
		// the mode: the kernel carries the bytes, and Postgres refuses it.
	case cfg.SSLMode == "require":
		// libpq's "require": encrypt, but do not check the certificate.
		tlsConfig = &tls.Config{InsecureSkipVerify: true} //nolint:gosec // that is what sslmode=require means
	case cfg.SSLMode == "verify-full":
		tlsConfig = &tls.Config{ServerName: cfg.Host, MinVersion: tls.VersionTLS12}
	}

	pg := pgdriver.NewConnector(
		pgdriver.WithNetwork(cfg.network()),
		pgdriver.WithAddr(cfg.addr()),
		pgdriver.WithUser(cfg.User),
		pgdriver.WithPassword(cfg.Password),
		pgdriver.WithDatabase(cfg.Name),
		pgdriver.WithApplicationName(cfg.AppName),
		// Explicitly set, so that a nil (sslmode=disable) overrides pgdriver's
		// default of TLS without verification.
		pgdriver.WithTLSConfig(tlsConfig),
		pgdriver.WithDialTimeout(cfg.DialTimeout),
	)
	sqldb := sql.OpenDB(pgconn.Connector{Connector: pg})
	sqldb.SetMaxOpenConns(cfg.MaxOpenConns)
	sqldb.SetMaxIdleConns(cfg.MaxOpenConns)
	return bun.NewDB(sqldb, pgdialect.New()), nil
}

// Ping checks that the database answers, within DialTimeout + QueryTimeout
// at most. Its error names the server and database, as an operator needs.
func Ping(ctx context.Context, db *bun.DB, cfg Config) error {
	cfg = cfg.withDefaults()
	ctx, cancel := context.WithTimeout(ctx, cfg.DialTimeout+cfg.QueryTimeout)
	defer cancel()
	if err := db.PingContext(ctx); err != nil {
		return fmt.Errorf("cannot reach Postgres at %s database %s: %w", cfg.addr(), cfg.Name, err)
	}
	return nil
}

// NewDB provides the one *bun.DB of the application: it pings on start, so a
// wrong address fails the start with a clear message, and closes on stop,
// which fx runs after the HTTP server has drained.
func NewDB(lc fx.Lifecycle, cfg Config) (*bun.DB, error) {
	db, err := Open(cfg)
	if err != nil {
		return nil, err
	}
	lc.Append(fx.Hook{
		OnStart: func(ctx context.Context) error { return Ping(ctx, db, cfg) },
		OnStop:  func(context.Context) error { return db.Close() },
	})
	return db, nil
}
