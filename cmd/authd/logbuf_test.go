package main

import (
	"bytes"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"
)

// writes records every write the buffer makes to the underlying stream.
type writes struct {
	mu    sync.Mutex
	calls []string
}

func (w *writes) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.calls = append(w.calls, string(p))
	return len(p), nil
}

func (w *writes) all() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return strings.Join(w.calls, "")
}

func (w *writes) count() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.calls)
}

func TestBufferedLoggerBatchesInfoAndWritesErrorsAtOnce(t *testing.T) {
	var out writes
	b := newLogBuffer(&out)
	log := slog.New(errorFlusher{slog.NewJSONHandler(b, nil), b}).With("app", "authd")
	log.Info("first")
	log.Warn("second")
	if n := out.count(); n != 0 {
		t.Fatalf("info and warn lines were written at once (%d writes), want them batched", n)
	}
	log.Error("boom")
	if got := out.all(); out.count() != 1 || !strings.Contains(got, `"msg":"first"`) ||
		!strings.Contains(got, `"msg":"second"`) || !strings.Contains(got, `"msg":"boom"`) {
		t.Fatalf("after an error: %d writes %q, want the three lines in one write", out.count(), got)
	}
	if !strings.Contains(out.all(), `"app":"authd"`) {
		t.Fatal("attributes added with With were lost")
	}
}

func TestLogBufferFlushesPeriodicallyAndOnStop(t *testing.T) {
	var out writes
	b := newLogBuffer(&out)
	stopTicking := b.run(10 * time.Millisecond)
	defer stopTicking()
	_, _ = b.Write([]byte("tick\n"))
	deadline := time.Now().Add(5 * time.Second)
	for out.all() != "tick\n" {
		if time.Now().After(deadline) {
			t.Fatal("a pending line was not flushed by the ticker")
		}
		time.Sleep(5 * time.Millisecond)
	}

	b = newLogBuffer(&out)
	stop := b.run(time.Hour)
	_, _ = b.Write([]byte("last\n"))
	stop()
	if !strings.HasSuffix(out.all(), "last\n") {
		t.Fatalf("stop did not flush: %q", out.all())
	}
	stop() // idempotent
}

// Records are never split: a record that does not fit flushes what is
// pending first, and one larger than the buffer goes out on its own.
func TestLogBufferKeepsRecordsWhole(t *testing.T) {
	var out writes
	b := newLogBuffer(&out)
	small := bytes.Repeat([]byte("a"), logBufferSize-10)
	_, _ = b.Write(small)
	_, _ = b.Write([]byte("0123456789abcdef\n"))
	if out.count() != 1 || out.calls[0] != string(small) {
		t.Fatalf("the pending record was not flushed whole before the next")
	}
	huge := bytes.Repeat([]byte("h"), 2*logBufferSize)
	_, _ = b.Write(huge)
	if out.count() != 3 || out.calls[1] != "0123456789abcdef\n" || out.calls[2] != string(huge) {
		t.Fatalf("writes: %d, want the pending record then the oversized one", out.count())
	}
}

// lockProbe is an output that, while being written to, checks whether a
// record could be added to the buffer at that moment.
type lockProbe struct {
	b      *logBuffer
	writes int
	locked int // writes during which the buffer's lock was held
}

func (p *lockProbe) Write(q []byte) (int, error) {
	p.writes++
	if p.b.mu.TryLock() {
		p.b.mu.Unlock()
	} else {
		p.locked++
	}
	return len(q), nil
}

// Writing a batch (an error's flush, the ticker's, an overflowing record)
// must not hold the lock that every log call takes, or a slow stderr stalls
// every request that logs.
func TestLogBufferDoesNotHoldTheLockWhileWriting(t *testing.T) {
	probe := &lockProbe{}
	b := newLogBuffer(probe)
	probe.b = b
	log := slog.New(errorFlusher{slog.NewJSONHandler(b, nil), b})
	log.Info("pending")
	log.Error("flushes")
	for range logBufferSize / 64 {
		log.Info(strings.Repeat("x", 64)) // overflows the buffer at least once
	}
	log.Info(strings.Repeat("y", 2*logBufferSize)) // larger than the buffer
	if err := b.Flush(); err != nil {
		t.Fatal(err)
	}
	if probe.writes < 3 || probe.locked != 0 {
		t.Fatalf("%d of %d writes held the buffer lock", probe.locked, probe.writes)
	}
}
