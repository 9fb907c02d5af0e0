package hub

import (
	"errors"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestOwnershipTransitions drives the lease state machine through every
// named transition, including what happens in each role when the lease
// store cannot be reached.
func TestOwnershipTransitions(t *testing.T) {
	t.Parallel()
	const ttl = time.Second
	t0 := time.Unix(1000, 0)
	down := errors.New("redis: connection refused")
	type step struct {
		holder string // the store's answer; "" with err
		err    error
		sent   time.Duration // question sent at t0+sent, answered at t0+sent+1ms
		expire time.Duration // instead of an answer: the clock at t0+expire
		late   bool          // answered a whole TTL after it was sent
		want   transition
		role   role
	}
	tests := []struct {
		name  string
		start role
		steps []step
	}{
		{"acquire a free lease, renew, lapse when the store is down", acquiring, []step{
			{holder: "me", want: tookOver, role: owning},
			{holder: "me", sent: 300 * time.Millisecond, want: renewed, role: owning},
			{err: down, sent: 600 * time.Millisecond, want: unchanged, role: owning},
			{expire: 1100 * time.Millisecond, want: unchanged, role: owning}, // renewed at 300 ms: valid to 1.2 s
			{expire: 1200 * time.Millisecond, want: lapsed, role: acquiring},
			{holder: "me", sent: 1500 * time.Millisecond, want: tookOver, role: owning},
		}},
		{"an owner whose lease another process holds is deposed", acquiring, []step{
			{holder: "me", want: tookOver, role: owning},
			{holder: "p2", sent: 300 * time.Millisecond, want: deposed, role: following},
			{holder: "p2", sent: 600 * time.Millisecond, want: unchanged, role: following},
			{holder: "p3", sent: 900 * time.Millisecond, want: followed, role: following},
		}},
		{"a follower that loses the store stops forwarding, then takes the free lease", acquiring, []step{
			{holder: "p2", want: followed, role: following},
			{err: down, sent: 300 * time.Millisecond, want: lost, role: acquiring},
			{err: down, sent: 600 * time.Millisecond, want: unchanged, role: acquiring},
			{holder: "me", sent: 900 * time.Millisecond, want: tookOver, role: owning},
		}},
		{"a lapsed owner follows whoever took the lease", acquiring, []step{
			{holder: "me", want: tookOver, role: owning},
			{expire: 950 * time.Millisecond, want: lapsed, role: acquiring},
			{holder: "p2", sent: time.Second, want: followed, role: following},
		}},
		{"an answer too late to sequence on changes nothing", acquiring, []step{
			{holder: "me", late: true, want: unchanged, role: acquiring},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := ownership{self: "me", ttl: ttl, role: tt.start}
			for i, s := range tt.steps {
				var got transition
				if s.expire != 0 {
					got = o.expire(t0.Add(s.expire))
				} else {
					sent := t0.Add(s.sent)
					now := sent.Add(time.Millisecond)
					if s.late {
						now = sent.Add(ttl)
					}
					o.ask(sent)
					got = o.answer(s.holder, s.err, sent, now)
				}
				if got != s.want || o.role != s.role {
					t.Fatalf("step %d: %v, role %v; want %v, role %v", i, got, o.role, s.want, s.role)
				}
				if o.asking {
					t.Fatalf("step %d: still asking after the answer", i)
				}
			}
		})
	}
}

// TestOwnershipSchedule: who asks when, and who may sequence.
func TestOwnershipSchedule(t *testing.T) {
	t.Parallel()
	const ttl, tick = 900 * time.Millisecond, 50 * time.Millisecond
	t0 := time.Unix(1000, 0)
	o := ownership{self: "me", ttl: ttl}
	if !o.due(t0, tick) {
		t.Fatal("a new room must ask at once")
	}
	o.ask(t0)
	if o.due(t0.Add(time.Hour), tick) {
		t.Fatal("a second question while one is in flight")
	}
	if o.sequencing(t0) {
		t.Fatal("sequencing before any answer")
	}
	o.answer("me", nil, t0, t0)
	// Valid until t0 + 900 ms − 90 ms margin.
	if !o.sequencing(t0.Add(809*time.Millisecond)) || o.sequencing(t0.Add(810*time.Millisecond)) {
		t.Fatal("owner's sequencing window is not TTL minus the margin")
	}
	if o.due(t0.Add(299*time.Millisecond), tick) || !o.due(t0.Add(300*time.Millisecond), tick) {
		t.Fatal("an owner renews every third of the TTL")
	}
	o.expire(t0.Add(time.Second))
	if !o.due(t0.Add(time.Second), tick) {
		t.Fatal("a room that knows no owner asks every tick")
	}
	var solo ownership
	solo.permanent()
	if !solo.sequencing(time.Now().Add(100*365*24*time.Hour)) || solo.due(time.Now(), tick) {
		t.Fatal("a single process owns its documents for good and never asks")
	}
}

// TestDocTable checks the ownership table in doc.go against the state
// machine, row by row, so the documentation cannot drift from the code.
func TestDocTable(t *testing.T) {
	t.Parallel()
	src, err := os.ReadFile("doc.go")
	if err != nil {
		t.Fatal(err)
	}
	const ttl = time.Second
	t0 := time.Unix(1000, 0)
	cols := regexp.MustCompile(`\s{2,}`)
	rows := 0
	for _, line := range strings.Split(string(src), "\n") {
		if !strings.HasPrefix(line, "//\t") {
			continue
		}
		f := cols.Split(strings.TrimPrefix(line, "//\t"), -1)
		if len(f) < 4 || f[0] == "from" {
			continue
		}
		roles := map[string]role{"acquiring": acquiring, "owning": owning, "following": following}
		from, ok := roles[f[0]]
		if !ok {
			continue // another table
		}
		rows++
		o := ownership{self: "me", ttl: ttl, role: from}
		switch from {
		case following:
			o.holder = "p2"
		case owning:
			o.until = t0.Add(ttl)
		}
		now := t0.Add(time.Millisecond)
		var got transition
		switch f[1] {
		case "store: this process holds it":
			got = o.answer("me", nil, now, now)
		case "store: another process holds":
			got = o.answer("p2", nil, now, now)
		case "store: a different process":
			got = o.answer("p3", nil, now, now)
		case "store unreachable":
			got = o.answer("", errors.New("down"), now, now)
		case "clock: deadline passed":
			got = o.expire(t0.Add(2 * ttl))
		default:
			t.Fatalf("doc.go row %q: unknown event %q", line, f[1])
		}
		if o.role.String() != f[2] || got.String() != f[3] {
			t.Errorf("doc.go says %s + %q → %s (%s); the code gives %s (%s)", f[0], f[1], f[2], f[3], o.role, got)
		}
	}
	if rows < 10 {
		t.Fatalf("found %d rows of the ownership table in doc.go", rows)
	}
}
