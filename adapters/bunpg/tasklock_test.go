package bunpg_test

import (
	"context"
	"testing"

	"github.com/authd/authd/adapters/bunpg"
	"github.com/authd/authd/adapters/bunpg/bunpgtest"
)

// Two instances (two pools on one database) never run a task at once: the
// second skips it while the first holds it, and runs it afterwards.
func TestTaskLockAcrossInstances(t *testing.T) {
	t.Parallel()
	cfg, db := bunpgtest.NewMigratedDatabase(t)
	first := bunpg.NewTaskLock(db, cfg)
	second := bunpg.NewTaskLock(open(t, cfg), cfg)
	ctx := context.Background()

	ran, err := first.TryRun(ctx, "janitor", func(ctx context.Context) error {
		ran, err := second.TryRun(ctx, "janitor", func(context.Context) error {
			t.Error("the second instance ran the task while the first held it")
			return nil
		})
		if ran || err != nil {
			t.Errorf("second instance while the first runs: ran=%v, err=%v", ran, err)
		}
		return nil
	})
	if !ran || err != nil {
		t.Fatalf("first instance: ran=%v, err=%v", ran, err)
	}
	if ran, err := second.TryRun(ctx, "janitor", func(context.Context) error { return nil }); !ran || err != nil {
		t.Fatalf("second instance after the first finished: ran=%v, err=%v", ran, err)
	}
}
