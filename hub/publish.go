package hub

import (
	"context"
	"hash/maphash"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/collabedit/collab/fanout"
)

// publisher sends bus messages without blocking rooms. A Redis PUBLISH is a
// network round trip (≈ 50-100 µs on loopback); done inline it would cap a
// hot document at ~10-20k ops/s and stall it whenever Redis is slow.
// Messages are sharded by document over a few goroutines so each
// document's events stay in order (receivers treat a reordering as a gap
// and read the log, which is correct but slower).
type publisher struct {
	bus     Bus
	solo    bool // nobody could receive: send is a no-op
	m       *metrics
	log     zerolog.Logger
	io      context.Context // the hub's I/O context
	timeout time.Duration   // per batch
	seed    maphash.Seed
	shards  []chan pubItem
	wg      sync.WaitGroup
}

type pubItem struct {
	channel string
	msg     []byte
	fn      func(context.Context) error // instead of a publish: a presence store write
}

const (
	pubShards   = 4
	pubQueueLen = 4096
)

func newPublisher(bus Bus, solo bool, m *metrics, log zerolog.Logger, io context.Context, timeout time.Duration) *publisher {
	p := &publisher{bus: bus, solo: solo, m: m, log: log, io: io, timeout: timeout, seed: maphash.MakeSeed()}
	for i := 0; i < pubShards; i++ {
		ch := make(chan pubItem, pubQueueLen)
		p.shards = append(p.shards, ch)
		p.wg.Add(1)
		go func() {
			defer p.wg.Done()
			p.run(ch)
		}()
	}
	return p
}

// publish queues msg for channel; key picks the shard (the document). If
// the shard is full the message is dropped: receivers recover from the log.
func (p *publisher) publish(key, channel string, msg []byte) {
	p.enqueue(key, pubItem{channel: channel, msg: msg})
}

// send encodes m and publishes it, unless this process is alone (then
// nobody could receive it and even the encoding is skipped).
func (p *publisher) send(key, channel string, m busMsg) {
	if p.solo {
		return
	}
	p.publish(key, channel, m.encode())
}

// do runs fn on key's shard, after what was queued before it: presence
// store writes go here so a slow Redis never blocks a room.
func (p *publisher) do(key string, fn func(context.Context) error) {
	p.enqueue(key, pubItem{fn: fn})
}

func (p *publisher) enqueue(key string, it pubItem) {
	ch := p.shards[maphash.String(p.seed, key)%pubShards]
	select {
	case ch <- it:
	default:
		p.m.publishDropped.Add(1)
	}
}

// batchPublisher is implemented by buses that can send several messages in
// one round trip (fanout.Redis).
type batchPublisher interface {
	PublishBatch(ctx context.Context, channels []string, msgs [][]byte) error
}

// Without this check, a change to fanout.Redis's batch method would
// quietly send every event with its own round trip again.
var _ batchPublisher = (*fanout.Redis)(nil)

// maxBatch bounds one pipelined publish: 256 events of ~100 bytes is a
// 25 KB write, large enough to amortise the round trip, small enough not
// to delay the first message behind it.
const maxBatch = 256

func (p *publisher) run(ch chan pubItem) {
	var batch []pubItem
	for it := range ch {
		batch = append(batch[:0], it)
	drain:
		for len(batch) < maxBatch {
			select {
			case more, ok := <-ch:
				if !ok {
					break drain
				}
				batch = append(batch, more)
			default:
				break drain
			}
		}
		p.flush(batch)
		clear(batch)
	}
}

// flush sends a batch in order: runs of publishes go out together, store
// writes (fn) run in their place.
func (p *publisher) flush(batch []pubItem) {
	// A third of the lease TTL, like every call to Redis: a batch stuck on
	// a paused Redis must not hold the forwards and replies queued behind
	// it past the time the documents need to change hands (with the
	// earlier fixed 2 s, a batch sent just before Redis resumed delayed
	// them by up to 2 s after it). Dropped messages are recovered: events
	// from the log, forwards by their resends.
	ctx, cancel := context.WithTimeout(p.io, p.timeout)
	defer cancel()
	for len(batch) > 0 {
		n := 1
		var err error
		if batch[0].fn != nil {
			err = batch[0].fn(ctx)
		} else {
			for n < len(batch) && batch[n].fn == nil {
				n++
			}
			err = p.publishRun(ctx, batch[:n])
		}
		if err != nil {
			p.m.publishFailed.Add(uint64(n))
			p.log.Debug().Err(err).Int("messages", n).Msg("publish failed")
		}
		batch = batch[n:]
	}
}

func (p *publisher) publishRun(ctx context.Context, run []pubItem) error {
	bp, ok := p.bus.(batchPublisher)
	if !ok || len(run) == 1 {
		for _, it := range run {
			if err := p.bus.Publish(ctx, it.channel, it.msg); err != nil {
				return err
			}
		}
		return nil
	}
	channels, msgs := make([]string, len(run)), make([][]byte, len(run))
	for i, it := range run {
		channels[i], msgs[i] = it.channel, it.msg
	}
	return bp.PublishBatch(ctx, channels, msgs)
}

// close stops the publisher after sending what is queued.
func (p *publisher) close() {
	for _, ch := range p.shards {
		close(ch)
	}
	p.wg.Wait()
}
