package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/uptrace/bun"
	"go.uber.org/fx"

	"github.com/authd/authd/adapters/config"
	"github.com/authd/authd/adapters/password"
	"github.com/authd/authd/adapters/redisstore"
	"github.com/authd/authd/core"
)

// httpMetrics are the per-request series; route is the matched pattern (or
// httpfiber.UnmatchedRoute), so their number is bounded by the route table.
type httpMetrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
}

func (m *httpMetrics) observe(route, method string, status int, elapsed time.Duration) {
	m.requests.WithLabelValues(route, method, strconv.Itoa(status)).Inc()
	m.duration.WithLabelValues(route, method).Observe(elapsed.Seconds())
}

type metricsParams struct {
	fx.In
	LC     fx.Lifecycle
	Log    *slog.Logger
	Reg    *prometheus.Registry
	Hasher *password.ScryptHasher
	DB     *bun.DB            `optional:"true"`
	Redis  *redisstore.Health `optional:"true"`
	// Sessions is bunpg's repository unless Redis is in front of it.
	Sessions core.SessionRepository `optional:"true"`
}

// metricsOption serves Prometheus's /metrics on METRICS_ADDR, a listener of
// its own (not the public one); nothing when it is empty.
func metricsOption(cfg config.Config) fx.Option {
	if cfg.Metrics.Addr == "" {
		return fx.Options()
	}
	return fx.Options(
		fx.Provide(func() (*prometheus.Registry, *httpMetrics) {
			reg := prometheus.NewRegistry()
			m := &httpMetrics{
				requests: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "authd_http_requests_total",
					Help: "HTTP requests answered, by matched route pattern, method and status."}, []string{"route", "method", "status"}),
				duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "authd_http_request_duration_seconds",
					Help:    "Time to answer HTTP requests, by matched route pattern and method.",
					Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}}, []string{"route", "method"}),
			}
			reg.MustRegister(m.requests, m.duration, collectors.NewGoCollector(),
				collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}), collectors.NewBuildInfoCollector())
			return reg, m
		}),
		fx.Invoke(func(p metricsParams) {
			registerGauges(p)
			srv := &http.Server{Handler: metricsMux(p.Reg), ReadHeaderTimeout: 5 * time.Second}
			p.LC.Append(fx.Hook{
				OnStart: func(ctx context.Context) error {
					ln, err := (&net.ListenConfig{}).Listen(ctx, "tcp", cfg.Metrics.Addr)
					if err != nil {
						return fmt.Errorf("METRICS_ADDR listener: %w", err)
					}
					p.Log.Info("serving metrics", "addr", ln.Addr().String())
					go func() {
						if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
							p.Log.Error("metrics listener failed", "err", err)
						}
					}()
					return nil
				},
				OnStop: func(context.Context) error { return srv.Close() },
			})
		}),
	)
}

func metricsMux(reg *prometheus.Registry) *http.ServeMux {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg}))
	return mux
}

// registerGauges reads the adapters' own counters at scrape time.
func registerGauges(p metricsParams) {
	counter := func(name, help string, f func() float64) prometheus.Collector {
		return prometheus.NewCounterFunc(prometheus.CounterOpts{Name: name, Help: help}, f)
	}
	gauge := func(name, help string, f func() float64) prometheus.Collector {
		return prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: name, Help: help}, f)
	}
	p.Reg.MustRegister(
		counter("authd_password_hashes_total", "scrypt derivations started (hashes and password checks).",
			func() float64 { return float64(p.Hasher.Runs()) }),
		gauge("authd_password_hash_queue_depth", "Callers waiting for a password hashing slot.",
			func() float64 { return float64(p.Hasher.Waiting()) }),
	)
	lookupStats := func(store string, stats func() (batches, lookups uint64)) {
		labels := prometheus.Labels{"store": store}
		p.Reg.MustRegister(
			prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "authd_session_lookup_batches_total", ConstLabels: labels,
				Help: "Batches (Postgres queries, Redis pipelines) that answered get-session lookups; lookups_total / batches_total is the mean batch size."},
				func() float64 { b, _ := stats(); return float64(b) }),
			prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "authd_session_lookups_total", ConstLabels: labels,
				Help: "get-session lookups answered in batches."},
				func() float64 { _, n := stats(); return float64(n) }),
		)
	}
	if s, ok := p.Sessions.(interface{ LookupStats() (uint64, uint64) }); ok {
		lookupStats("postgres", s.LookupStats)
	}
	if p.DB != nil {
		p.Reg.MustRegister(
			gauge("authd_db_pool_open_connections", "Open Postgres connections.",
				func() float64 { return float64(p.DB.Stats().OpenConnections) }),
			gauge("authd_db_pool_in_use", "Postgres connections in use.",
				func() float64 { return float64(p.DB.Stats().InUse) }),
		)
	}
	if p.Redis != nil {
		h := p.Redis
		lookupStats("redis", h.LookupStats)
		p.Reg.MustRegister(
			counter("authd_redis_errors_total", "Redis calls that failed.", func() float64 { return float64(h.Errors.Load()) }),
			counter("authd_redis_fallbacks_total", "Session reads answered by Postgres because Redis was not trusted.",
				func() float64 { return float64(h.Fallbacks.Load()) }),
			counter("authd_redis_backlog_replayed_total", "Removals owed to Redis after an outage, applied.",
				func() float64 { return float64(h.Replayed.Load()) }),
			gauge("authd_redis_trusted", "1 while sessions are read from Redis, 0 while Postgres answers them.",
				func() float64 {
					if h.Usable() {
						return 1
					}
					return 0
				}),
		)
	}
}
