package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
)

// clockTick is USER_HZ, the unit of /proc CPU times; Linux fixes it at 100 on
// every architecture Go supports.
const clockTick = 10 * time.Millisecond

// memory is a process's resident memory from /proc/<pid>/status, in bytes:
// VmRSS, VmHWM (its peak) and VmRSS's split into anonymous memory (heap,
// stacks, written globals) and mapped file pages (mostly the binary's code
// and read-only data), which call for different remedies.
type memory struct{ rss, hwm, anon, file int64 }

func procMemory(pid int) (memory, error) {
	var m memory
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return m, err
	}
	fields := map[string]*int64{"VmRSS": &m.rss, "VmHWM": &m.hwm, "RssAnon": &m.anon, "RssFile": &m.file}
	for _, line := range strings.Split(string(b), "\n") {
		k, v, ok := strings.Cut(line, ":")
		dst := fields[k]
		if !ok || dst == nil {
			continue
		}
		f := strings.Fields(v)
		if len(f) != 2 || f[1] != "kB" {
			return m, fmt.Errorf("/proc/%d/status: unexpected %q", pid, line)
		}
		n, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil {
			return m, err
		}
		*dst = n << 10
	}
	return m, nil
}

// rssSampler records the largest VmRSS seen while a scenario runs; VmHWM
// alone would also cover the scenarios before it.
type rssSampler struct {
	stopc chan struct{}
	wg    sync.WaitGroup
	peak  int64
}

func sampleRSS(pid int, every time.Duration) *rssSampler {
	s := &rssSampler{stopc: make(chan struct{})}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			if m, err := procMemory(pid); err == nil && m.rss > s.peak {
				s.peak = m.rss
			}
			select {
			case <-s.stopc:
				return
			case <-t.C:
			}
		}
	}()
	return s
}

func (s *rssSampler) stop() int64 {
	close(s.stopc)
	s.wg.Wait()
	return s.peak
}

// cpuSnap is a point in time of the CPU used by authd, by this process (the
// load generator), by Postgres and by the whole machine.
type cpuSnap struct {
	at                            time.Time
	server, self, postgres, total time.Duration
}

// cpuSplit says how many cores, on average, each party used during a
// scenario: on a small machine the client and Postgres compete with authd,
// and other includes whatever else shares the machine.
type cpuSplit struct {
	server, client, postgres, other float64
}

func snapCPU(serverPID int) cpuSnap {
	s := cpuSnap{at: time.Now(), self: procTicks("self"), postgres: postgresTicks()}
	if serverPID > 0 {
		s.server = procTicks(strconv.Itoa(serverPID))
	}
	if b, err := os.ReadFile("/proc/stat"); err == nil {
		line, _, _ := strings.Cut(string(b), "\n")
		f := strings.Fields(line)
		// user nice system idle iowait irq softirq steal: all but idle and iowait are busy.
		for i, v := range f[1:min(len(f), 9)] {
			if i == 3 || i == 4 {
				continue
			}
			n, _ := strconv.ParseInt(v, 10, 64)
			s.total += time.Duration(n) * clockTick
		}
	}
	return s
}

// sub gives the split since earlier; external is CPU used by a client that
// ran as a child process (pgbench, wrk), which /proc/self does not count.
func (s cpuSnap) sub(earlier cpuSnap, external time.Duration) cpuSplit {
	wall := s.at.Sub(earlier.at).Seconds()
	if wall <= 0 {
		return cpuSplit{}
	}
	server := (s.server - earlier.server).Seconds()
	client := (s.self - earlier.self + external).Seconds()
	// A whole cluster stopping (another user's throwaway one) takes its CPU
	// with it; that must not show as negative Postgres time.
	pg := max(0, (s.postgres - earlier.postgres).Seconds())
	total := (s.total - earlier.total).Seconds()
	return cpuSplit{server: server / wall, client: client / wall, postgres: pg / wall,
		other: max(0, total-server-client-pg) / wall}
}

// procTicks is utime+stime of /proc/<pid>/stat.
func procTicks(pid string) time.Duration {
	f := statFields(pid)
	if len(f) < 13 {
		return 0
	}
	u, _ := strconv.ParseInt(f[11], 10, 64)
	s, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(u+s) * clockTick
}

// postgresTicks is the CPU of every postgres process on the machine. The
// postmaster's cutime+cstime hold the CPU of backends that have exited (pgbench's,
// when its run ends), so the sum does not drop when they go.
func postgresTicks() time.Duration {
	dirs, _ := filepath.Glob("/proc/[0-9]*")
	var sum int64
	for _, d := range dirs {
		pid := filepath.Base(d)
		if comm, _ := os.ReadFile(d + "/comm"); strings.TrimSpace(string(comm)) != "postgres" {
			continue
		}
		f := statFields(pid)
		if len(f) < 15 {
			continue
		}
		for _, v := range f[11:15] {
			n, _ := strconv.ParseInt(v, 10, 64)
			sum += n
		}
	}
	return time.Duration(sum) * clockTick
}

// statFields are the fields of /proc/<pid>/stat after the parenthesised
// command name (which may contain spaces), so field 3 (state) is index 0.
func statFields(pid string) []string {
	b, err := os.ReadFile("/proc/" + pid + "/stat")
	if err != nil {
		return nil
	}
	i := strings.LastIndexByte(string(b), ')')
	if i < 0 {
		return nil
	}
	return strings.Fields(string(b[i+1:]))
}

// quietBusy is how many busy cores, with authd and this process idle, count
// as a quiet machine.
const quietBusy = 0.15

// waitQuiet waits, up to limit, until the whole machine is nearly idle: on a
// shared machine other work would otherwise take the cores a scenario needs.
func waitQuiet(ctx context.Context, limit time.Duration) {
	deadline := time.Now().Add(limit)
	busy := 0.0
	for ctx.Err() == nil {
		before := snapCPU(0)
		time.Sleep(500 * time.Millisecond)
		now := snapCPU(0)
		busy = (now.total - before.total).Seconds() / now.at.Sub(before.at).Seconds()
		if busy < quietBusy {
			return
		}
		if time.Now().After(deadline) {
			progress("the machine is still busy (%.2f cores) after waiting %s; measuring anyway", busy, limit)
			return
		}
	}
}
