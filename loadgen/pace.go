package loadgen

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"
)

// Paces of a replay.
const (
	PaceFull = "full" // every patch as soon as the engine can send it
	PaceReal = "real" // the trace's own transaction times
)

// pacer decides when each patch of a replay is sent.
type pacer struct {
	rate    float64         // > 0: patches per second
	offsets []time.Duration // per patch, since the start; nil: full speed
}

// newPacer parses pace: "full", "real" or "<n>/s". Real time needs the
// trace file's transaction times; pauses longer than maxGap are cut to it
// and all are divided by speed.
func newPacer(pace, path string, maxGap time.Duration, speed float64) (*pacer, error) {
	switch {
	case pace == "" || pace == PaceFull:
		return &pacer{}, nil
	case pace == PaceReal:
		offs, err := patchOffsets(path, maxGap, speed)
		if err != nil {
			return nil, err
		}
		return &pacer{offsets: offs}, nil
	case strings.HasSuffix(pace, "/s"):
		rate, err := strconv.ParseFloat(strings.TrimSuffix(pace, "/s"), 64)
		if err != nil || rate <= 0 {
			return nil, fmt.Errorf("pace %q: want a positive rate like 50/s", pace)
		}
		return &pacer{rate: rate}, nil
	}
	return nil, fmt.Errorf("pace %q: want %s, %s or <n>/s", pace, PaceFull, PaceReal)
}

// wait blocks until patch k is due (the run started at start) and
// reports false if ctx ended first. Waits under a millisecond are
// skipped: the timer cannot do better, and a burst keeps the pace.
func (p *pacer) wait(ctx context.Context, k int, start time.Time) bool {
	var at time.Duration
	switch {
	case p.rate > 0:
		at = time.Duration(float64(k) / p.rate * float64(time.Second))
	case p.offsets != nil && k < len(p.offsets):
		at = p.offsets[k]
	default:
		return ctx.Err() == nil
	}
	if d := time.Until(start.Add(at)); d > time.Millisecond {
		return sleepCtx(ctx, d)
	}
	return ctx.Err() == nil
}

// patchOffsets reads a trace's transaction times (package trace keeps
// only the patches) and returns each patch's send time: the pauses
// between transactions, each at most maxGap, divided by speed. The
// automerge-paper trace's times are synthetic (all 260k patches within
// 0.3 s), so real time is full speed there; seph-blog1's are real and
// span three months, hence the cap.
func patchOffsets(path string, maxGap time.Duration, speed float64) ([]time.Duration, error) {
	if speed <= 0 {
		speed = 1
	}
	var ff struct {
		Txns []struct {
			Time    string      `json:"time"`
			Patches []skipValue `json:"patches"`
		} `json:"txns"`
	}
	if err := readJSON(path, &ff); err != nil {
		return nil, err
	}
	var offs []time.Duration
	var at time.Duration
	var prev time.Time
	for i, tx := range ff.Txns {
		t, err := time.Parse(time.RFC3339Nano, tx.Time)
		if err != nil {
			return nil, fmt.Errorf("trace %s: transaction %d: time: %w", path, i, err)
		}
		if i > 0 {
			gap := min(max(t.Sub(prev), 0), maxGap)
			at += time.Duration(float64(gap) / speed)
		}
		prev = t
		for range tx.Patches {
			offs = append(offs, at)
		}
	}
	return offs, nil
}

// skipValue is a JSON value decoded for its presence only.
type skipValue struct{}

// UnmarshalJSON ignores the value (encoding/json has validated it).
func (*skipValue) UnmarshalJSON([]byte) error { return nil }

// readJSON decodes a JSON file, gzipped or not, into v.
func readJSON(path string, v any) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("trace: %w", err)
	}
	defer f.Close()
	br := bufio.NewReaderSize(f, 64<<10)
	var r io.Reader = br
	if magic, _ := br.Peek(2); bytes.Equal(magic, []byte{0x1f, 0x8b}) {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return fmt.Errorf("trace %s: %w", path, err)
		}
		defer zr.Close()
		r = zr
	}
	if err := json.NewDecoder(r).Decode(v); err != nil {
		return fmt.Errorf("trace %s: %w", path, err)
	}
	return nil
}
