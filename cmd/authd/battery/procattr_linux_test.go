package battery

import "syscall"

// childAttr makes the kernel kill an authd child when the test process dies
// (a `go test -timeout` panic, a killed CI job), so that no server is left
// listening. The Go runtime only retires a thread whose goroutine exits
// while locked to it, which these tests never do, so the signal cannot fire
// early.
func childAttr() *syscall.SysProcAttr { return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL} }
