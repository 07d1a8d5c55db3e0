package battery

import (
	"encoding/json"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/authd/authd/cmd/authd/authdtest"
)

// TestResetRacingChangePasswordNeverUndone is the battery row "Password reset
// racing change-password" (issue 9): someone who knows the old password and
// holds a session calls change-password while the owner completes a reset, resetRaceRounds times, the reset started at
// offsets spread over change-password's run (before, during and after its
// check and hashing). Whatever the interleaving, the reset answers 200, its
// password signs in and the changed one does not, and a session that
// change-password issued does not survive the reset. (Before the
// compare-and-set, a reset landing during change-password's hashing was
// overwritten: the old password's holder kept the account.)
func TestResetRacingChangePasswordNeverUndone(t *testing.T) {
	const resetRaceRounds = 200
	pg := sharedCluster(t)
	name := pg.migratedDB(t)
	a := startAuthd(t, authdEnv(pg, name, authdtest.FreeAddr(t)))
	db := pg.open(t, name)
	email := uniqueEmail("reset-race")
	current := "reset-race-password-0"
	owner := newClient(a)
	userID := sessionUserID(t, owner.mustSignUp(t, email, current))

	// The reset starts at k/4 of the previous change-password's latency,
	// k = 0..9 in turn: before its check ends, during its hashing, after
	// it answered. Timing only spreads the interleavings; nothing asserts
	// on it.
	var step time.Duration
	outcomes := map[string]int{}
	for round := 1; round <= resetRaceRounds; round++ {
		attacker := newClient(a)
		if r, err := attacker.signIn(email, current); err != nil || r.Status != http.StatusOK {
			t.Fatalf("round %d: sign-in: %v %v", round, r, err)
		}
		token := randomHex(16)
		execSQL(t, db, fmt.Sprintf(`INSERT INTO verification (id, identifier, value, expires_at)
			VALUES ('%s', 'reset-password:%s', '%s', now() AT TIME ZONE 'UTC' + interval '1 hour')`, randomHex(12), token, userID))
		reset := fmt.Sprintf("reset-race-password-%d", round)
		changed := fmt.Sprintf("changed-race-password-%d", round)
		revokeOthers := round%2 == 0

		changeDone := make(chan outcome, 1)
		go func() {
			r, err := attacker.post("/api/auth/change-password", map[string]any{
				"currentPassword": current, "newPassword": changed, "revokeOtherSessions": revokeOthers})
			changeDone <- outcome{r, err}
		}()
		time.Sleep(time.Duration((round-1)%10) * step)
		rr, err := newClient(a).post("/api/auth/reset-password", map[string]any{"token": token, "newPassword": reset})
		if err != nil || rr.Status != http.StatusOK {
			t.Fatalf("round %d: reset-password: %v %v", round, rr, err)
		}
		ch := <-changeDone
		if ch.err != nil {
			t.Fatalf("round %d: change-password: %v", round, ch.err)
		}
		step = ch.r.Latency / 4
		kind := fmt.Sprintf("%d %s", ch.r.Status, ch.r.code())
		switch kind {
		case "200 ", "400 INVALID_PASSWORD", "401 UNAUTHORIZED":
			outcomes[kind]++
		default:
			t.Fatalf("round %d: change-password answered %s", round, ch.r)
		}

		if r, err := newClient(a).signIn(email, reset); err != nil || r.Status != http.StatusOK {
			t.Fatalf("round %d: the reset was undone (change-password %s): sign-in with the reset password: %v %v",
				round, kind, r, err)
		}
		if r, err := newClient(a).signIn(email, changed); err != nil || r.Status != http.StatusUnauthorized {
			t.Fatalf("round %d: sign-in with change-password's password (it answered %s): %v %v", round, kind, r, err)
		}
		// A session change-password issued before the reset committed is
		// one the reset revoked; none may be issued after.
		if r, err := attacker.get("/api/auth/get-session"); err != nil || r.Status != http.StatusOK || string(r.Body) != "null" {
			t.Fatalf("round %d: the change-password caller still has a session after the reset: %v %v", round, r, err)
		}
		current = reset
	}
	t.Logf("%d rounds, no reset undone; change-password answered %v", resetRaceRounds, outcomes)
}

// sessionUserID is the user id in a sign-up or sign-in body.
func sessionUserID(t *testing.T, r *reply) string {
	t.Helper()
	var v struct {
		User struct {
			ID string `json:"id"`
		} `json:"user"`
	}
	if err := json.Unmarshal(r.Body, &v); err != nil || v.User.ID == "" {
		t.Fatalf("no user id in %s", r)
	}
	return v.User.ID
}
