package memory

import (
	"context"
	"sync"

	"github.com/authd/authd/core"
)

// TaskLock runs each named task once at a time within the process, which is
// all the instances a memory store has.
type TaskLock struct {
	mu      sync.Mutex
	running map[string]bool
}

var _ core.TaskLock = (*TaskLock)(nil)

func NewTaskLock() *TaskLock { return &TaskLock{running: map[string]bool{}} }

func (l *TaskLock) TryRun(ctx context.Context, name string, fn func(ctx context.Context) error) (bool, error) {
	l.mu.Lock()
	if l.running[name] {
		l.mu.Unlock()
		return false, nil
	}
	l.running[name] = true
	l.mu.Unlock()
	defer func() {
		l.mu.Lock()
		delete(l.running, name)
		l.mu.Unlock()
	}()
	return true, fn(ctx)
}
