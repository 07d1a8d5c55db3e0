package bunpg

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"time"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/migrate"

	"github.com/authd/authd/migrations"
)

// migrationLockKey is the pg_advisory_lock key that serialises migrators of
// one database ("authd-mi" in ASCII); advisory locks are per database, so
// other databases on the server are unaffected.
const migrationLockKey int64 = 0x617574_68642d6d69

// lockPollInterval is how often a waiting migrator retries the lock. Polling
// pg_try_advisory_lock, rather than blocking in pg_advisory_lock, keeps every
// round trip short (pgdriver's socket read timeout would otherwise cut a long
// wait) and lets ctx cancel the wait.
const lockPollInterval = 100 * time.Millisecond

// Migrate applies every pending migration of migrations.Migrations. Running
// it twice, or from several processes at once, is safe: migrators take turns
// under a session advisory lock, and a later one finds nothing to do.
func Migrate(ctx context.Context, db *bun.DB) error {
	return migrateUp(ctx, db, migrations.Migrations)
}

// Rollback reverts the last group of applied migrations.
func Rollback(ctx context.Context, db *bun.DB) error {
	return withMigrationLock(ctx, db, func() error {
		m := newMigrator(db, migrations.Migrations)
		if err := m.Init(ctx); err != nil {
			return fmt.Errorf("migrate: init: %w", err)
		}
		if _, err := m.Rollback(ctx); err != nil {
			return fmt.Errorf("migrate: rollback: %w", err)
		}
		return nil
	})
}

// MigrationStatus describes one known migration.
type MigrationStatus struct {
	Name       string // e.g. "20260101000001_auth_schema"
	Applied    bool
	GroupID    int64
	MigratedAt time.Time
}

// Status lists every known migration, oldest first, with whether it is
// applied. It takes no lock and changes nothing, so it can run against a
// database that was never migrated.
func Status(ctx context.Context, db *bun.DB) ([]MigrationStatus, error) {
	var exists bool
	if err := db.NewRaw("SELECT to_regclass('bun_migrations') IS NOT NULL").Scan(ctx, &exists); err != nil {
		return nil, fmt.Errorf("migrate: status: %w", err)
	}
	var ms migrate.MigrationSlice
	if exists {
		var err error
		if ms, err = newMigrator(db, migrations.Migrations).MigrationsWithStatus(ctx); err != nil {
			return nil, fmt.Errorf("migrate: status: %w", err)
		}
	} else {
		ms = migrations.Migrations.Sorted()
	}
	out := make([]MigrationStatus, len(ms))
	for i, m := range ms {
		out[i] = MigrationStatus{Name: m.String(), Applied: m.IsApplied(), GroupID: m.GroupID, MigratedAt: m.MigratedAt}
	}
	return out, nil
}

// String renders the status as one line, for a CLI.
func (m MigrationStatus) String() string {
	if !m.Applied {
		return m.Name + "\tpending"
	}
	return fmt.Sprintf("%s\tapplied (group %d, %s)", m.Name, m.GroupID, m.MigratedAt.UTC().Format(time.RFC3339))
}

func newMigrator(db *bun.DB, set *migrate.Migrations) *migrate.Migrator {
	// Recording a migration only after it succeeded means a failed one is
	// retried on the next run instead of being silently skipped.
	return migrate.NewMigrator(db, set, migrate.WithMarkAppliedOnSuccess(true))
}

func migrateUp(ctx context.Context, db *bun.DB, set *migrate.Migrations) error {
	return withMigrationLock(ctx, db, func() error {
		m := newMigrator(db, set)
		if err := m.Init(ctx); err != nil {
			return fmt.Errorf("migrate: init: %w", err)
		}
		if _, err := m.Migrate(ctx); err != nil {
			return fmt.Errorf("migrate: %w", err)
		}
		return nil
	})
}

// withMigrationLock runs fn while holding a session advisory lock on one
// dedicated connection. Unlike bun's lock table, the lock dies with the
// connection, so a migrator killed mid-run leaves no stale lock behind. fn
// itself uses other pooled connections, so the pool needs at least two.
func withMigrationLock(ctx context.Context, db *bun.DB, fn func() error) error {
	if db.Stats().MaxOpenConnections == 1 {
		return errors.New("migrate: the pool must allow at least 2 connections (one holds the lock)")
	}
	conn, err := db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("migrate: connect: %w", err)
	}
	defer conn.Close()

	for {
		var locked bool
		if err := conn.NewRaw("SELECT pg_try_advisory_lock(?)", migrationLockKey).Scan(ctx, &locked); err != nil {
			return fmt.Errorf("migrate: lock: %w", err)
		}
		if locked {
			break
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("migrate: waiting for another migrator: %w", ctx.Err())
		case <-time.After(lockPollInterval):
		}
	}
	defer func() {
		var unlocked bool
		err := conn.NewRaw("SELECT pg_advisory_unlock(?)", migrationLockKey).Scan(context.WithoutCancel(ctx), &unlocked)
		if err != nil || !unlocked {
			// Never hand a connection that may still hold the lock back to
			// the pool: discarding it ends its session, and the lock with it.
			_ = conn.Raw(func(any) error { return driver.ErrBadConn })
		}
	}()
	return fn()
}
