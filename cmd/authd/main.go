// Command authd is a better-auth compatible authentication server.
//
//	authd [serve]                  run the HTTP server (default)
//	authd migrate up|down|status   manage the database schema
package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"runtime"
	"runtime/debug"
	"syscall"
	"time"

	"github.com/authd/authd/adapters/bunpg"
	"github.com/authd/authd/adapters/config"
)

const usage = `usage: authd [serve] | authd migrate up|down|status`

func main() {
	os.Exit(run(os.Args[1:]))
}

func run(args []string) int {
	log, flushLog := newBufferedLogger(os.Stderr, slog.LevelInfo)
	defer flushLog()
	cmd := "serve"
	if len(args) > 0 {
		cmd = args[0]
	}
	cfg, err := loadConfig(cmd)
	if err != nil {
		fmt.Fprintf(os.Stderr, "authd: invalid configuration:\n%v\n", err)
		return 2
	}
	for _, w := range cfg.Warnings() {
		log.Warn("configuration", "warning", w)
	}
	switch cmd {
	case "serve":
		pprof, err := pprofAddr(os.Getenv(pprofAddrEnv))
		if err != nil {
			fmt.Fprintf(os.Stderr, "authd: invalid configuration:\n%v\n", err)
			return 2
		}
		return serve(cfg, log, pprof)
	case "migrate":
		if len(args) != 2 {
			fmt.Fprintln(os.Stderr, usage)
			return 2
		}
		if err := migrate(cfg, args[1]); err != nil {
			fmt.Fprintf(os.Stderr, "authd: migrate %s: %v\n", args[1], err)
			return 1
		}
		return 0
	default:
		fmt.Fprintln(os.Stderr, usage)
		return 2
	}
}

// loadConfig loads the configuration and checks what cmd uses: migrate
// only the database settings, anything else all of them.
func loadConfig(cmd string) (config.Config, error) {
	cfg, err := config.Load()
	if err != nil {
		return cfg, err
	}
	if cmd == "migrate" {
		return cfg, cfg.ValidateDatabase()
	}
	return cfg, cfg.Validate()
}

// serve runs the fx application until SIGINT/SIGTERM. fx's own signal handling
// is used so that a second signal or the stop timeout forces the exit.
// pprof is the address of the profiling listener, "" for none.
func serve(cfg config.Config, log *slog.Logger, pprof string) int {
	limitMemory()
	app := newApp(cfg, log, postgresStorage, pprofOption(pprof))
	startCtx, cancel := context.WithTimeout(context.Background(), app.StartTimeout())
	defer cancel()
	if err := app.Start(startCtx); err != nil {
		log.Error("startup failed", "err", err)
		return 1
	}
	sig := <-app.Wait()
	log.Info("shutting down", "signal", sig.Signal.String())
	stopCtx, cancel2 := context.WithTimeout(context.Background(), app.StopTimeout())
	defer cancel2()
	if err := app.Stop(stopCtx); err != nil {
		log.Error("shutdown failed", "err", err)
		return 1
	}
	log.Info("stopped")
	return sig.ExitCode
}

// migrate runs without fx: the migrator needs only the database, and the
// plain constructor keeps it usable from scripts and tests alike.
func migrate(cfg config.Config, direction string) error {
	db, err := bunpg.Open(dbConfig(cfg))
	if err != nil {
		return err
	}
	defer db.Close()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	if err := bunpg.Ping(ctx, db, dbConfig(cfg)); err != nil {
		return err
	}
	switch direction {
	case "up":
		return bunpg.Migrate(ctx, db)
	case "down":
		return bunpg.Rollback(ctx, db)
	case "status":
		statuses, err := bunpg.Status(ctx, db)
		if err != nil {
			return err
		}
		for _, s := range statuses {
			fmt.Println(s)
		}
		return nil
	}
	return errors.New(usage)
}

// The default memory limit leaves the heap a fixed allowance of garbage on
// top of what it must hold: one 32 MiB scrypt buffer per hash in flight, at
// most GOMAXPROCS of them (newHasher). Without a limit, GOGC=100 lets the
// discarded buffers pile up as high again; a fixed limit below the live
// buffers would make the collector run without pause on a many-core
// machine. 64 MiB covers the rest of authd (about 20 MiB idle) and the
// garbage of a 256-connection flood.
const (
	memoryLimitBase    = 64 << 20
	memoryLimitPerHash = 32 << 20
)

func limitMemory() {
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(memoryLimitBase + memoryLimitPerHash*int64(runtime.GOMAXPROCS(0)))
	}
}
