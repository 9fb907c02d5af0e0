package fanout

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

// The defaults of Redis.ShardPing and Redis.ShardSilence: a shard
// connection sends PING every second and counts itself dead when nothing
// at all arrives for 3 s (three pings unanswered), as go-redis's PubSub
// health check does with its 3 s.
const (
	defaultShardPing    = time.Second
	defaultShardSilence = 3 * time.Second
)

// shardConn is one connection to one master of a cluster, carrying the
// sharded subscriptions of every slot of that master that this process
// uses: one SSUBSCRIBE per slot (Redis refuses channels of different
// slots in one), all on the same socket, so a process holds one sharded
// connection per master however many slots its documents span. It speaks
// RESP2 itself rather than through go-redis's PubSub, which re-subscribes
// a connection's channels in one SSUBSCRIBE after a reconnect; this
// connection never reconnects: when it dies, the bus's repair goroutine
// subscribes its slots again, on whichever master serves each by then.
//
// Its reader goroutine routes what arrives to the bus; its pinger sends
// PING every Redis.ShardPing. Both stop when the socket closes (close, or a
// read error), and the bus's loops WaitGroup waits for them.
type shardConn struct {
	addr string
	nc   net.Conn
	wmu  sync.Mutex // one command written at a time
	dead atomic.Bool

	mu sync.Mutex // guards slots; the reader takes it briefly
	// slots counts the channels subscribed through it, per slot.
	slots map[int]int
}

// dialShard connects to the master node with the dialer go-redis made
// for it (timeouts, keep-alive, TLS) and its credentials, and starts the
// connection's goroutines.
func (r *Redis) dialShard(ctx context.Context, node *redis.Client) (*shardConn, error) {
	opt := node.Options()
	addr := opt.Addr
	nc, err := opt.Dialer(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("fanout: dial shard %s: %w", addr, err)
	}
	// 32 KiB, as go-redis's readers: a burst of events is read in few
	// syscalls. Every read from the socket must end within ShardSilence.
	ping, silence := r.ShardPing, r.ShardSilence
	if ping <= 0 {
		ping = defaultShardPing
	}
	if silence <= 0 {
		silence = defaultShardSilence
	}
	br := bufio.NewReaderSize(silenceReader{nc, silence}, 32<<10)
	if err := authenticate(ctx, opt, nc, br); err != nil {
		_ = nc.Close()
		return nil, fmt.Errorf("fanout: shard %s: %w", addr, err)
	}
	c := &shardConn{addr: addr, nc: nc, slots: make(map[int]int)}
	stop := make(chan struct{})
	r.loops.Add(2)
	go func() {
		defer r.loops.Done()
		defer close(stop)
		r.readShard(c, br)
	}()
	go func() {
		defer r.loops.Done()
		c.ping(stop, ping)
	}()
	return c, nil
}

// silenceReader sets the read deadline before each read from the socket:
// a connection on which nothing arrives for silence (pings included) is
// dead, however long a message takes to arrive in pieces.
type silenceReader struct {
	nc      net.Conn
	silence time.Duration
}

func (r silenceReader) Read(p []byte) (int, error) {
	_ = r.nc.SetReadDeadline(time.Now().Add(r.silence))
	return r.nc.Read(p)
}

// authenticate sends AUTH on a fresh connection with the node's
// credentials, if it has any, and checks the answer.
func authenticate(ctx context.Context, opt *redis.Options, nc net.Conn, br *bufio.Reader) error {
	user, pass := opt.Username, opt.Password
	switch {
	case opt.StreamingCredentialsProvider != nil:
		// Credentials that change under a live connection need go-redis's
		// re-authentication, which a connection of our own does not have:
		// refused, rather than every SSUBSCRIBE failing NOAUTH later.
		return errors.New("credentials: StreamingCredentialsProvider is not supported for sharded pub/sub; use CredentialsProvider or CredentialsProviderContext")
	case opt.CredentialsProviderContext != nil:
		var err error
		if user, pass, err = opt.CredentialsProviderContext(ctx); err != nil {
			return fmt.Errorf("credentials: %w", err)
		}
	case opt.CredentialsProvider != nil:
		user, pass = opt.CredentialsProvider()
	}
	if pass == "" {
		return nil
	}
	args := []string{"AUTH", pass}
	if user != "" {
		args = []string{"AUTH", user, pass}
	}
	_ = nc.SetDeadline(commandDeadline(ctx))
	defer func() { _ = nc.SetDeadline(time.Time{}) }()
	if _, err := nc.Write(appendCommand(nil, args...)); err != nil {
		return fmt.Errorf("auth: %w", err)
	}
	v, err := readReply(br)
	if err != nil {
		return fmt.Errorf("auth: %w", err)
	}
	if e, ok := v.(replyError); ok {
		return fmt.Errorf("auth: %w", e)
	}
	return nil
}

// send writes one command, within subscribeTimeout or ctx. A write that
// fails closes the connection (its reader then hands its slots to the
// repair goroutine); ctx already done closes nothing.
func (c *shardConn) send(ctx context.Context, args ...string) error {
	if c.dead.Load() {
		return errShardDead
	}
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("fanout: shard %s: %s: %w", c.addr, args[0], err)
	}
	_ = c.nc.SetWriteDeadline(commandDeadline(ctx))
	if _, err := c.nc.Write(appendCommand(nil, args...)); err != nil {
		c.close() // the reader sees it and hands the slots to the repair
		return fmt.Errorf("fanout: shard %s: %s: %w", c.addr, args[0], err)
	}
	return nil
}

var errShardDead = errors.New("fanout: shard connection closed")

// commandDeadline is when a command written now must be done:
// subscribeTimeout from now, or ctx's deadline if sooner.
func commandDeadline(ctx context.Context) time.Time {
	deadline := time.Now().Add(subscribeTimeout)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	return deadline
}

// subscribe counts channels (all of slot s) on c and sends SSUBSCRIBE.
func (c *shardConn) subscribe(ctx context.Context, s int, channels ...string) error {
	c.mu.Lock()
	c.slots[s] += len(channels)
	c.mu.Unlock()
	return c.send(ctx, append([]string{"SSUBSCRIBE"}, channels...)...)
}

// unsubscribe uncounts channel (of slot s) and sends SUNSUBSCRIBE. It
// reports whether c carries nothing more (then it sends nothing: the
// caller closes c) and whether it still carries slot s.
func (c *shardConn) unsubscribe(ctx context.Context, s int, channel string) (empty, slotLeft bool, err error) {
	c.mu.Lock()
	if c.slots[s]--; c.slots[s] <= 0 {
		delete(c.slots, s)
	}
	empty, slotLeft = len(c.slots) == 0, c.slots[s] > 0
	c.mu.Unlock()
	if empty {
		return true, false, nil
	}
	return false, slotLeft, c.send(ctx, "SUNSUBSCRIBE", channel)
}

// drop uncounts slot s entirely (moved to another connection) and
// reports whether c carries nothing more.
func (c *shardConn) drop(s int) (empty bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.slots, s)
	return len(c.slots) == 0
}

// carries reports whether c carries slot s.
func (c *shardConn) carries(s int) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.slots[s] > 0
}

// movedSlot returns the slot of a "MOVED <slot> <host:port>" error.
func movedSlot(e replyError) (int, bool) {
	f := strings.Fields(string(e))
	if len(f) != 3 || f[0] != "MOVED" {
		return 0, false
	}
	s, err := strconv.Atoi(f[1])
	return s, err == nil && s >= 0 && s < 16384
}

// carried returns the slots c carries.
func (c *shardConn) carried() []int {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]int, 0, len(c.slots))
	for s := range c.slots {
		out = append(out, s)
	}
	return out
}

// close closes the socket; the reader then returns.
func (c *shardConn) close() {
	if !c.dead.Swap(true) {
		_ = c.nc.Close()
	}
}

// ping sends PING every interval until stop is closed.
func (c *shardConn) ping(stop <-chan struct{}, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
			ctx, cancel := context.WithTimeout(context.Background(), interval)
			_ = c.send(ctx, "PING")
			cancel()
		}
	}
}

// readShard routes what c receives until its socket fails or closes; the
// slots it carried then go to the repair goroutine, which subscribes
// them again wherever they are served.
func (r *Redis) readShard(c *shardConn, br *bufio.Reader) {
	for {
		v, err := readReply(br)
		if err != nil {
			if !c.dead.Load() {
				r.log.Info().Err(err).Str("node", c.addr).Msg("fanout: sharded connection lost; subscribing its slots again")
			}
			c.close()
			r.shardLost(c.carried())
			return
		}
		switch m := v.(type) {
		case []any:
			r.onShardPush(c, m)
		case replyError:
			// An SSUBSCRIBE the node refused (MOVED: the slot map was
			// stale; CLUSTERDOWN, NOPERM) or a SUNSUBSCRIBE (MOVED once
			// the slot moved). A MOVED names its slot: one c no longer
			// carries was moved off it (the answer to our SUNSUBSCRIBE
			// there), and is nothing to repair. Other errors do not say
			// which command they answer: every channel not yet confirmed
			// is subscribed again, at the repair goroutine's pace.
			s, moved := movedSlot(m)
			if moved && !c.carries(s) {
				continue
			}
			r.notice.Info().Str("node", c.addr).Str("reply", string(m)).Msg("fanout: sharded command refused; subscribing unconfirmed channels again")
			r.requeueNotLive(func(x int) bool { return !moved || x == s })
		}
	}
}

// onShardPush handles one pushed array: a message, a confirmation, a
// drop, or a pong.
func (r *Redis) onShardPush(c *shardConn, m []any) {
	if len(m) < 2 {
		return
	}
	kind, _ := m[0].(string)
	channel, _ := m[1].(string)
	switch kind {
	case "smessage":
		if len(m) == 3 {
			payload, _ := m[2].(string)
			r.deliver(channel, payload)
		}
	case "ssubscribe":
		r.confirmed(channel)
	case "sunsubscribe":
		// The answer to our SUNSUBSCRIBE of a channel without local
		// subscribers (dropped ignores it) or of a slot moved off c (it no
		// longer carries the slot), or a node dropping a channel. A
		// SUNSUBSCRIBE refused with an error has no answer, so answers
		// cannot be counted against requests: a channel subscribed again
		// since costs one needless repair.
		if c.carries(slot(channel)) {
			r.dropped(channel)
		}
	}
}
