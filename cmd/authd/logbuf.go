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
//
// Two locks: mu guards the pending lines only, so that a record can be
// added while a batch is being written (a slow or blocked stderr must not
// stall every request that logs); wmu keeps the batches in order.
type logBuffer struct {
	wmu sync.Mutex // held while writing to out; taken before mu
	out io.Writer

	mu    sync.Mutex
	buf   []byte
	spare []byte // the other half of the double buffer, owned by wmu's holder
}

func newLogBuffer(out io.Writer) *logBuffer {
	return &logBuffer{out: out, buf: make([]byte, 0, logBufferSize), spare: make([]byte, 0, logBufferSize)}
}

// Write takes one record (slog's handlers write each record in one call).
func (b *logBuffer) Write(p []byte) (int, error) {
	for {
		b.mu.Lock()
		if len(b.buf)+len(p) <= cap(b.buf) {
			b.buf = append(b.buf, p...)
			b.mu.Unlock()
			return len(p), nil
		}
		empty := len(b.buf) == 0
		b.mu.Unlock()
		if empty {
			// Larger than the whole buffer: it goes out on its own, in turn.
			b.wmu.Lock()
			defer b.wmu.Unlock()
			return b.out.Write(p)
		}
		if err := b.Flush(); err != nil {
			return 0, err
		}
	}
}

// Flush writes the pending lines. It drops them even when the write fails:
// a broken stderr must not make the buffer grow or the same lines repeat.
func (b *logBuffer) Flush() error {
	b.wmu.Lock()
	defer b.wmu.Unlock()
	b.mu.Lock()
	batch := b.buf
	b.buf = b.spare[:0]
	b.mu.Unlock()
	var err error
	if len(batch) > 0 {
		_, err = b.out.Write(batch)
	}
	b.spare = batch[:0]
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
