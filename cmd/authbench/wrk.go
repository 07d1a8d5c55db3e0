package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"text/template"
	"time"
)

// wrkScript rotates the fixture cookies over the requests, as the Go
// generator does. wrk cannot cheaply check bodies, so a 200 "null" (a cookie
// authd refused) would count as success here: the Go run checks them.
var wrkScript = template.Must(template.New("wrk").Parse(`local cookies = {
{{- range .Cookies}}
  {{printf "%q" .}},
{{- end}}
}
local i = 0
request = function()
  i = i + 1
  return wrk.format("GET", {{printf "%q" .Path}}, { ["Cookie"] = cookies[(i % #cookies) + 1] })
end
`))

var (
	wrkRPSRe    = regexp.MustCompile(`Requests/sec:\s+([0-9.]+)`)
	wrkTotalRe  = regexp.MustCompile(`(\d+) requests in`)
	wrkNon2xxRe = regexp.MustCompile(`Non-2xx or 3xx responses: (\d+)`)
	wrkSockRe   = regexp.MustCompile(`Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)`)
	wrkPctRe    = regexp.MustCompile(`(?m)^\s+(50|99)%\s+(\S+)$`)
	wrkMaxRe    = regexp.MustCompile(`(?m)^\s+Latency\s+\S+\s+\S+\s+(\S+)`)
)

func (b *bench) wrkGetSession() (result, error) {
	bin, err := exec.LookPath("wrk")
	if err != nil {
		return result{}, fmt.Errorf("-wrk needs wrk on PATH (apt-get install -y wrk): %w", err)
	}
	script := filepath.Join(b.tmp, "get-session.lua")
	f, err := os.Create(script)
	if err != nil {
		return result{}, err
	}
	cookies := make([]string, len(b.fx.users))
	for i, u := range b.fx.users {
		cookies[i] = u.cookie
	}
	err = wrkScript.Execute(f, struct {
		Cookies []string
		Path    string
	}{cookies, basePath + "/get-session"})
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return result{}, err
	}

	b.srv.quiesce(b.ctx)
	secs := int((b.opts.duration + time.Second - 1) / time.Second)
	threads := min(b.opts.conns, runtime.NumCPU())
	progress("wrk get-session, %d connections, %d threads, %ds", b.opts.conns, threads, secs)
	cmd := exec.CommandContext(b.ctx, bin, "-t", strconv.Itoa(threads), "-c", strconv.Itoa(b.opts.conns),
		"-d", strconv.Itoa(secs)+"s", "--latency", "-s", script, b.srv.origin+basePath+"/get-session")
	sampler := sampleRSS(b.srv.pid, 20*time.Millisecond)
	before := snapCPU(b.srv.pid)
	out, err := cmd.CombinedOutput()
	after := snapCPU(b.srv.pid)
	peak := sampler.stop()
	if err != nil {
		return result{}, fmt.Errorf("wrk: %w\n%s", err, out)
	}
	r, err := parseWrk(string(out))
	if err != nil {
		return result{}, err
	}
	r.conns, r.elapsed, r.peakRSS = b.opts.conns, time.Duration(secs)*time.Second, peak
	r.cpu = after.sub(before, cmd.ProcessState.UserTime()+cmd.ProcessState.SystemTime())
	if m, err := procMemory(b.srv.pid); err == nil {
		r.hwm = m.hwm
	}
	progress("wrk get-session: %.0f req/s, p99 %s, %d errors", r.rps, r.p99, r.errors)
	return r, nil
}

// parseWrk reads wrk's --latency report. Its Requests/sec counts every
// response, so the non-2xx ones are taken out to match the Go generator.
func parseWrk(out string) (result, error) {
	r := result{name: "get-session (wrk)", causes: map[string]int{}}
	rps := wrkRPSRe.FindStringSubmatch(out)
	total := wrkTotalRe.FindStringSubmatch(out)
	pct := wrkPctRe.FindAllStringSubmatch(out, -1)
	if rps == nil || total == nil || len(pct) != 2 {
		return r, fmt.Errorf("unexpected wrk output:\n%s", out)
	}
	all, _ := strconv.ParseFloat(rps[1], 64)
	n, _ := strconv.Atoi(total[1])
	if m := wrkNon2xxRe.FindStringSubmatch(out); m != nil {
		bad, _ := strconv.Atoi(m[1])
		r.errors += bad
		r.causes["non-2xx"] += bad
	}
	if m := wrkSockRe.FindStringSubmatch(out); m != nil {
		for i, kind := range []string{"connect", "read", "write", "timeout"} {
			k, _ := strconv.Atoi(m[i+1])
			if k > 0 {
				r.errors += k
				r.causes["socket "+kind] += k
			}
		}
	}
	r.ok = max(0, n-r.errors)
	if n > 0 {
		r.rps = all * float64(r.ok) / float64(n)
	}
	var err error
	r.hasLat = true
	for _, p := range pct {
		d, perr := time.ParseDuration(p[2])
		if perr != nil {
			err = perr
		}
		if p[1] == "50" {
			r.p50 = d
		} else {
			r.p99 = d
		}
	}
	if m := wrkMaxRe.FindStringSubmatch(out); m != nil {
		r.max, _ = time.ParseDuration(m[1])
	}
	if err != nil {
		return r, fmt.Errorf("wrk latency: %w\n%s", err, out)
	}
	if r.errors > 0 {
		r.firstErr = strings.TrimSpace(out)
	}
	return r, nil
}
