package core_test

import (
	"errors"
	"testing"
	"time"

	"github.com/authd/authd/core"
)

// Each sentinel names one failure: two that better-auth sends with the same
// code stay apart, and copies keep matching their sentinel.
func TestSentinelsAreDistinct(t *testing.T) {
	if errors.Is(core.ErrVerificationNotFound, core.ErrInvalidToken) || errors.Is(core.ErrInvalidToken, core.ErrVerificationNotFound) {
		t.Fatal("ErrVerificationNotFound and ErrInvalidToken match each other")
	}
	cause := errors.New("dial tcp: refused")
	for _, err := range []error{core.ErrUnavailable.With(cause), core.ErrTooManyRequests.RetryIn(time.Second)} {
		var ce *core.Error
		if !errors.As(err, &ce) || ce.Sentinel() == ce {
			t.Fatalf("%v lost its sentinel", err)
		}
	}
	if !errors.Is(core.ErrUnavailable.With(cause), core.ErrUnavailable) || !errors.Is(core.ErrUnavailable.With(cause), cause) {
		t.Fatal("a copy with a cause matches neither its sentinel nor its cause")
	}
	if errors.Is(core.ErrUnavailable.With(cause), core.ErrUserNotFound) {
		t.Fatal("a copy matches another sentinel")
	}
}
