package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// result is one row of the report.
type result struct {
	name    string
	conns   int
	elapsed time.Duration
	// rps counts only good responses: a flood answered with fast 503s must
	// not look like throughput.
	rps    float64
	ok     int
	errors int
	// causes counts the errors by status code or kind, for the report's notes.
	causes        map[string]int
	firstErr      string
	lat           []time.Duration // of good responses
	hasLat        bool
	p50, p99, max time.Duration
	cpu           cpuSplit
	peakRSS, hwm  int64
}

func (r *result) finishLatencies() {
	if len(r.lat) == 0 {
		return
	}
	slices.Sort(r.lat)
	r.hasLat = true
	r.p50, r.p99, r.max = percentile(r.lat, 0.50), percentile(r.lat, 0.99), r.lat[len(r.lat)-1]
	// The sorted latencies are not needed once summarised; a flood's can be large.
	r.lat = nil
}

// percentile is the nearest-rank percentile of sorted.
func percentile(sorted []time.Duration, q float64) time.Duration {
	i := int(float64(len(sorted))*q+0.999999) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}

func (r *result) causeSummary() string {
	if len(r.causes) == 0 {
		return ""
	}
	keys := make([]string, 0, len(r.causes))
	for k := range r.causes {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b bytes.Buffer
	for i, k := range keys {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%s×%d", k, r.causes[k])
	}
	return b.String()
}

// workload is a closed loop: each of conns workers sends its next request as
// soon as the previous one is answered, over its own keep-alive connection.
type workload struct {
	name   string
	conns  int
	dur    time.Duration
	warmup time.Duration
	// build returns worker w's i-th request.
	build func(w, i int) *http.Request
	// check rejects a 2xx response that did not do its job (get-session
	// answers 200 "null" to a cookie it does not accept).
	check func(body []byte) error
	// spread, if set, are further instances: worker k talks to
	// spread[k % len(spread)] instead of the measured authd.
	spread []string
}

func newClient(conns int) *http.Client {
	tr := &http.Transport{
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second}).DialContext,
		MaxIdleConns:        conns,
		MaxIdleConnsPerHost: conns,
		MaxConnsPerHost:     conns,
		IdleConnTimeout:     time.Minute,
		DisableCompression:  true,
	}
	return &http.Client{
		Transport: tr,
		Timeout:   60 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
}

// runLoad drives w against authd, sampling its RSS and the CPU split. Only
// responses completed within the measured window count; requests still in
// flight at its end are cut off.
func runLoad(ctx context.Context, srv *authd, w workload) result {
	addr := strings.TrimPrefix(srv.origin, "http://")
	if w.warmup > 0 {
		phase(ctx, addr, w, w.warmup)
	}
	sampler := sampleRSS(srv.pid, 20*time.Millisecond)
	before := snapCPU(srv.pid)
	r := phase(ctx, addr, w, w.dur)
	r.cpu = snapCPU(srv.pid).sub(before, 0)
	r.peakRSS = sampler.stop()
	if m, err := procMemory(srv.pid); err == nil {
		r.hwm = m.hwm
	}
	return r
}

func phase(ctx context.Context, addr string, w workload, d time.Duration) result {
	pctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	start := time.Now()
	end := start.Add(d)
	parts := make([]result, w.conns)
	var wg sync.WaitGroup
	for k := range w.conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := &keepAlive{addr: addr}
			if len(w.spread) > 0 {
				c.addr = w.spread[k%len(w.spread)]
			}
			defer c.close()
			worker(pctx, c, w, k, end, &parts[k])
		}()
	}
	wg.Wait()
	r := result{name: w.name, conns: w.conns, elapsed: d, causes: map[string]int{}}
	for _, p := range parts {
		r.ok += p.ok
		r.errors += p.errors
		r.lat = append(r.lat, p.lat...)
		for k, v := range p.causes {
			r.causes[k] += v
		}
		if r.firstErr == "" {
			r.firstErr = p.firstErr
		}
	}
	r.rps = float64(r.ok) / d.Seconds()
	r.finishLatencies()
	return r
}

// keepAlive is one worker's HTTP/1.1 connection, driven inline. net/http's
// Transport runs two goroutines per connection and hands every request
// between them, which made this load generator cost the machine it shares
// with authd half a core more than wrk does for the same get-session rate.
type keepAlive struct {
	addr string
	c    net.Conn
	br   *bufio.Reader
	bw   *bufio.Writer
}

func (k *keepAlive) close() {
	if k.c != nil {
		k.c.Close()
		k.c = nil
	}
}

// do sends req and reads the whole response into body; the connection is
// dropped on any error, and redialled by the next call.
func (k *keepAlive) do(req *http.Request, deadline time.Time, body *bytes.Buffer) (int, string, error) {
	if k.c == nil {
		c, err := net.DialTimeout("tcp", k.addr, 5*time.Second)
		if err != nil {
			return 0, "", err
		}
		k.c, k.br, k.bw = c, bufio.NewReaderSize(c, 16<<10), bufio.NewWriterSize(c, 4<<10)
	}
	_ = k.c.SetDeadline(deadline)
	if err := req.Write(k.bw); err != nil {
		k.close()
		return 0, "", err
	}
	if err := k.bw.Flush(); err != nil {
		k.close()
		return 0, "", err
	}
	resp, err := http.ReadResponse(k.br, req)
	if err != nil {
		k.close()
		return 0, "", err
	}
	body.Reset()
	_, err = body.ReadFrom(resp.Body)
	resp.Body.Close()
	if err != nil || resp.Close {
		k.close()
	}
	return resp.StatusCode, resp.Status, err
}

func worker(ctx context.Context, c *keepAlive, w workload, k int, end time.Time, r *result) {
	r.causes = map[string]int{}
	var body bytes.Buffer
	fail := func(cause, detail string) {
		r.errors++
		r.causes[cause]++
		if r.firstErr == "" {
			r.firstErr = detail
		}
	}
	for i := 0; ctx.Err() == nil && time.Now().Before(end); i++ {
		req := w.build(k, i)
		t0 := time.Now()
		code, status, err := c.do(req, end, &body)
		done := time.Now()
		if done.After(end) || ctx.Err() != nil {
			return
		}
		switch {
		case err != nil:
			fail("transport", err.Error())
			// A refused connection fails in microseconds; without a pause a
			// dead server would be hammered by a spinning loop.
			time.Sleep(10 * time.Millisecond)
		case code < 200 || code > 299:
			fail(strconv.Itoa(code), fmt.Sprintf("%s: %.200s", status, body.String()))
		case w.check != nil:
			if err := w.check(body.Bytes()); err != nil {
				fail("bad 2xx", fmt.Sprintf("%v: %.200s", err, body.String()))
				continue
			}
			fallthrough
		default:
			r.ok++
			r.lat = append(r.lat, done.Sub(t0))
		}
	}
}
