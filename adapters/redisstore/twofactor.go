package redisstore

import (
	"context"
	"time"

	"github.com/authd/authd/core/twofactor"
)

// UserNotifier passes a change of a user's row made outside core's
// UserRepository to the sessions cached in Redis (Layered and RedisOnly).
type UserNotifier interface {
	UserChanged(ctx context.Context, userID string) error
}

// NotifyingTwoFactors wraps the twoFactor plugin's repository, which writes
// user.two_factor_enabled itself: the user's cached sessions then show the
// new flag, as better-auth's updateUser refreshes them.
func NotifyingTwoFactors(r twofactor.Repository, n UserNotifier) twofactor.Repository {
	return notifyingTwoFactors{r, n}
}

type notifyingTwoFactors struct {
	twofactor.Repository
	n UserNotifier
}

func (f notifyingTwoFactors) SetUserEnabled(ctx context.Context, userID string, on bool, now time.Time) error {
	if err := f.Repository.SetUserEnabled(ctx, userID, on, now); err != nil {
		return err
	}
	return f.n.UserChanged(ctx, userID)
}
