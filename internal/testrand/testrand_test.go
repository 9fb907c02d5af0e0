package testrand

import (
	"strconv"
	"testing"

	"github.com/collabedit/collab/internal/faketb"
)

// seed calls Seed as testing runs a test, recording what it logged.
func seed() (uint64, *faketb.TB) {
	var s uint64
	f := faketb.Run(func(tb testing.TB) { s = Seed(tb) })
	return s, f
}

func TestSeedFromTheEnvironment(t *testing.T) {
	t.Setenv(EnvSeed, "12345")
	for range 2 {
		s, f := seed()
		if s != 12345 || f.Failure != "" {
			t.Fatalf("seed %d (failed %q), want 12345 from %s", s, f.Failure, EnvSeed)
		}
		if len(f.Logged) != 1 || f.Logged[0] != "seed 12345 (TEST_SEED=12345 replays it)" {
			t.Fatalf("logged %q", f.Logged)
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
	if len(fa.Logged) != 1 || fa.Logged[0] != want {
		t.Fatalf("logged %q, want %q", fa.Logged, want)
	}
}

func TestSeedRejectsGarbage(t *testing.T) {
	for _, v := range []string{"abc", "-1", "1.5", "18446744073709551616"} {
		t.Setenv(EnvSeed, v)
		if _, f := seed(); f.Failure == "" {
			t.Errorf("%s=%q accepted", EnvSeed, v)
		}
	}
}
