package redistest

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/collabedit/collab/internal/poll"
)

// The cluster's timers. Production clusters run with a node timeout of
// 15 s; 1 s makes a failover take ~2-3 s instead of ~20 s, so a test can
// kill a master and wait for its replica.
const (
	// NodeTimeout is cluster-node-timeout: how long a master may be
	// unreachable before the others mark it failed and its replica is
	// elected (after a further 0.5-1 s of election delay).
	NodeTimeout = time.Second
	// clusterReadyTimeout bounds cluster creation and every wait for the
	// cluster to settle after a failover. Creation takes ~2 s on an idle
	// machine (gossip converging on 6 nodes); a loaded CI machine under
	// -race is many times slower.
	clusterReadyTimeout = 60 * time.Second
	// createTimeout bounds redis-cli --cluster create, which returns once
	// every node has joined (~1-2 s).
	createTimeout = 60 * time.Second
	// commandTimeout bounds one command of the helpers below.
	commandTimeout = 2 * time.Second
)

// clusterArgs are the redis-server arguments of a cluster node whose
// cluster bus listens on cport.
func clusterArgs(cport int) []string {
	return []string{
		"--cluster-enabled", "yes",
		"--cluster-config-file", "nodes.conf", // in --dir, one per node
		"--cluster-port", strconv.Itoa(cport),
		"--cluster-node-timeout", strconv.FormatInt(NodeTimeout.Milliseconds(), 10),
		// A replica may be promoted however stale its data: tests kill
		// masters right after writing, and refusing to fail over would
		// leave the slots uncovered.
		"--cluster-replica-validity-factor", "0",
	}
}

// Cluster is a Redis Cluster of redis-server child processes on
// loopback: masters with replicas, each node a Server with its own port,
// cluster bus port and temporary directory. StartCluster creates it; the
// test's Cleanup stops every node.
type Cluster struct {
	tb    testing.TB
	nodes []*Server
}

// StartCluster starts masters*(1+replicasPerMaster) nodes, joins them
// with redis-cli --cluster create (which spreads the 16384 hash slots
// evenly over the masters and gives each master its replicas), and waits
// until every node reports cluster_state:ok and every replica is in sync
// with its master. masters must be at least 3, as Redis requires.
func StartCluster(tb testing.TB, masters, replicasPerMaster int) *Cluster {
	tb.Helper()
	if masters < 3 || replicasPerMaster < 0 {
		tb.Fatalf("redistest: StartCluster(%d, %d): need 3 or more masters", masters, replicasPerMaster)
	}
	cli := lookPath(tb, "redis-cli")
	c := &Cluster{tb: tb}
	for i := 0; i < masters*(1+replicasPerMaster); i++ {
		c.nodes = append(c.nodes, start(tb, true))
	}
	args := []string{"--cluster", "create"}
	args = append(args, c.Addrs()...)
	args = append(args, "--cluster-replicas", strconv.Itoa(replicasPerMaster), "--cluster-yes")
	ctx, cancel := context.WithTimeout(context.Background(), createTimeout)
	defer cancel()
	if out, err := exec.CommandContext(ctx, cli, args...).CombinedOutput(); err != nil {
		tb.Fatalf("redistest: redis-cli --cluster create: %v\n%s", err, out)
	}
	c.WaitHealthy()
	return c
}

// Nodes returns every node, masters and replicas, in creation order
// (redis-cli makes the first ones masters, but a failover changes roles).
func (c *Cluster) Nodes() []*Server { return c.nodes }

// Addrs returns every node's host:port, the seed list of a cluster client.
func (c *Cluster) Addrs() []string {
	addrs := make([]string, len(c.nodes))
	for i, n := range c.nodes {
		addrs[i] = n.Addr()
	}
	return addrs
}

// URL returns redis+cluster://host:port,host:port,…, the form
// redisopt.ParseCluster accepts, listing every node.
func (c *Cluster) URL() string { return "redis+cluster://" + strings.Join(c.Addrs(), ",") }

// MasterOf returns the node currently serving key's hash slot as master,
// as the first live node sees it.
func (c *Cluster) MasterOf(key string) *Server {
	c.tb.Helper()
	n := c.live()
	if len(n) == 0 {
		c.tb.Fatal("redistest: no live cluster node")
	}
	addr, err := slotMaster(n[0].Addr(), key)
	if err != nil {
		c.tb.Fatalf("redistest: master of %q: %v", key, err)
	}
	for _, s := range c.nodes {
		if s.Addr() == addr {
			return s
		}
	}
	c.tb.Fatalf("redistest: master of %q is %s, not a node of this cluster", key, addr)
	return nil
}

// KillMasterOf stops the master serving key's slot with SIGKILL, as a
// crashed host would, and returns it. Its replica is promoted about
// NodeTimeout plus 0.5-1 s later; WaitFailover waits for that.
func (c *Cluster) KillMasterOf(key string) *Server {
	c.tb.Helper()
	m := c.MasterOf(key)
	m.Kill()
	return m
}

// FailoverOf promotes a replica of the master serving key's slot with
// CLUSTER FAILOVER, the planned handover of a maintenance: the old master
// stays up, as a replica. It returns the old master; WaitFailover waits
// for the handover.
func (c *Cluster) FailoverOf(key string) *Server {
	c.tb.Helper()
	m := c.MasterOf(key)
	repl := c.ReplicasOf(m)
	if len(repl) == 0 {
		c.tb.Fatalf("redistest: master %s of %q has no replica", m.Addr(), key)
	}
	if _, err := command(repl[0].Addr(), "CLUSTER", "FAILOVER"); err != nil {
		c.tb.Fatalf("redistest: CLUSTER FAILOVER on %s: %v", repl[0].Addr(), err)
	}
	return m
}

// ReplicasOf returns the live replicas of master m, each as it sees
// itself in CLUSTER NODES.
func (c *Cluster) ReplicasOf(m *Server) []*Server {
	c.tb.Helper()
	id := c.must(m.Addr(), "CLUSTER", "MYID")
	var out []*Server
	for _, n := range c.live() {
		for _, line := range strings.Split(c.must(n.Addr(), "CLUSTER", "NODES"), "\n") {
			f := strings.Fields(line)
			if len(f) > 3 && strings.Contains(f[2], "myself") && strings.Contains(f[2], "slave") && f[3] == id {
				out = append(out, n)
			}
		}
	}
	return out
}

// WaitFailover waits until every live node sees a live master, other
// than old, serving key's slot, and reports cluster_state:ok.
func (c *Cluster) WaitFailover(key string, old *Server) {
	c.tb.Helper()
	c.wait(fmt.Sprintf("failover of %q away from %s", key, old.Addr()), func() error {
		for _, n := range c.live() {
			addr, err := slotMaster(n.Addr(), key)
			if err != nil {
				return err
			}
			if addr == old.Addr() {
				return fmt.Errorf("%s still sees %s as master", n.Addr(), addr)
			}
		}
		return c.healthy()
	})
}

// WaitHealthy waits until every live node reports cluster_state:ok and
// every live replica's link to its master is up.
func (c *Cluster) WaitHealthy() {
	c.tb.Helper()
	c.wait("cluster_state:ok on every node", c.healthy)
}

// wait polls cond until it returns nil, failing the test with its last
// error after clusterReadyTimeout.
func (c *Cluster) wait(what string, cond func() error) {
	c.tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), clusterReadyTimeout)
	defer cancel()
	var err error
	if !poll.Wait(ctx, func() bool { err = cond(); return err == nil }) {
		c.tb.Fatalf("redistest: timed out after %v waiting for %s: %v", clusterReadyTimeout, what, err)
	}
}

// healthy reports why the cluster is not settled yet, or nil.
func (c *Cluster) healthy() error {
	for _, n := range c.live() {
		info, err := command(n.Addr(), "CLUSTER", "INFO")
		if err != nil {
			return err
		}
		if !strings.Contains(info, "cluster_state:ok") {
			return fmt.Errorf("%s: %s", n.Addr(), firstLine(info))
		}
		repl, err := command(n.Addr(), "INFO", "replication")
		if err != nil {
			return err
		}
		if strings.Contains(repl, "role:slave") && !strings.Contains(repl, "master_link_status:up") {
			return fmt.Errorf("%s: replica not in sync with its master", n.Addr())
		}
	}
	return nil
}

// live returns the nodes that answer: neither killed nor paused (a paused
// node would only time out the questions asked of it).
func (c *Cluster) live() []*Server {
	var out []*Server
	for _, n := range c.nodes {
		n.mu.Lock()
		alive := n.proc != nil && !n.paused
		n.mu.Unlock()
		if alive {
			out = append(out, n)
		}
	}
	return out
}

// slotMaster asks the node at addr which master serves key's slot, from
// CLUSTER NODES: "<id> <ip:port@cport> <flags> <master> <ping> <pong>
// <epoch> <link> <slot ranges>…".
func slotMaster(addr, key string) (string, error) {
	s, err := command(addr, "CLUSTER", "KEYSLOT", key)
	if err != nil {
		return "", err
	}
	slot, err := strconv.Atoi(s)
	if err != nil {
		return "", fmt.Errorf("CLUSTER KEYSLOT: %q", s)
	}
	nodes, err := command(addr, "CLUSTER", "NODES")
	if err != nil {
		return "", err
	}
	for _, line := range strings.Split(nodes, "\n") {
		f := strings.Fields(line)
		if len(f) < 9 || !strings.Contains(f[2], "master") || strings.Contains(f[2], "fail") {
			continue
		}
		for _, r := range f[8:] {
			lo, hi, ok := strings.Cut(r, "-")
			if !ok {
				hi = lo
			}
			a, err1 := strconv.Atoi(lo)
			b, err2 := strconv.Atoi(hi)
			if err1 == nil && err2 == nil && a <= slot && slot <= b {
				host, _, _ := strings.Cut(f[1], "@")
				return host, nil
			}
		}
	}
	return "", fmt.Errorf("%s knows no live master of slot %d", addr, slot)
}

// command sends one command in RESP over a fresh connection and returns
// its reply: a simple string, an integer or a bulk string as text, a
// Redis error as an error, an array as its elements joined by newlines
// (ambiguous for elements holding a newline, which the commands used
// here never return).
func command(addr string, args ...string) (string, error) {
	replies, err := commands(addr, args)
	if err != nil {
		return "", err
	}
	return replies[0], nil
}

// commands sends several commands over one fresh connection, in order,
// and returns their replies (as command does); the first error ends it.
// One connection matters for commands about the connection's own writes,
// such as WAIT.
func commands(addr string, cmds ...[]string) ([]string, error) {
	c, err := net.DialTimeout("tcp", addr, commandTimeout)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(commandTimeout))
	rd := bufio.NewReader(c)
	var out []string
	for _, args := range cmds {
		var b strings.Builder
		fmt.Fprintf(&b, "*%d\r\n", len(args))
		for _, a := range args {
			fmt.Fprintf(&b, "$%d\r\n%s\r\n", len(a), a)
		}
		if _, err := io.WriteString(c, b.String()); err != nil {
			return out, err
		}
		reply, err := readReply(rd, addr)
		if err != nil {
			return out, err
		}
		out = append(out, reply)
	}
	return out, nil
}

// readReply reads one reply of the kinds command returns; an array (of
// such replies) comes back as its elements joined by newlines.
func readReply(rd *bufio.Reader, addr string) (string, error) {
	line, err := rd.ReadString('\n')
	if err != nil {
		return "", err
	}
	line = strings.TrimRight(line, "\r\n")
	if line == "" {
		return "", errors.New("empty reply")
	}
	switch line[0] {
	case '+', ':':
		return line[1:], nil
	case '-':
		return "", fmt.Errorf("%s: %s", addr, line[1:])
	case '$':
		n, err := strconv.Atoi(line[1:])
		if err != nil || n < 0 {
			return "", fmt.Errorf("bulk reply %q", line)
		}
		buf := make([]byte, n+2)
		if _, err := io.ReadFull(rd, buf); err != nil {
			return "", err
		}
		return string(buf[:n]), nil
	case '*':
		n, err := strconv.Atoi(line[1:])
		if err != nil {
			return "", fmt.Errorf("array reply %q", line)
		}
		elems := make([]string, 0, max(n, 0))
		for range n {
			e, err := readReply(rd, addr)
			if err != nil {
				return "", err
			}
			elems = append(elems, e)
		}
		return strings.Join(elems, "\n"), nil
	}
	return "", fmt.Errorf("unexpected reply %q", line)
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return strings.TrimSpace(line)
}
