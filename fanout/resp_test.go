package fanout

import (
	"bufio"
	"bytes"
	"reflect"
	"strings"
	"testing"
)

func TestReadReply(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, in string
		want     any
		bad      bool
	}{
		{"simple", "+OK\r\n", "OK", false},
		{"error", "-MOVED 42 127.0.0.1:7001\r\n", replyError("MOVED 42 127.0.0.1:7001"), false},
		{"integer", ":-3\r\n", int64(-3), false},
		{"bulk", "$5\r\nhe\r\nl\r\n", "he\r\nl", false},
		{"null bulk", "$-1\r\n", nil, false},
		{"empty bulk", "$0\r\n\r\n", "", false},
		{"smessage", "*3\r\n$8\r\nsmessage\r\n$15\r\ncollab:doc:{d1}\r\n$3\r\nev1\r\n", []any{"smessage", "collab:doc:{d1}", "ev1"}, false},
		{"ssubscribe", "*3\r\n$10\r\nssubscribe\r\n$3\r\n{a}\r\n:1\r\n", []any{"ssubscribe", "{a}", int64(1)}, false},
		{"pong", "*2\r\n$4\r\npong\r\n$0\r\n\r\n", []any{"pong", ""}, false},
		{"nested", "*2\r\n*1\r\n:1\r\n$1\r\nx\r\n", []any{[]any{int64(1)}, "x"}, false},
		{"no CR", "+OK\n", nil, true},
		{"unknown type", "!x\r\n", nil, true},
		{"huge bulk", "$999999999999\r\n", nil, true},
		{"negative array", "*-1\r\n", nil, false},
		{"huge array", "*99999999\r\n", nil, true},
		{"short bulk", "$5\r\nab", nil, true},
		{"bulk longer than said", "$2\r\nabc\r\n", nil, true},
		{"bad integer", ":x\r\n", nil, true},
		{"too deep", strings.Repeat("*1\r\n", maxDepth+1) + ":1\r\n", nil, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := readReply(bufio.NewReader(strings.NewReader(tc.in)))
			if (err != nil) != tc.bad {
				t.Fatalf("err = %v, want error: %v", err, tc.bad)
			}
			if !tc.bad && !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got %#v, want %#v", got, tc.want)
			}
		})
	}
}

// TestAppendCommandRoundTrip: a command encoded by appendCommand reads
// back as the array of its arguments, binary and empty ones included.
func TestAppendCommandRoundTrip(t *testing.T) {
	t.Parallel()
	args := []string{"SSUBSCRIBE", "collab:doc:{d\r\n1}", "", "\x00\xff"}
	got, err := readReply(bufio.NewReader(bytes.NewReader(appendCommand(nil, args...))))
	if err != nil {
		t.Fatal(err)
	}
	want := []any{args[0], args[1], args[2], args[3]}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %#v, want %#v", got, want)
	}
}

// FuzzReadReply: any bytes from a (broken) server give a value or an
// error, never a panic, and never a bulk beyond maxBulk.
func FuzzReadReply(f *testing.F) {
	for _, s := range []string{"+OK\r\n", "*3\r\n$8\r\nsmessage\r\n$1\r\na\r\n$1\r\nb\r\n", "$-1\r\n", "-ERR x\r\n", ":1\r\n", "*1\r\n*1\r\n*0\r\n"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		br := bufio.NewReader(bytes.NewReader(data))
		for range 16 {
			if _, err := readReply(br); err != nil {
				return
			}
		}
	})
}

func TestMovedSlot(t *testing.T) {
	for _, tc := range []struct {
		reply string
		slot  int
		ok    bool
	}{
		{"MOVED 3478 127.0.0.1:7001", 3478, true},
		{"MOVED 0 host:1", 0, true},
		{"MOVED 16384 host:1", 0, false},
		{"MOVED -1 host:1", 0, false},
		{"MOVED x host:1", 0, false},
		{"ASK 3478 127.0.0.1:7001", 0, false},
		{"CLUSTERDOWN The cluster is down", 0, false},
		{"NOPERM this user has no permissions", 0, false},
	} {
		if s, ok := movedSlot(replyError(tc.reply)); ok != tc.ok || (ok && s != tc.slot) {
			t.Errorf("movedSlot(%q) = %d, %v; want %d, %v", tc.reply, s, ok, tc.slot, tc.ok)
		}
	}
}
