package main

import (
	"context"
	"runtime"
	"runtime/debug"
	"sync"
	"time"

	"golang.org/x/crypto/scrypt"
)

// better-auth 1.7.25's password hashing parameters (see adapters/password).
const (
	scryptN, scryptR, scryptP, scryptKeyLen = 16384, 16, 1, 64
)

// ceiling is the most password hashes per second this machine can do, the
// bound sign-in and sign-up are measured against.
type ceiling struct {
	goroutines int
	// rate is the sum over goroutines of each one's hashes per second while
	// all of them hash at once; with perfect scaling it equals
	// goroutines / single.Seconds(), and memory bandwidth is what makes it less.
	rate float64
	// single is one hash on an otherwise idle machine.
	single time.Duration
	// loaded is one hash's duration while every core hashes.
	loaded time.Duration
	// cpu shows whether other work on the machine held the rate down.
	cpu cpuSplit
}

func measureScryptCeiling(ctx context.Context, d time.Duration) ceiling {
	salt := []byte("00112233445566778899aabbccddeeff")
	pw := []byte(fixturePassword)
	c := ceiling{goroutines: runtime.GOMAXPROCS(0), single: time.Hour}
	for range 5 {
		t0 := time.Now()
		if _, err := scrypt.Key(pw, salt, scryptN, scryptR, scryptP, scryptKeyLen); err != nil {
			panic(err)
		}
		c.single = min(c.single, time.Since(t0))
	}
	rates := make([]float64, c.goroutines)
	before := snapCPU(0)
	var wg sync.WaitGroup
	deadline := time.Now().Add(d)
	for g := range c.goroutines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			start, n := time.Now(), 0
			for time.Now().Before(deadline) && ctx.Err() == nil {
				if _, err := scrypt.Key(pw, salt, scryptN, scryptR, scryptP, scryptKeyLen); err != nil {
					panic(err)
				}
				n++
			}
			rates[g] = float64(n) / time.Since(start).Seconds()
		}()
	}
	wg.Wait()
	c.cpu = snapCPU(0).sub(before, 0)
	for _, r := range rates {
		c.rate += r
	}
	if c.rate > 0 {
		c.loaded = time.Duration(float64(c.goroutines) / c.rate * float64(time.Second))
	}
	// The hashes' 32 MiB buffers are garbage now; handing them back keeps
	// this process's footprint out of the machine authd is measured on.
	debug.FreeOSMemory()
	return c
}
