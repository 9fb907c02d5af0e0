package presence_test

import (
	"reflect"
	"testing"
	"time"

	"github.com/collabedit/collab/presence"
)

func TestLimiter(t *testing.T) {
	t.Parallel()
	const iv = 100 * time.Millisecond
	t0 := time.Unix(1000, 0)
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	v := func(session string, n int64) presence.Peer { return presence.Peer{Session: session, Version: n} }

	l := &presence.Limiter{Interval: iv}
	if _, ok := l.Next(); ok {
		t.Fatal("Next on empty limiter: ok")
	}
	if !l.Offer(at(0), "a", v("a", 1)) {
		t.Fatal("first update held, want sent")
	}
	if !l.Offer(at(10), "b", v("b", 1)) {
		t.Fatal("first update of another session held, want sent")
	}
	if l.Offer(at(20), "a", v("a", 2)) {
		t.Fatal("second update within the interval sent, want held")
	}
	if l.Offer(at(30), "a", v("a", 3)) {
		t.Fatal("third update within the interval sent, want held")
	}
	if next, ok := l.Next(); !ok || !next.Equal(at(100)) {
		t.Fatalf("Next = %v, %v; want %v, true", next, ok, at(100))
	}
	if got := l.Due(at(99)); len(got) != 0 {
		t.Fatalf("Due before the interval passed = %+v, want none", got)
	}
	if got, want := l.Due(at(100)), []presence.Peer{v("a", 3)}; !reflect.DeepEqual(got, want) {
		t.Fatalf("Due = %+v, want only the latest held %+v", got, want)
	}
	if got := l.Due(at(500)); len(got) != 0 {
		t.Fatalf("second Due = %+v, want none (each returned once)", got)
	}
	if _, ok := l.Next(); ok {
		t.Fatal("Next after release: ok")
	}

	// The release at 100 counts as a send: the next update waits for 200.
	l2 := &presence.Limiter{Interval: iv}
	l2.Offer(at(0), "a", v("a", 1))
	l2.Offer(at(50), "a", v("a", 2))
	if got := l2.Due(at(100)); len(got) != 1 {
		t.Fatalf("Due = %+v, want one", got)
	}
	if l2.Offer(at(150), "a", v("a", 3)) {
		t.Fatal("update 50ms after a released one sent, want held")
	}
	if next, _ := l2.Next(); !next.Equal(at(200)) {
		t.Fatalf("Next = %v, want %v", next, at(200))
	}
	// An update offered after the interval goes out and supersedes the held one.
	if !l2.Offer(at(210), "a", v("a", 4)) {
		t.Fatal("update after the interval held, want sent")
	}
	if got := l2.Due(at(1000)); len(got) != 0 {
		t.Fatalf("Due after a newer update was sent = %+v, want none", got)
	}

	// Forget drops a held update.
	l3 := &presence.Limiter{Interval: iv}
	l3.Offer(at(0), "a", v("a", 1))
	l3.Offer(at(0), "b", v("b", 1))
	l3.Offer(at(10), "a", v("a", 2))
	l3.Offer(at(20), "b", v("b", 2))
	l3.Forget("a")
	if got, want := l3.Due(at(200)), []presence.Peer{v("b", 2)}; !reflect.DeepEqual(got, want) {
		t.Fatalf("Due after Forget(a) = %+v, want %+v", got, want)
	}
	if !l3.Offer(at(201), "a", v("a", 3)) {
		t.Fatal("forgotten session's next update held, want sent")
	}

	// Several sessions due at once come out sorted; Next is the earliest.
	l4 := &presence.Limiter{Interval: iv}
	for _, s := range []string{"c", "a", "b"} {
		l4.Offer(at(0), s, v(s, 1))
	}
	l4.Offer(at(30), "c", v("c", 2))
	l4.Offer(at(0), "b", v("b", 2))
	l4.Offer(at(50), "a", v("a", 2))
	if next, _ := l4.Next(); !next.Equal(at(100)) {
		t.Fatalf("Next = %v, want %v", next, at(100))
	}
	if got := sessionsOf(l4.Due(at(100))); !reflect.DeepEqual(got, []string{"a", "b", "c"}) {
		t.Fatalf("Due order = %v, want [a b c]", got)
	}

	// The zero Limiter lets everything through.
	var z presence.Limiter
	for i := 0; i < 3; i++ {
		if !z.Offer(at(0), "a", v("a", int64(i))) {
			t.Fatal("zero Limiter held an update")
		}
	}
}

func sessionsOf(ps []presence.Peer) []string {
	out := []string{}
	for _, p := range ps {
		out = append(out, p.Session)
	}
	return out
}
