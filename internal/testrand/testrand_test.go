package testrand

import (
	"fmt"
	"runtime"
	"strconv"
	"testing"
)

// fakeTB records Logf and Fatalf; Fatalf, like testing's, stops the
// calling goroutine. Any other method of testing.TB panics (nil embedded
// interface), so an unexpected call shows.
type fakeTB struct {
	testing.TB
	logs   []string
	failed string
}

func (f *fakeTB) Helper() {}

func (f *fakeTB) Logf(format string, args ...any) {
	f.logs = append(f.logs, fmt.Sprintf(format, args...))
}

func (f *fakeTB) Fatalf(format string, args ...any) {
	f.failed = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

// seed calls Seed with a fakeTB on its own goroutine, as testing runs a
// test.
func seed() (uint64, *fakeTB) {
	f := &fakeTB{}
	var s uint64
	done := make(chan struct{})
	go func() {
		defer close(done)
		s = Seed(f)
	}()
	<-done
	return s, f
}

func TestSeedFromTheEnvironment(t *testing.T) {
	t.Setenv(EnvSeed, "12345")
	for range 2 {
		s, f := seed()
		if s != 12345 || f.failed != "" {
			t.Fatalf("seed %d (failed %q), want 12345 from %s", s, f.failed, EnvSeed)
		}
		if len(f.logs) != 1 || f.logs[0] != "seed 12345 (TEST_SEED=12345 replays it)" {
			t.Fatalf("logged %q", f.logs)
		}
	}
}

func TestSeedRandomAndLogged(t *testing.T) {
	t.Setenv(EnvSeed, "")
	a, fa := seed()
	b, _ := seed()
	if a == b {
		t.Fatalf("two runs without %s both got seed %d", EnvSeed, a)
	}
	want := "seed " + strconv.FormatUint(a, 10) + " (TEST_SEED=" + strconv.FormatUint(a, 10) + " replays it)"
	if len(fa.logs) != 1 || fa.logs[0] != want {
		t.Fatalf("logged %q, want %q", fa.logs, want)
	}
}

func TestSeedRejectsGarbage(t *testing.T) {
	for _, v := range []string{"abc", "-1", "1.5", "18446744073709551616"} {
		t.Setenv(EnvSeed, v)
		if _, f := seed(); f.failed == "" {
			t.Errorf("%s=%q accepted", EnvSeed, v)
		}
	}
}
