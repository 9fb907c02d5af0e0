package faultnet_test

import (
	"bufio"
	"errors"
	"io"
	"net"
	"testing"
	"time"

	"github.com/collabedit/collab/internal/faultnet"
)

// echo runs a line echo server until the test ends.
func echo(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() { _, _ = io.Copy(c, c); _ = c.Close() }()
		}
	}()
	return ln.Addr().String()
}

// roundTrip writes a line and reads it back within wait.
func roundTrip(c net.Conn, r *bufio.Reader, wait time.Duration) error {
	_ = c.SetDeadline(time.Now().Add(wait))
	if _, err := c.Write([]byte("ping\n")); err != nil {
		return err
	}
	_, err := r.ReadString('\n')
	return err
}

// TestPartition: behind a partition an open connection and a new one
// both time out, and neither is refused or reset; after Heal both work,
// the held line of the open one delivered.
func TestPartition(t *testing.T) {
	p := faultnet.Start(t, echo(t))
	old, err := net.Dial("tcp", p.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer old.Close()
	oldR := bufio.NewReader(old)
	if err := roundTrip(old, oldR, 2*time.Second); err != nil {
		t.Fatalf("before: %v", err)
	}
	p.Partition()
	var ne net.Error
	if err := roundTrip(old, oldR, 200*time.Millisecond); err == nil || !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatalf("open connection behind the partition: %v, want a timeout", err)
	}
	fresh, err := net.DialTimeout("tcp", p.Addr(), time.Second)
	if err != nil {
		t.Fatalf("dial behind the partition: %v (a partition accepts and goes nowhere)", err)
	}
	defer fresh.Close()
	freshR := bufio.NewReader(fresh)
	if err := roundTrip(fresh, freshR, 200*time.Millisecond); err == nil || !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatalf("new connection behind the partition: %v, want a timeout", err)
	}
	p.Heal()
	for _, x := range []struct {
		c net.Conn
		r *bufio.Reader
	}{{old, oldR}, {fresh, freshR}} {
		// The line held during the partition arrives first, then ours.
		if err := roundTrip(x.c, x.r, 2*time.Second); err != nil {
			t.Fatalf("after Heal: %v", err)
		}
	}
}
