package battery

import (
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/authd/authd/cmd/authd/authdtest"
)

// TestSignInRacingPasswordChangeNatural is battery 32 as the spec words it,
// without any injected delay: 6 clients loop sign-ins with the current
// password while the owner changes it with revokeOtherSessions, 40 times.
// After each change has answered and the in-flight sign-ins have ended,
// only the session the change made may be alive. (Run on 2026-11-26: 14 of
// 40 rounds left one or two old-password sessions alive.)
func TestSignInRacingPasswordChangeNatural(t *testing.T) {
	pg := sharedCluster(t)
	name := pg.migratedDB(t)
	a := startAuthd(t, authdEnv(pg, name, authdtest.FreeAddr(t)))
	db := pg.open(t, name)
	email := uniqueEmail("natural-race")
	owner := newClient(a)
	pw := "natural-password-0"
	owner.mustSignUp(t, email, pw)
	const rounds = 40
	violations := 0
	for round := 1; round <= rounds; round++ {
		stop := make(chan struct{})
		var wg sync.WaitGroup
		for range 6 {
			wg.Add(1)
			go func(pw string) {
				defer wg.Done()
				c := newClient(a)
				for {
					select {
					case <-stop:
						return
					default:
					}
					_, _ = c.signIn(email, pw)
				}
			}(pw)
		}
		time.Sleep(150 * time.Millisecond)
		next := fmt.Sprintf("natural-password-%d", round)
		r, err := owner.post("/api/auth/change-password", map[string]any{"currentPassword": pw, "newPassword": next, "revokeOtherSessions": true})
		if err != nil || r.Status != http.StatusOK {
			t.Fatalf("change-password: %v %v", r, err)
		}
		close(stop)
		wg.Wait()
		pw = next
		if n := count(t, db, `SELECT count(*) FROM session s JOIN "user" u ON u.id = s.user_id WHERE u.email = ?`, email); n != 1 {
			violations++
			t.Logf("round %d: %d sessions alive after the change, want 1", round, n)
			execSQL(t, db, `DELETE FROM session WHERE token <> '`+bodyToken(t, r)+`'`)
		}
	}
	if violations > 0 {
		t.Errorf("%d of %d password changes left sessions made with the old password alive", violations, rounds)
	}
}
