package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"net/netip"
	"time"

	"go.uber.org/fx"
)

// pprofAddrEnv opts in to net/http/pprof, a debugging aid for operators and
// benchmarks. Profiles expose memory contents (secrets included) and a
// long CPU profile slows the server, so it is off unless set, and only a
// loopback address is accepted.
const pprofAddrEnv = "AUTHD_PPROF_ADDR"

// pprofAddr validates the value of AUTHD_PPROF_ADDR: "" (off), or
// host:port with host "localhost" or a loopback IP.
func pprofAddr(v string) (string, error) {
	if v == "" {
		return "", nil
	}
	host, _, err := net.SplitHostPort(v)
	if err != nil {
		return "", fmt.Errorf("%s=%q: want host:port: %w", pprofAddrEnv, v, err)
	}
	if host == "localhost" {
		return v, nil
	}
	ip, err := netip.ParseAddr(host)
	if err != nil || !ip.IsLoopback() {
		return "", fmt.Errorf("%s=%q: only a loopback address (127.0.0.1, [::1], localhost) is allowed", pprofAddrEnv, v)
	}
	return v, nil
}

// pprofOption serves the profiling endpoints under /debug/pprof/ on addr
// for the life of the app; nothing when addr is "". The listener is opened
// on start, so a taken port fails the start instead of going unnoticed.
func pprofOption(addr string) fx.Option {
	if addr == "" {
		return fx.Options()
	}
	return fx.Invoke(func(lc fx.Lifecycle, log *slog.Logger) {
		mux := http.NewServeMux()
		mux.HandleFunc("/debug/pprof/", pprof.Index)
		mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
		mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
		mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
		mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
		srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
		lc.Append(fx.Hook{
			OnStart: func(ctx context.Context) error {
				ln, err := (&net.ListenConfig{}).Listen(ctx, "tcp", addr)
				if err != nil {
					return fmt.Errorf("pprof listener: %w", err)
				}
				log.Warn("serving pprof; do not leave this on in production", "addr", ln.Addr().String())
				go func() {
					if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
						log.Error("pprof listener failed", "err", err)
					}
				}()
				return nil
			},
			// A profile in progress is cut off: it is a debugging aid, and
			// must not hold up the shutdown.
			OnStop: func(context.Context) error { return srv.Close() },
		})
	})
}
