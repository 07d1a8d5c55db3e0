package main

import "testing"

// A release follows a burst of allocation, or the end of many goroutines,
// once a tick passes quietly, and only once per burst: an idle server is not
// collected again and again.
func TestIdleReleaseWaitsForABurstThenQuiet(t *testing.T) {
	var r idleRelease
	r.releasedAt(0, 10)
	for i, s := range []struct {
		allocs, goroutines uint64
		want               bool
	}{
		{idleAllocs / 2, 10, false},                    // quiet, but nothing worth releasing
		{busyAllocs, 300, false},                       // a burst: busy
		{busyAllocs + idleAllocs/2, 300, true},         // quiet after it
		{busyAllocs + idleAllocs, 300, false},          // still quiet, nothing new since the release
		{busyAllocs + 2*idleAllocs, 300, false},        // a busier tick: not quiet
		{busyAllocs + 2*idleAllocs, 250, false},        // quiet, but few goroutines have ended
		{busyAllocs + 2*idleAllocs, 12, true},          // the connections' goroutines have ended
		{busyAllocs + 2*idleAllocs, 12, false},         // nothing new
		{3 * busyAllocs, 100, false},                   // busy again
		{4 * busyAllocs, 100, false},                   // still busy
		{4*busyAllocs + idleAllocs - 1, 100, true},     // quiet again
		{5 * busyAllocs, 100, false},                   // busy, but less than a burst since the release ...
		{5*busyAllocs + 1, 100, false},                 // ... so quiet is not enough
		{5*busyAllocs + 1, 100 - idleGoroutines, true}, // unless goroutines ended
	} {
		if got := r.tick(s.allocs, s.goroutines); got != s.want {
			t.Fatalf("step %d (allocs %d, goroutines %d): release %v, want %v", i, s.allocs, s.goroutines, got, s.want)
		}
		if s.want {
			r.releasedAt(s.allocs, s.goroutines)
		}
	}
}
