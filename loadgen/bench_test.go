package loadgen

import (
	"testing"
	"time"

	"github.com/collabedit/collab/document"
	"github.com/collabedit/collab/protocol"
)

// The per-delivery path of a raw reader: on a hot document it runs for
// every op times every reader (a million times a second at the issue-5
// target), on the same cores as the server.
//
//	go test -run '^$' -bench . -benchmem ./loadgen/
func BenchmarkScanFrame(b *testing.B) {
	frame := protocol.AppendOp(nil, "lt-abcde-0", 123456, "abcdee12:345", "abcdee12", document.Op{{Retain: 1234}, {Insert: "x"}})
	b.ReportAllocs()
	for b.Loop() {
		if _, _, ok := scanFrame(frame); !ok {
			b.Fatal("not scanned")
		}
	}
}

// BenchmarkDecodeMessage is the alternative scanFrame avoids.
func BenchmarkDecodeMessage(b *testing.B) {
	frame := protocol.AppendOp(nil, "lt-abcde-0", 123456, "abcdee12:345", "abcdee12", document.Op{{Retain: 1234}, {Insert: "x"}})
	b.ReportAllocs()
	for b.Loop() {
		if _, err := protocol.DecodeMessage(frame); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkReceived(b *testing.B) {
	rec := newRecorder()
	rec.beginSteady()
	snd := newSender(rec, "d", 0)
	rcv := newReceiver(rec, "d", 1)
	for v := range int64(ringSize) {
		snd.acked(v, time.Millisecond)
	}
	b.ReportAllocs()
	v := int64(0)
	for b.Loop() {
		rcv.received(v % ringSize)
		v++
	}
}

func BenchmarkKeystroke(b *testing.B) {
	ty := newTypist(1, 0, 20000)
	b.ReportAllocs()
	for b.Loop() {
		_, commit := ty.keystroke()
		commit()
	}
}
