package db

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestReserveSignInHoldsUnderConcurrency(t *testing.T) {
	forEachBackend(t, testReserveSignInHoldsUnderConcurrency)
}

func testReserveSignInHoldsUnderConcurrency(t *testing.T, dsn string) {
	d := fixtureOpen(t, dsn)
	ctx := context.Background()
	bucket := []ThrottleBucket{{Key: "email:a@b.test", Limit: 5, Window: 15 * time.Minute, FreeFailures: 5}}
	var granted atomic.Int32
	var wg sync.WaitGroup
	for range 60 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ok, _, err := d.ReserveSignIn(ctx, bucket, fixtureNow)
			if err != nil {
				t.Error(err)
			}
			if ok {
				granted.Add(1)
			}
		}()
	}
	wg.Wait()
	if got := granted.Load(); got != 5 {
		t.Fatalf("%d of 60 simultaneous attempts reserved, want exactly 5", got)
	}
}

func TestSignInThrottleRules(t *testing.T) { forEachBackend(t, testSignInThrottleRules) }

func testSignInThrottleRules(t *testing.T, dsn string) {
	pair := ThrottleBucket{Key: "pair", Limit: 5, Window: 15 * time.Minute, FreeFailures: 2}
	type step struct {
		at      time.Duration // since fixtureNow
		outcome string        // "fail", "ok" (succeeded) or "" (refusal expected)
		want    bool
		wait    time.Duration // the wait a refusal reports
	}
	tests := []struct {
		name  string
		steps []step
	}{
		{"two failures are free, then the wait doubles", []step{
			{0, "fail", true, 0}, {0, "fail", true, 0},
			{0, "", false, time.Second}, {time.Second, "fail", true, 0},
			{2 * time.Second, "", false, time.Second}, {3 * time.Second, "fail", true, 0},
			{6 * time.Second, "", false, time.Second}, {7 * time.Second, "fail", true, 0},
		}},
		{"the fifth failure spends the window", []step{
			{0, "fail", true, 0}, {0, "fail", true, 0}, {time.Second, "fail", true, 0},
			{3 * time.Second, "fail", true, 0}, {7 * time.Second, "fail", true, 0},
			{time.Minute, "", false, 14 * time.Minute}, {15*time.Minute + time.Second, "fail", true, 0},
		}},
		{"a success clears the pair's failures", []step{
			{0, "fail", true, 0}, {0, "fail", true, 0}, {time.Second, "ok", true, 0},
			{time.Second, "fail", true, 0}, {time.Second, "fail", true, 0}, {time.Second, "", false, time.Second},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := fixtureOpen(t, dsn)
			ctx := context.Background()
			b := []ThrottleBucket{pair}
			b[0].Key = tc.name // the cases share one database
			for i, s := range tc.steps {
				now := fixtureNow.Add(s.at)
				ok, wait, err := d.ReserveSignIn(ctx, b, now)
				if err != nil {
					t.Fatal(err)
				}
				if ok != s.want || !ok && wait != s.wait {
					t.Fatalf("step %d: reserved %v wait %v, want %v wait %v", i, ok, wait, s.want, s.wait)
				}
				switch s.outcome {
				case "fail":
					err = d.SignInFailed(ctx, b, now)
				case "ok":
					err = d.ReleaseSignIn(ctx, nil, b)
				}
				if err != nil {
					t.Fatal(err)
				}
			}
		})
	}
}
