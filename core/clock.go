package core

import "time"

// Clock is injected everywhere time matters, so expiry and refresh rules can be
// tested without sleeping.
type Clock interface {
	Now() time.Time
}

// SystemClock reads the wall clock in UTC truncated to milliseconds: that is the
// precision better-auth writes and prints (Date), and truncating up front makes a
// value survive a Postgres round trip unchanged.
type SystemClock struct{}

func (SystemClock) Now() time.Time { return time.Now().UTC().Truncate(time.Millisecond) }

// FixedClock is a settable clock for tests.
type FixedClock struct{ T time.Time }

func (c *FixedClock) Now() time.Time          { return c.T }
func (c *FixedClock) Advance(d time.Duration) { c.T = c.T.Add(d) }
