package loadgen

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/collabedit/collab/protocol"
)

// maxErrorSamples bounds the error messages kept verbatim; the rest are
// only counted, so a run where every op fails does not grow without end.
const maxErrorSamples = 20

// recorder collects everything a scenario measures. Every method is safe
// for concurrent use. Latencies are recorded only inside the steady window
// (between beginSteady and endSteady), so connecting during ramp-up and
// draining at the end do not dilute them; counters count everything.
type recorder struct {
	start  time.Time
	steady atomic.Bool

	edits     atomic.Uint64 // local edits (keystrokes, trace patches)
	sent      atomic.Uint64 // ops sent, where the sender can see them (raw clients)
	acked     atomic.Uint64
	refused   atomic.Uint64
	delivered atomic.Uint64 // other clients' ops received
	unmatched atomic.Uint64 // deliveries whose send time was never learnt
	late      atomic.Uint64 // edits made over 100 ms after their schedule
	skipped   atomic.Uint64 // edits that did not fit the local text
	unacked   atomic.Uint64 // ops still unacknowledged when the run gave up on them
	conns     atomic.Int64  // open sockets now
	connFails atomic.Uint64

	ack, remote, connect *shardedHist
	stamps               *stampBook

	mu         sync.Mutex
	codes      map[string]uint64 // refused ops by error code
	failures   map[string]uint64 // failed connects by reason
	errCount   uint64
	errSamples []string
	series     []Second
	window     [2]mark // steady window: begin, end
	prev       mark    // the last sample's counters
}

// mark is the counters at one instant.
type mark struct {
	at                                time.Time
	edits, sent, acked, delivered, rf uint64
}

func newRecorder() *recorder {
	now := time.Now()
	return &recorder{
		start:    now,
		prev:     mark{at: now},
		ack:      newShardedHist(),
		remote:   newShardedHist(),
		connect:  newShardedHist(),
		stamps:   newStampBook(),
		codes:    make(map[string]uint64),
		failures: make(map[string]uint64),
	}
}

// now is the time since the recorder started, on the monotonic clock.
func (r *recorder) now() time.Duration { return time.Since(r.start) }

func (r *recorder) markNow() mark {
	return mark{at: time.Now(), edits: r.edits.Load(), sent: r.sent.Load(), acked: r.acked.Load(),
		delivered: r.delivered.Load(), rf: r.refused.Load()}
}

// beginSteady opens the measurement window.
func (r *recorder) beginSteady() {
	r.mu.Lock()
	r.window[0] = r.markNow()
	r.mu.Unlock()
	r.steady.Store(true)
}

// endSteady closes the measurement window.
func (r *recorder) endSteady() {
	r.steady.Store(false)
	r.mu.Lock()
	r.window[1] = r.markNow()
	r.mu.Unlock()
}

// windowSeconds is the length of the closed steady window.
func (r *recorder) windowSeconds() float64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.window[0].at.IsZero() || r.window[1].at.IsZero() {
		return 0
	}
	return r.window[1].at.Sub(r.window[0].at).Seconds()
}

// opAcked records an acknowledged op and its latency (send → ack).
func (r *recorder) opAcked(shard int, lat time.Duration) {
	r.acked.Add(1)
	if r.steady.Load() {
		r.ack.add(shard, lat)
	}
}

// remoteLatency records one delivery's latency; steady tells whether the
// delivery happened inside the measurement window.
func (r *recorder) remoteLatency(shard int, lat time.Duration, steady bool) {
	if steady {
		r.remote.add(shard, lat)
	}
}

// clientError is the Go client's OnError: an error wrapping a
// *protocol.Error with an op id is a refused op, counted by code too.
func (r *recorder) clientError(err error) {
	var pe *protocol.Error
	if errors.As(err, &pe) && pe.ID != "" {
		r.opRefused(string(pe.Code))
	}
	r.addError(err)
}

// opRefused records an op the server refused with code.
func (r *recorder) opRefused(code string) {
	r.refused.Add(1)
	r.mu.Lock()
	r.codes[code]++
	r.mu.Unlock()
}

// addError records an error; the first few are kept verbatim.
func (r *recorder) addError(err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.errCount++
	if len(r.errSamples) < maxErrorSamples {
		r.errSamples = append(r.errSamples, err.Error())
	}
}

// connected records a successful connect and its latency.
func (r *recorder) connected(shard int, lat time.Duration) {
	r.conns.Add(1)
	r.connect.add(shard, lat)
}

// connectFailed records a failed connect under a short reason.
func (r *recorder) connectFailed(reason string) {
	r.connFails.Add(1)
	r.mu.Lock()
	r.failures[reason]++
	r.mu.Unlock()
}

// disconnected records a socket closing.
func (r *recorder) disconnected() { r.conns.Add(-1) }

func (r *recorder) errorSummary() (uint64, []string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.errCount, append([]string(nil), r.errSamples...)
}

func copyMap(mu *sync.Mutex, m map[string]uint64) map[string]uint64 {
	mu.Lock()
	defer mu.Unlock()
	out := make(map[string]uint64, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// steadyRates returns the counters' rates per second over the steady
// window (or, if it was never opened, since the start).
func (r *recorder) steadyRates() (secs float64, rates Rates) {
	r.mu.Lock()
	w := r.window
	r.mu.Unlock()
	if w[0].at.IsZero() {
		w[0] = mark{at: r.start}
	}
	if w[1].at.IsZero() {
		w[1] = r.markNow()
	}
	secs = w[1].at.Sub(w[0].at).Seconds()
	if secs <= 0 {
		return 0, rates
	}
	per := func(a, b uint64) float64 { return float64(b-a) / secs }
	return secs, Rates{
		Edits:     per(w[0].edits, w[1].edits),
		Sent:      per(w[0].sent, w[1].sent),
		Acked:     per(w[0].acked, w[1].acked),
		Delivered: per(w[0].delivered, w[1].delivered),
		Refused:   per(w[0].rf, w[1].rf),
	}
}

// describeFailure turns a connect error into a short reason for counting.
func describeFailure(err error) string {
	msg := err.Error()
	for _, k := range []string{"cannot assign requested address", "connection refused", "connection reset",
		"too many open files", "timeout", "deadline exceeded", "bad handshake", "EOF"} {
		if strings.Contains(msg, k) {
			return k
		}
	}
	if len(msg) > 60 {
		msg = msg[:60]
	}
	return fmt.Sprintf("other: %s", msg)
}
