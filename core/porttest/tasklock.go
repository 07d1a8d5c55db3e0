package porttest

import (
	"context"
	"errors"
	"testing"
)

// RunTaskLock checks core.TaskLock.
func RunTaskLock(t *testing.T, newAdapters func(t *testing.T) Adapters) {
	runGroup(t, newAdapters, func(a Adapters) []string {
		return nilPorts(a, "TaskLock")
	}, []testCase{
		{"OneRunAtATime", taskLockOneAtATime},
		{"ReturnsTheTasksError", taskLockError},
	})
}

// While a task runs, another TryRun of its name does not run (and does not
// wait); other names run; once it is done, the name runs again.
func taskLockOneAtATime(t *testing.T, a Adapters) {
	ctx, name := t.Context(), "task-"+randID()
	inner, other := false, false
	ran, err := a.TaskLock.TryRun(ctx, name, func(ctx context.Context) error {
		again, err := a.TaskLock.TryRun(ctx, name, func(context.Context) error {
			inner = true
			return nil
		})
		noErr(t, "TryRun while the task runs", err)
		if again || inner {
			t.Errorf("TryRun while the task runs: ran=%v, fn called=%v, want neither", again, inner)
		}
		ranOther, err := a.TaskLock.TryRun(ctx, name+"-other", func(context.Context) error {
			other = true
			return nil
		})
		noErr(t, "TryRun of another task", err)
		if !ranOther || !other {
			t.Errorf("TryRun of another task while one runs: ran=%v, fn called=%v", ranOther, other)
		}
		return nil
	})
	noErr(t, "TryRun", err)
	if !ran {
		t.Fatal("TryRun of an idle task did not run it")
	}
	ran, err = a.TaskLock.TryRun(ctx, name, func(context.Context) error { return nil })
	noErr(t, "TryRun after the task ended", err)
	if !ran {
		t.Error("the task does not run again after it ended")
	}
}

func taskLockError(t *testing.T, a Adapters) {
	name := "task-" + randID()
	ran, err := a.TaskLock.TryRun(t.Context(), name, func(context.Context) error { return errBoom })
	if !ran || !errors.Is(err, errBoom) {
		t.Fatalf("TryRun of a failing task: ran=%v, err=%v, want true, %v", ran, err, errBoom)
	}
	ran, err = a.TaskLock.TryRun(t.Context(), name, func(context.Context) error { return nil })
	if !ran || err != nil {
		t.Fatalf("TryRun after a failed run: ran=%v, err=%v", ran, err)
	}
}
