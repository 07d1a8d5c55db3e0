package bunpg

import (
	"context"
	"database/sql/driver"
	"fmt"
	"hash/fnv"

	"github.com/uptrace/bun"

	"github.com/authd/authd/core"
)

// TaskLock runs a named task on one instance at a time among all that share
// the database, under a session advisory lock taken on a dedicated
// connection: a crashed holder's lock dies with its connection. The task's
// own queries use other pooled connections.
type TaskLock struct{ store }

var _ core.TaskLock = (*TaskLock)(nil)

func NewTaskLock(db *bun.DB, cfg Config) *TaskLock { return &TaskLock{newStore(db, cfg)} }

func (l *TaskLock) TryRun(ctx context.Context, name string, fn func(ctx context.Context) error) (bool, error) {
	key := taskLockKey(name)
	lockCtx, cancel := context.WithTimeout(ctx, l.timeout)
	defer cancel()
	conn, err := l.db.Conn(lockCtx)
	if err != nil {
		return false, mapErr(err, core.ErrUnavailable)
	}
	defer conn.Close()
	var locked bool
	if err := conn.NewRaw("SELECT pg_try_advisory_lock(?)", key).Scan(lockCtx, &locked); err != nil {
		return false, mapErr(err, core.ErrUnavailable)
	}
	if !locked {
		return false, nil
	}
	defer func() {
		unlockCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), l.timeout)
		defer cancel()
		var unlocked bool
		if err := conn.NewRaw("SELECT pg_advisory_unlock(?)", key).Scan(unlockCtx, &unlocked); err != nil || !unlocked {
			// Never hand back to the pool a connection that may still hold
			// the lock: discarding it ends its session, and the lock too.
			_ = conn.Raw(func(any) error { return driver.ErrBadConn })
		}
	}()
	return true, fn(ctx)
}

// taskLockKey is the advisory lock key of a task, a hash of its name. Were
// it ever to equal migrationLockKey, a task and a migration would only wait
// for one another.
func taskLockKey(name string) int64 {
	h := fnv.New64a()
	_, _ = fmt.Fprintf(h, "authd task %s", name)
	return int64(h.Sum64())
}
