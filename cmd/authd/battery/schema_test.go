package battery

import (
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/authd/authd/cmd/authd/authdtest"
)

// TestGetSessionAcrossSchemaChange is battery 45 (a migration while authd
// runs): after ALTER TABLE changes a column get-session returns, every
// pooled connection's prepared lookup is stale ("cached plan must not
// change result type"); get-session prepares it again and answers 200, with
// prepared statements on and with DB_PREPARED_STATEMENTS=false.
func TestGetSessionAcrossSchemaChange(t *testing.T) {
	pg := sharedCluster(t)
	for _, prepared := range []string{"true", "false"} {
		t.Run("DB_PREPARED_STATEMENTS="+prepared, func(t *testing.T) {
			name := pg.migratedDB(t)
			a := startAuthd(t, authdEnv(pg, name, authdtest.FreeAddr(t)).with("DB_PREPARED_STATEMENTS", prepared))
			db := pg.open(t, name)
			email := uniqueEmail("schema")
			c := newClient(a)
			c.mustSignUp(t, email, "schema-password-1")

			getSessions := func(when string) {
				t.Helper()
				var wg sync.WaitGroup
				for range 16 { // at once, so that several pooled connections run the lookup
					wg.Go(func() {
						r, err := c.get("/api/auth/get-session")
						switch {
						case err != nil:
							t.Errorf("get-session %s: %v", when, err)
						case r.Status != http.StatusOK || !strings.Contains(string(r.Body), email):
							t.Errorf("get-session %s: %s, want 200 with %s", when, r, email)
						}
					})
				}
				wg.Wait()
			}
			getSessions("before the change")
			execSQL(t, db, `ALTER TABLE session ALTER COLUMN user_agent TYPE varchar(1024)`)
			getSessions("after a column's type changed")
			execSQL(t, db, `ALTER TABLE session ALTER COLUMN user_agent TYPE text`)
			getSessions("after it changed back")
		})
	}
}
