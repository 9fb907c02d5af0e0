package loadgen

import (
	"context"
	"fmt"
	"time"
)

// Client modes: how editors and watching readers are implemented.
const (
	// EditorsClient type with the Go client (default).
	EditorsClient = "client"
	// EditorsRaw type over a bare socket running the client's algorithm
	// on lengths instead of texts (see rawEditor): the same ops reach the
	// server, for a fraction of the load generator's CPU.
	EditorsRaw = "raw"

	// ReadersRaw watch over a bare socket and only parse each op's
	// version: a hot document sends every reader every op, and decoding
	// and applying each with the Go client would cost the shared machine
	// more than the server's fan-out does.
	ReadersRaw = "raw"
	// ReadersClient watch with the Go client (decode, transform, apply),
	// as a real Go reader would.
	ReadersClient = "client"
)

// Typists configures the typists scenario: Docs documents, each with
// Editors typing and Readers watching.
type Typists struct {
	Docs, Editors, Readers int
	// Rate is keystrokes per second per editor (a fast typist makes 5-10;
	// the hot-document target needs 20+ acked ops/s per editor).
	Rate float64
	// EditorMode is EditorsClient (default) or EditorsRaw; ReaderMode is
	// ReadersRaw (default) or ReadersClient.
	EditorMode, ReaderMode string
	// MaxLen is a soft cap on a document's length in code points: above
	// it, half the keystrokes delete words, so long runs keep documents
	// (and per-op costs) bounded. Default 20,000.
	MaxLen int
	// DocPrefix names the documents <prefix><n>. Default "lt-<run tag>-",
	// new documents on every run.
	DocPrefix string
}

func (t *Typists) setDefaults(tag string) error {
	if t.Docs <= 0 || t.Editors < 0 || t.Readers < 0 || t.Editors+t.Readers == 0 {
		return fmt.Errorf("typists: need docs > 0 and editors + readers > 0 (got %d, %d, %d)", t.Docs, t.Editors, t.Readers)
	}
	if t.Rate <= 0 && t.Editors > 0 {
		return fmt.Errorf("typists: rate must be positive")
	}
	if t.ReaderMode == "" {
		t.ReaderMode = ReadersRaw
	}
	if t.EditorMode == "" {
		t.EditorMode = EditorsClient
	}
	if t.EditorMode != EditorsRaw && t.EditorMode != EditorsClient {
		return fmt.Errorf("typists: editor mode %q: want %s or %s", t.EditorMode, EditorsClient, EditorsRaw)
	}
	if t.ReaderMode != ReadersRaw && t.ReaderMode != ReadersClient {
		return fmt.Errorf("typists: reader mode %q: want %s or %s", t.ReaderMode, ReadersRaw, ReadersClient)
	}
	if t.MaxLen <= 0 {
		t.MaxLen = 20000
	}
	if t.DocPrefix == "" {
		t.DocPrefix = "lt-" + tag + "-"
	}
	return nil
}

func (t Typists) params() map[string]any {
	return map[string]any{"docs": t.Docs, "editors": t.Editors, "readers": t.Readers, "rate": t.Rate,
		"editor_mode": t.EditorMode, "reader_mode": t.ReaderMode, "max_len": t.MaxLen, "doc_prefix": t.DocPrefix}
}

// RunTypists runs the typists scenario: every client connects (spread over
// the ramp-up), editors type for the steady window, then every edit is
// drained and convergence checked. The error is for a run that could not
// be set up; failed checks are in the report.
func RunTypists(ctx context.Context, o Options, t Typists) (*Report, error) {
	tag := runTag()
	if err := t.setDefaults(tag); err != nil {
		return nil, err
	}
	r, err := newRun(ctx, "typists", o, t.params())
	if err != nil {
		return nil, err
	}
	r.tag = tag
	p, err := r.newPopulation(t)
	if err != nil {
		r.finish()
		return nil, err
	}
	p.start(ctx)
	p.ready.Wait()
	sleepCtx(ctx, time.Until(p.t0.Add(o.RampUp)))
	r.beginSteady(ctx)
	r.holdSteady(ctx)
	r.endSteady(ctx)
	p.stopTyping()
	p.typing.Wait()
	if ctx.Err() == nil {
		r.rp.Convergence = r.convergence(ctx, p.groups)
	} else {
		r.rp.Warnings = append(r.rp.Warnings, "interrupted: convergence not checked")
	}
	p.shutdown()
	r.rp.Counts.Clients = p.clients
	return r.finish(), nil
}
