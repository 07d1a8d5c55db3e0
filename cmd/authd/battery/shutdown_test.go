package battery

import (
	"fmt"
	"net/http"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/authd/authd/cmd/authd/authdtest"
)

// acceptMargin is how long before SIGTERM a request must have been sent to
// count as accepted by the server: on loopback the server reads a request
// within microseconds, so anything older than this was in its hands.
const acceptMargin = 50 * time.Millisecond

// TestGracefulShutdownUnderLoad is battery 37 (core): with 20 clients busy,
// SIGTERM lets every accepted request finish with its normal answer and the
// process exits 0 within 30 s.
func TestGracefulShutdownUnderLoad(t *testing.T) {
	pg := sharedCluster(t)
	db := pg.migratedDB(t)
	a := startAuthd(t, authdEnv(pg, db, authdtest.FreeAddr(t)))

	email, password := uniqueEmail("shutdown"), "shutdown-password-1"
	newClient(a).mustSignUp(t, email, password)

	type result struct {
		kind       string
		start, end time.Time
		status     int
		err        error
	}
	var (
		mu      sync.Mutex
		results []result
		wg      sync.WaitGroup
	)
	const clients = 20
	for i := range clients {
		c := newClient(a)
		kind := "get-session"
		if i%2 == 1 {
			kind = "sign-in" // a scrypt hash each: long enough to be in flight at SIGTERM
		}
		if r, err := c.signIn(email, password); err != nil || r.Status != http.StatusOK {
			t.Fatalf("sign-in of client %d: %v %v", i, r, err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for a.alive() {
				res := result{kind: kind, start: time.Now()}
				var r *reply
				if kind == "sign-in" {
					r, res.err = c.signIn(email, password)
				} else {
					r, res.err = c.get("/api/auth/get-session")
					if res.err == nil && r.Status == http.StatusOK {
						if got, err := sessionEmail(r.Body); err != nil || got != email {
							res.err = fmt.Errorf("200 without the session: %s", r)
						}
					}
				}
				res.end = time.Now()
				if r != nil {
					res.status = r.Status
				}
				mu.Lock()
				results = append(results, res)
				mu.Unlock()
				if res.err != nil {
					time.Sleep(10 * time.Millisecond) // refused once the listener is gone; do not spin
				}
			}
		}()
	}

	time.Sleep(1500 * time.Millisecond)
	sigterm := time.Now()
	if err := a.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	code, exited := a.waitExit(30 * time.Second)
	exitAfter := time.Since(sigterm)
	wg.Wait()

	var inFlight, accepted, acceptedOK, after, afterOK int
	var failures []string
	for _, r := range results {
		if r.start.Before(sigterm) && r.end.After(sigterm) {
			inFlight++
		}
		if r.start.Before(sigterm.Add(-acceptMargin)) {
			accepted++
			if r.err == nil && r.status == http.StatusOK {
				acceptedOK++
			} else if len(failures) < 10 {
				failures = append(failures, fmt.Sprintf("%s sent %s before SIGTERM: status %d, error %v",
					r.kind, sigterm.Sub(r.start).Round(time.Millisecond), r.status, r.err))
			}
			continue
		}
		after++
		if r.err == nil && r.status == http.StatusOK {
			afterOK++
		}
	}
	t.Logf("shutdown: %d requests accepted before SIGTERM (%d still in flight at SIGTERM), %d answered 200; "+
		"%d sent around or after SIGTERM, %d of them answered 200; exit code %d %s after SIGTERM",
		accepted, inFlight, acceptedOK, after, afterOK, code, exitAfter.Round(time.Millisecond))
	if !exited {
		t.Fatalf("authd still running 30s after SIGTERM")
	}
	if code != 0 {
		t.Errorf("exit code %d after SIGTERM, want 0", code)
	}
	if inFlight == 0 {
		t.Errorf("no request was in flight at SIGTERM; the test proved nothing")
	}
	for _, f := range failures {
		t.Errorf("accepted request not completed: %s", f)
	}
}
