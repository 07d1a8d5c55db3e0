package migrations_test

import (
	"testing"

	"github.com/authd/authd/migrations"
)

func TestEveryMigrationHasUpAndDown(t *testing.T) {
	want := []string{"20260101000001_auth_schema", "20260101000002_rate_limit", "20261207000011_social", "20261207000012_two_factor",
		"20261207000013_jwks", "20261207000014_cache_backlog", "20261207000015_expiry_indexes"}
	got := migrations.Migrations.Sorted()
	if len(got) != len(want) {
		t.Fatalf("got %d migrations (%v), want %v", len(got), got, want)
	}
	for i, m := range got {
		if m.String() != want[i] {
			t.Errorf("migration %d = %s, want %s", i, m, want[i])
		}
		if m.Up == nil || m.Down == nil {
			t.Errorf("migration %s: up set %t, down set %t; both are required", m, m.Up != nil, m.Down != nil)
		}
	}
}
