package main

import (
	"context"
	"io"
	"log/slog"
	"sync"
	"time"
)

// Log lines are batched: one write(2) per request for the access log cost
// authd about 3 % of its CPU under get-session load. Lines wait at most
// logFlushInterval; errors are written at once, since an error may precede
// a crash, and whatever is pending is written when the process stops.
const (
	logFlushInterval = 100 * time.Millisecond
	logBufferSize    = 64 << 10
)

// logBuffer collects whole log records and writes them to out in batches.
// A record is never split across two writes, so lines from this process
// never interleave mid-line with anything else writing to out.
type logBuffer struct {
	mu  sync.Mutex
	out io.Writer
	buf []byte
}

func newLogBuffer(out io.Writer) *logBuffer {
	return &logBuffer{out: out, buf: make([]byte, 0, logBufferSize)}
}

// Write takes one record (slog's handlers write each record in one call).
func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.buf)+len(p) > cap(b.buf) {
		if err := b.flushLocked(); err != nil {
			return 0, err
		}
		if len(p) > cap(b.buf) {
			return b.out.Write(p)
		}
	}
	b.buf = append(b.buf, p...)
	return len(p), nil
}

func (b *logBuffer) Flush() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.flushLocked()
}

// flushLocked drops the pending lines even when the write fails: a broken
// stderr must not make the buffer grow or the same lines repeat.
func (b *logBuffer) flushLocked() error {
	if len(b.buf) == 0 {
		return nil
	}
	_, err := b.out.Write(b.buf)
	b.buf = b.buf[:0]
	return err
}

// run flushes every interval until stop is called; stop flushes what is
// left and returns once nothing more will be written by run.
func (b *logBuffer) run(interval time.Duration) (stop func()) {
	done := make(chan struct{})
	exited := make(chan struct{})
	go func() {
		defer close(exited)
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-t.C:
				_ = b.Flush()
			case <-done:
				return
			}
		}
	}()
	var once sync.Once
	return func() {
		once.Do(func() {
			close(done)
			<-exited
			_ = b.Flush()
		})
	}
}

// errorFlusher writes the buffer out right after every record at
// slog.LevelError or above.
type errorFlusher struct {
	slog.Handler
	b *logBuffer
}

func (h errorFlusher) Handle(ctx context.Context, r slog.Record) error {
	err := h.Handler.Handle(ctx, r)
	if r.Level >= slog.LevelError {
		if ferr := h.b.Flush(); err == nil {
			err = ferr
		}
	}
	return err
}

func (h errorFlusher) WithAttrs(attrs []slog.Attr) slog.Handler {
	return errorFlusher{h.Handler.WithAttrs(attrs), h.b}
}

func (h errorFlusher) WithGroup(name string) slog.Handler {
	return errorFlusher{h.Handler.WithGroup(name), h.b}
}

// newBufferedLogger is authd's JSON logger on out, batched as described
// above. Call stop before the process exits.
func newBufferedLogger(out io.Writer, level slog.Level) (log *slog.Logger, stop func()) {
	b := newLogBuffer(out)
	h := slog.NewJSONHandler(b, &slog.HandlerOptions{Level: level})
	return slog.New(errorFlusher{h, b}), b.run(logFlushInterval)
}
