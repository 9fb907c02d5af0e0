package testrand

import (
	"math/rand/v2"
	"os"
	"strconv"
	"testing"
)

// EnvSeed is the variable that replays a run: a decimal uint64.
const EnvSeed = "TEST_SEED"

// Seed returns the seed for tb's random choices — $TEST_SEED if it is set,
// a random one otherwise — and logs it with how to replay it. A
// $TEST_SEED that is not a decimal uint64 fails tb.
func Seed(tb testing.TB) uint64 {
	tb.Helper()
	seed := rand.Uint64()
	if v := os.Getenv(EnvSeed); v != "" {
		s, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			tb.Fatalf("%s=%q: want a decimal seed (%v)", EnvSeed, v, err)
		}
		seed = s
	}
	tb.Logf("seed %d (%s=%d replays it)", seed, EnvSeed, seed)
	return seed
}
