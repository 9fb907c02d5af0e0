package loadgen

import (
	"context"
	"fmt"
	"sync"
	"time"
	"unicode/utf8"
)

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
		case isEditor && p.t.EditorMode == EditorsRaw:
			e := p.startRawEditor(ctx, i, doc)
			p.ready.Done()
			if e != nil {
				e.typeUntil(p.typeCtx, p.r.rec, p.t.Rate, p.r.opts.Seed+uint64(i)+1<<32)
			}
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
		p.r.rec.connectFailed(describeFailure(err))
		return nil
	}
	p.r.rec.connected(i, lat)
	ty.reset(utf8.RuneCountInString(gd.d.Text()))
	p.addGo(doc, gd)
	return &editor{goDoc: gd, t: ty}
}

func (p *population) connectClientReader(ctx context.Context, i int, doc string) {
	gd, lat, err := p.r.openGoDoc(ctx, i, "r", doc, p.goDl, hooks{rcv: newReceiver(p.r.rec, doc, i)})
	if err != nil {
		p.r.rec.connectFailed(describeFailure(err))
		return
	}
	p.r.rec.connected(i, lat)
	p.addGo(doc, gd)
}

func (p *population) connectRawReader(ctx context.Context, i int, doc string) *rawReader {
	rr := p.r.newRawReader(i, doc, p.rawD)
	if err := rr.connect(ctx, false); err != nil {
		p.r.rec.connectFailed(describeFailure(err))
		return nil
	}
	p.addRaw(doc, rr)
	return rr
}

// startRawEditor connects a raw editor and starts its reader goroutine.
func (p *population) startRawEditor(ctx context.Context, i int, doc string) *rawEditor {
	e, err := p.connectRawEditor(ctx, i, doc)
	if err != nil {
		p.r.rec.connectFailed(describeFailure(err))
		return nil
	}
	p.mu.Lock()
	p.groupLocked(doc).rawEds = append(p.groupLocked(doc).rawEds, e)
	p.mu.Unlock()
	p.reading.Go(e.run)
	return e
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
	var eds []*rawEditor
	for _, g := range p.groups {
		gds = append(gds, g.goDocs...)
		raws = append(raws, g.raws...)
		eds = append(eds, g.rawEds...)
	}
	for _, rr := range raws {
		rr.close()
	}
	for _, e := range eds {
		e.close()
	}
	parallel(len(gds), 64, func(i int) {
		_ = gds[i].c.Close()
		p.r.rec.disconnected()
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
	for _, e := range eds {
		e.rcv.flush()
	}
}
