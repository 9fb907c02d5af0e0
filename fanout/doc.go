// Package fanout implements hub.Bus, the channel between server processes
// that carries committed events and forwarded commands: Memory within one
// process, Redis across processes through Redis pub/sub, on one Redis
// server or a Redis Cluster.
//
// Delivery is at most once. Nothing relies on it for correctness: a
// subscriber that is told fn(nil) (subscription established, re-established
// after a lost connection, or messages dropped because it fell behind)
// checks its position against the shared log.
//
// # Goroutines
//
// Every subscription owns one dispatcher goroutine that calls fn, in
// order, from a queue bounded to queueLen (1024) messages. Whoever
// delivers a message (Memory.Publish, or a Redis receive loop) only
// appends to that queue and never waits for fn, so a slow subscriber
// delays nobody else. When the queue is full the message is dropped and,
// once the subscriber catches up, it gets fn(nil). The goroutine is
// started by Subscribe and stopped by the returned cancel, or by Close;
// both wait for a running fn to return, so neither may be called from
// inside fn.
//
// Redis additionally owns one go-redis PubSub connection for classic
// channels, with two goroutines behind it: go-redis's own reader (with its
// health check pinging every 3 s) feeding a Go channel, and the bus's
// receive loop, which routes each message to the queues of the channel's
// local subscribers. On one server that is the only connection. Channels
// are reference counted: the first local subscriber of a channel sends
// SUBSCRIBE and the last cancel sends UNSUBSCRIBE, so a process holds one
// Redis subscription per channel however many local subscribers it has.
// The first Subscribe opens a connection; Close closes them all, which
// ends their goroutines, waits for the loops, then stops every
// dispatcher.
//
// # On a Redis Cluster
//
// A channel with a hash tag (the hub's collab:doc:{doc} and
// collab:proc:{process} on a cluster) uses sharded pub/sub: SPUBLISH goes
// to the master of the tag's slot only, where the document's lease and
// presence keys live too, so a document's traffic loads one shard rather
// than crossing the cluster bus to every node as PUBLISH does. A channel
// without a tag (collab:revoke) stays classic, broadcast by the cluster
// to every node; it carries a few messages a day, and its subscribers can
// be on any node. Its messages all enter at one node (the master of the
// name's slot), since the cluster bus relays messages that entered at
// different nodes in no particular order.
//
// Sharded channels do not use go-redis's PubSub: after a reconnect it
// re-subscribes all of a connection's sharded channels in one SSUBSCRIBE,
// which Redis refuses (CROSSSLOT) for channels of different slots, so it
// could carry only one slot per connection: up to 16,384 per process, more
// than a node's default maxclients of 10,000 with two processes serving
// many documents. The bus speaks RESP2 itself on one connection per
// master (shard.go, resp.go): one SSUBSCRIBE per slot, all on that socket,
// a reader goroutine routing "smessage", "ssubscribe" and "sunsubscribe"
// pushes, and a pinger sending PING every ShardPing (1 s); ShardSilence
// (3 s) without a byte, a read error or a failed write, and the
// connection is dead. It is never reconnected in place: its slots go to
// the repair goroutine (one per bus on a cluster, started by NewRedis,
// stopped by Close), which subscribes them again on the connection to
// each slot's master of the moment, after asking that master once whether
// it serves them (go-redis's slot map may be stale; it is reloaded if so,
// and the slots are tried again every 0.5 s until Redis confirms every
// channel). A slot's first subscription trusts the slot map; a master
// that refuses it (MOVED) sends it to the repair goroutine too. The
// "ssubscribe" confirmation then gives every local subscriber fn(nil).
// Replies about a slot already moved off a connection (the answer to the
// SUNSUBSCRIBE sent there, or its MOVED) are ignored: they are not drops.
//
// A live node that stops serving a slot (CLUSTER FAILOVER, resharding)
// sends an unasked "sunsubscribe" for its channels; the repair goroutine
// moves that slot the same way. A master's death is seen by the read
// error or the silence, and its slots move once the replica is promoted.
// Measured on a loopback cluster with a 1 s node timeout: ~3.0 s from
// SIGKILL of a master to fn(nil), 0.5–0.8 s after a CLUSTER FAILOVER or a
// slot's move (TestRedisClusterFailoverResyncs, TestRedisClusterHandover).
package fanout
