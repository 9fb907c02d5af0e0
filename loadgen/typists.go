package loadgen

import (
	"context"
	"fmt"
	"sync"
	"time"
	"unicode/utf8"
)

// Reader modes: how watching clients are implemented.
const (
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
	// ReaderMode is ReadersRaw (default) or ReadersClient.
	ReaderMode string
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
		"reader_mode": t.ReaderMode, "max_len": t.MaxLen, "doc_prefix": t.DocPrefix}
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

// population is a typists run's clients and the goroutines that drive them.
type population struct {
	r          *run
	t          Typists
	goDl, rawD *dialers
	t0         time.Time
	clients    int

	typeCtx    context.Context
	stopTyping context.CancelFunc
	readCtx    context.Context
	stopRead   context.CancelFunc
	ready      sync.WaitGroup // one per client: connected or failed
	typing     sync.WaitGroup // editors' goroutines
	reading    sync.WaitGroup // raw readers' goroutines

	mu     sync.Mutex
	groups map[string]*docGroup
}

func (r *run) newPopulation(t Typists) (*population, error) {
	goDl, err := r.dialers(0)
	if err != nil {
		return nil, err
	}
	// Readers get a 64 KB read buffer: a hot document sends each about
	// 200 KB/s, and a larger buffer takes it in fewer system calls.
	rawD, err := r.dialers(64 << 10)
	if err != nil {
		return nil, err
	}
	p := &population{r: r, t: t, goDl: goDl, rawD: rawD, groups: make(map[string]*docGroup),
		clients: t.Docs * (t.Editors + t.Readers)}
	p.typeCtx, p.stopTyping = context.WithCancel(context.Background())
	p.readCtx, p.stopRead = context.WithCancel(context.Background())
	return p, nil
}

// start launches one goroutine per client, editors first, each document's
// clients interleaved with the others', starts spread over the ramp-up.
func (p *population) start(ctx context.Context) {
	p.t0 = time.Now()
	i := 0
	for _, editorRole := range []bool{true, false} {
		per := p.t.Readers
		if editorRole {
			per = p.t.Editors
		}
		for k := 0; k < per; k++ {
			for d := 0; d < p.t.Docs; d++ {
				at := p.t0.Add(time.Duration(int64(p.r.opts.RampUp) * int64(i) / int64(max(p.clients, 1))))
				p.launch(ctx, i, fmt.Sprintf("%s%d", p.t.DocPrefix, d), editorRole, at)
				i++
			}
		}
	}
}

func (p *population) launch(ctx context.Context, i int, doc string, isEditor bool, at time.Time) {
	p.ready.Add(1)
	wg := &p.reading
	if isEditor {
		wg = &p.typing
	}
	wg.Go(func() {
		ok := sleepCtx(ctx, time.Until(at))
		switch {
		case !ok:
			p.ready.Done()
		case isEditor:
			e := p.connectEditor(ctx, i, doc)
			p.ready.Done()
			if e != nil {
				e.typeUntil(p.typeCtx, p.r.rec, p.t.Rate, p.r.opts.Seed+uint64(i)+1<<32)
			}
		case p.t.ReaderMode == ReadersClient:
			p.connectClientReader(ctx, i, doc)
			p.ready.Done()
		default:
			rr := p.connectRawReader(ctx, i, doc)
			p.ready.Done()
			if rr != nil {
				rr.run(p.readCtx)
			}
		}
	})
}

func (p *population) connectEditor(ctx context.Context, i int, doc string) *editor {
	ty := newTypist(p.r.opts.Seed+uint64(i), 0, p.t.MaxLen)
	h := hooks{snd: newSender(p.r.rec, doc, i), rcv: newReceiver(p.r.rec, doc, i), typist: ty}
	gd, lat, err := p.r.openGoDoc(ctx, i, "e", doc, p.goDl, h)
	if err != nil {
		p.r.rec.ConnectFailed(describeFailure(err))
		return nil
	}
	p.r.rec.Connected(i, lat)
	ty.reset(utf8.RuneCountInString(gd.d.Text()))
	p.addGo(doc, gd)
	return &editor{goDoc: gd, t: ty}
}

func (p *population) connectClientReader(ctx context.Context, i int, doc string) {
	gd, lat, err := p.r.openGoDoc(ctx, i, "r", doc, p.goDl, hooks{rcv: newReceiver(p.r.rec, doc, i)})
	if err != nil {
		p.r.rec.ConnectFailed(describeFailure(err))
		return
	}
	p.r.rec.Connected(i, lat)
	p.addGo(doc, gd)
}

func (p *population) connectRawReader(ctx context.Context, i int, doc string) *rawReader {
	rr := p.r.newRawReader(i, doc, p.rawD)
	if err := rr.connect(ctx, false); err != nil {
		p.r.rec.ConnectFailed(describeFailure(err))
		return nil
	}
	p.addRaw(doc, rr)
	return rr
}

// addGo and addRaw file a connected client under its document.
func (p *population) addGo(doc string, gd *goDoc) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.groupLocked(doc).goDocs = append(p.groupLocked(doc).goDocs, gd)
}

func (p *population) addRaw(doc string, rr *rawReader) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.groupLocked(doc).raws = append(p.groupLocked(doc).raws, rr)
}

func (p *population) groupLocked(doc string) *docGroup {
	g := p.groups[doc]
	if g == nil {
		g = &docGroup{}
		p.groups[doc] = g
	}
	return g
}

// shutdown closes every client and waits for the readers' goroutines.
func (p *population) shutdown() {
	p.stopRead()
	var gds []*goDoc
	var raws []*rawReader
	for _, g := range p.groups {
		gds = append(gds, g.goDocs...)
		raws = append(raws, g.raws...)
	}
	for _, rr := range raws {
		rr.close()
	}
	parallel(len(gds), 64, func(i int) {
		_ = gds[i].c.Close()
		p.r.rec.Disconnected()
	})
	p.reading.Wait()
	for _, gd := range gds {
		if gd.rcv != nil {
			gd.rcv.flush()
		}
	}
	for _, rr := range raws {
		rr.rcv.flush()
	}
}
