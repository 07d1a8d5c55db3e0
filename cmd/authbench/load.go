package main

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"slices"
	"sort"
	"strconv"
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
// flight at its end are cancelled.
func runLoad(ctx context.Context, srv *authd, w workload) result {
	client := newClient(w.conns)
	defer client.CloseIdleConnections()
	if w.warmup > 0 {
		phase(ctx, client, w, w.warmup)
	}
	sampler := sampleRSS(srv.pid, 20*time.Millisecond)
	before := snapCPU(srv.pid)
	r := phase(ctx, client, w, w.dur)
	r.cpu = snapCPU(srv.pid).sub(before, 0)
	r.peakRSS = sampler.stop()
	_, r.hwm, _ = procMemory(srv.pid)
	return r
}

func phase(ctx context.Context, client *http.Client, w workload, d time.Duration) result {
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
			worker(pctx, client, w, k, end, &parts[k])
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

func worker(ctx context.Context, client *http.Client, w workload, k int, end time.Time, r *result) {
	r.causes = map[string]int{}
	var body bytes.Buffer
	fail := func(cause, detail string) {
		r.errors++
		r.causes[cause]++
		if r.firstErr == "" {
			r.firstErr = detail
		}
	}
	for i := 0; ctx.Err() == nil; i++ {
		req := w.build(k, i).WithContext(ctx)
		t0 := time.Now()
		resp, err := client.Do(req)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			fail("transport", err.Error())
			// A refused connection fails in microseconds; without a pause a
			// dead server would be hammered by a spinning loop.
			time.Sleep(10 * time.Millisecond)
			continue
		}
		body.Reset()
		_, err = body.ReadFrom(resp.Body)
		resp.Body.Close()
		done := time.Now()
		if done.After(end) || ctx.Err() != nil {
			return
		}
		switch {
		case err != nil:
			fail("transport", err.Error())
		case resp.StatusCode < 200 || resp.StatusCode > 299:
			fail(strconv.Itoa(resp.StatusCode), fmt.Sprintf("%s: %.200s", resp.Status, body.String()))
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
