// Package migrations holds the SQL schema of authd as bun migrations, embedded
// so that a shipped binary can migrate without the source tree.
//
// Every up file uses IF NOT EXISTS: bun records a migration only after it
// succeeded, so a crash between the commit and the record re-runs it, and
// that must be harmless.
package migrations

import (
	"embed"

	"github.com/uptrace/bun/migrate"
)

//go:embed *.sql
var files embed.FS

// Migrations is the set run by bunpg.Migrate.
var Migrations = migrate.NewMigrations()

func init() {
	// A malformed file name is a build defect; failing at start-up (and in
	// every test) is the only sensible answer.
	if err := Migrations.Discover(files); err != nil {
		panic(err)
	}
}
