package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// profile records where authd spends its CPU during get-session, outside the
// measured runs (a profiler slows what it observes). It prefers authd's own
// pprof endpoint and falls back to perf, which reads Go's frame pointers.
func (b *bench) profile() (string, error) {
	dir, err := filepath.Abs(b.opts.profileDir)
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	secs := int((b.opts.duration + time.Second - 1) / time.Second)
	usePprof := b.pprofAvailable()
	perf, perfErr := exec.LookPath("perf")
	if !usePprof && perfErr != nil {
		return "", errNoProfiler
	}

	b.srv.quiesce(b.ctx)
	w := b.getSessionWorkload()
	if b.opts.profileOf == "sign-in" {
		w = b.signInWorkload(b.opts.conns)
	}
	w.name += " (profiled)"
	w.dur, w.warmup = time.Duration(secs+2)*time.Second, 0
	loadDone := make(chan result, 1)
	lctx, cancel := context.WithCancel(b.ctx)
	defer cancel()
	go func() { loadDone <- runLoad(lctx, b.srv, w) }()
	// Let the load reach its steady state before sampling.
	time.Sleep(time.Second)

	var summary string
	if usePprof {
		progress("profiling authd via pprof for %ds", secs)
		summary, err = b.pprofCPU(dir, secs)
	} else {
		progress("profiling authd pid %d with perf for %ds", b.srv.pid, secs)
		summary, err = b.perfCPU(perf, dir, secs)
	}
	r := <-loadDone
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("Profile of authd during %s (%d conns, %.1f req/s while profiled), files in %s:\n\n```\n%s\n```\n",
		b.opts.profileOf, b.opts.conns, r.rps, dir, summary), nil
}

func (b *bench) pprofAvailable() bool {
	client := &http.Client{Timeout: time.Second}
	resp, err := client.Get("http://" + b.srv.pprofAddr + "/debug/pprof/")
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

func (b *bench) pprofCPU(dir string, secs int) (string, error) {
	client := &http.Client{Timeout: time.Duration(secs+30) * time.Second}
	req, err := http.NewRequestWithContext(b.ctx, http.MethodGet,
		"http://"+b.srv.pprofAddr+"/debug/pprof/profile?seconds="+strconv.Itoa(secs), nil)
	if err != nil {
		return "", err
	}
	resp, err := client.Do(req)
	if err != nil {
		return "", fmt.Errorf("pprof: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("pprof: %s", resp.Status)
	}
	path := filepath.Join(dir, "authd-get-session.pprof")
	f, err := os.Create(path)
	if err != nil {
		return "", err
	}
	_, err = io.Copy(f, resp.Body)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return "", err
	}
	// Copy the binary beside its profile: pprof needs it to symbolize later,
	// and the temporary one is deleted on exit.
	bin := filepath.Join(dir, "authd")
	if err := copyFile(b.srv.bin, bin); err != nil {
		return "", err
	}
	var parts []string
	for _, mode := range []string{"-top", "-top -cum"} {
		args := append([]string{"tool", "pprof"}, strings.Fields(mode)...)
		args = append(args, "-nodecount=30", bin, path)
		out, err := exec.CommandContext(b.ctx, "go", args...).CombinedOutput()
		if err != nil {
			return "", fmt.Errorf("go tool pprof %s: %w\n%s", mode, err, out)
		}
		parts = append(parts, string(out))
	}
	summary := strings.Join(parts, "\n")
	return summary, os.WriteFile(filepath.Join(dir, "top.txt"), []byte(summary), 0o644)
}

func (b *bench) perfCPU(perf, dir string, secs int) (string, error) {
	data := filepath.Join(dir, "perf.data")
	rec := exec.CommandContext(b.ctx, perf, "record", "-F", "499", "-g", "-p", strconv.Itoa(b.srv.pid),
		"-o", data, "--", "sleep", strconv.Itoa(secs))
	if out, err := rec.CombinedOutput(); err != nil {
		return "", fmt.Errorf("perf record: %w\n%s", err, out)
	}
	var parts []string
	for _, mode := range []struct{ flag, limit string }{{"--no-children", "1"}, {"--children", "3"}} {
		out, err := exec.CommandContext(b.ctx, perf, "report", "-i", data, "--stdio", mode.flag, "-g", "none",
			"--sort", "symbol", "--percent-limit", mode.limit).CombinedOutput()
		if err != nil {
			return "", fmt.Errorf("perf report: %w\n%s", err, out)
		}
		parts = append(parts, "perf report "+mode.flag+"\n"+dropComments(string(out)))
	}
	summary := strings.Join(parts, "\n")
	return summary, os.WriteFile(filepath.Join(dir, "perf-report.txt"), []byte(summary), 0o644)
}

func dropComments(s string) string {
	var keep []string
	for _, l := range strings.Split(s, "\n") {
		// perf pads every line to the terminal width and ends it with empty
		// columns shown as "-".
		l = strings.TrimRight(strings.TrimRight(l, " -"), " ")
		if l != "" && !strings.HasPrefix(l, "#") {
			keep = append(keep, l)
		}
	}
	return strings.Join(keep, "\n")
}

func copyFile(src, dst string) error {
	b, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	return os.WriteFile(dst, b, 0o755)
}
