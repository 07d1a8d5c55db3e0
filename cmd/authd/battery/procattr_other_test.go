//go:build !linux

package battery

import "syscall"

// childAttr is a no-op where Pdeathsig does not exist.
func childAttr() *syscall.SysProcAttr { return nil }
