package soak

import (
	"math/rand/v2"
	"os"
	"testing"
	"time"

	"github.com/collabedit/collab/hub"
	"github.com/collabedit/collab/internal/testrand"
)

// settings are one soak's parameters: the short run by default, the long
// one through SOAK_DURATION and SOAK_DEFAULT_TIMERS.
type settings struct {
	seed          uint64
	duration      time.Duration // editing time, faults included
	defaultTimers bool
	// The server's timers, as the harness must know them.
	leaseTTL    time.Duration
	idleTimeout time.Duration
	pongWait    time.Duration
	serverArgs  []string // timer and logging flags for every process
	faults      []faultKind
}

// The short run's length: 60 s is 60 ping intervals, 30 idle timeouts and
// 60 lease TTLs at the compressed timers, and it leaves room for three
// faults spaced 15 s apart.
const shortDuration = 60 * time.Second

// The compressed timers: every one short enough that a one-minute run
// outlasts it many times over.
const (
	compressedLease = time.Second
	compressedIdle  = 2 * time.Second
	compressedPong  = 3 * time.Second
)

// compressedArgs are the server flags for the compressed timers.
var compressedArgs = []string{"-ping-interval", "1s", "-write-timeout", "500ms", "-pong-wait", compressedPong.String(),
	"-lease-ttl", compressedLease.String(), "-idle-timeout", compressedIdle.String(), "-presence-ttl", "3s", "-log-level", "warn"}

// loadSettings reads SOAK_DURATION, SOAK_DEFAULT_TIMERS and SOAK_FAULTS,
// and takes (and logs) the run's seed from testrand, which $TEST_SEED
// overrides.
func loadSettings(tb testing.TB) settings {
	tb.Helper()
	s := settings{duration: shortDuration, seed: testrand.Seed(tb)}
	if v := os.Getenv("SOAK_DURATION"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < 30*time.Second {
			tb.Fatalf("SOAK_DURATION=%q: want a duration of at least 30s (%v)", v, err)
		}
		s.duration = d
	}
	faults, err := parseFaults(os.Getenv("SOAK_FAULTS"))
	if err != nil {
		tb.Fatalf("SOAK_FAULTS: %v", err)
	}
	s.faults = faults
	s.defaultTimers = os.Getenv("SOAK_DEFAULT_TIMERS") != ""
	if s.defaultTimers {
		d := hub.DefaultConfig() // what the server's flags default to
		s.leaseTTL, s.idleTimeout, s.pongWait = hub.DefaultLeaseTTL, d.IdleTimeout, d.PongWait
		s.serverArgs = []string{"-log-level", "warn"}
	} else {
		s.leaseTTL, s.idleTimeout, s.pongWait = compressedLease, compressedIdle, compressedPong
		s.serverArgs = compressedArgs
	}
	return s
}

// rng returns the random source of one component (a client, the fault
// schedule), derived from the run's seed so a run can be replayed.
func (s settings) rng(component uint64) *rand.Rand {
	return rand.New(rand.NewPCG(s.seed, component))
}

// recoveryBound is the fault-recovery bound: every document accepts ops
// on every live process within 2 lease TTLs of a fault's end.
func (s settings) recoveryBound() time.Duration { return 2 * s.leaseTTL }

// probeDeadline is how long probes keep trying after a fault, to tell a
// slow recovery (acked late) from a frozen document (never acked): 15
// TTLs, at least 15 s.
func (s settings) probeDeadline() time.Duration { return max(15*time.Second, 15*s.leaseTTL) }

// drainTimeout bounds the wait for every client to be synced after
// editing stops. A healthy cluster drains in well under a second; the
// bound only keeps a frozen document from hanging the test.
func (s settings) drainTimeout() time.Duration { return max(30*time.Second, 6*s.leaseTTL) }

// readTimeout is the silence after which a raw socket is taken for dead:
// the server pings every ping interval (1 s, or 25 s by default), so
// three pong waits mean the server or the network is gone.
func (s settings) readTimeout() time.Duration { return 3 * s.pongWait }
