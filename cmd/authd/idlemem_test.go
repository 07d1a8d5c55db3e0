package main

import "testing"

// A release follows a burst of allocation once a tick passes quietly, and
// only once per burst: an idle server is not collected again and again.
func TestIdleReleaseWaitsForABurstThenQuiet(t *testing.T) {
	var r idleRelease
	for i, s := range []struct {
		allocs uint64
		want   bool
	}{
		{idleAllocs / 2, false},               // quiet, but nothing worth releasing
		{busyAllocs, false},                   // a burst: busy
		{busyAllocs + idleAllocs/2, true},     // quiet after it
		{busyAllocs + idleAllocs, false},      // still quiet, nothing new since the release
		{busyAllocs + 2*idleAllocs, false},    // a busier tick: not quiet
		{3 * busyAllocs, false},               // busy again
		{4 * busyAllocs, false},               // still busy
		{4*busyAllocs + idleAllocs - 1, true}, // quiet again
		{5 * busyAllocs, false},               // busy, but less than a burst since the release ...
		{5*busyAllocs + 1, false},             // ... so quiet is not enough
	} {
		if got := r.tick(s.allocs); got != s.want {
			t.Fatalf("step %d (allocs %d): release %v, want %v", i, s.allocs, got, s.want)
		}
		if s.want {
			r.releasedAt(s.allocs)
		}
	}
}
