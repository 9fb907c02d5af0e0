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
// Redis additionally owns go-redis PubSub connections, each with two
// goroutines behind it: go-redis's own reader (with its health check
// pinging every 3 s) feeding a Go channel, and the bus's receive loop,
// which routes each message to the queues of the channel's local
// subscribers. On one server there is one such connection. Channels are
// reference counted: the first local subscriber of a channel sends
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
// go-redis re-subscribes a PubSub connection's sharded channels in one
// SSUBSCRIBE, which Redis refuses (CROSSSLOT) for channels of different
// slots, so the bus opens one PubSub connection per hash slot in use and
// closes it with the slot's last channel. A process whose documents (and
// own process channel) span k slots holds k sharded connections plus one
// classic: at most 16,385, ~5,460 on each of 3 masters. Redis's default
// maxclients of 10,000 per node then admits only one process serving
// documents on every slot, so size maxclients to about processes × 16,384
// / masters (plus the other clients) when processes serve many thousands
// of documents each. Grouping the slots of one node on one connection,
// with our own re-subscription, would bring this down to one connection
// per master; it is not done yet.
//
// When a master dies, go-redis notices the dead connection (at once, or
// by its 3 s health check), reloads the slot map (at most 1 s later with
// redisopt's settings) and re-subscribes on the promoted replica; the
// "ssubscribe" confirmation then gives every local subscriber fn(nil).
// When a live node stops serving a slot (CLUSTER FAILOVER, resharding),
// it sends an unasked "sunsubscribe" instead and go-redis does nothing,
// since the connection is fine: the bus's repair goroutine (one per bus
// on a cluster, started by NewRedis, stopped by Close) then re-creates
// the slot's connection once go-redis's slot map names the new master,
// checking again every 0.5 s. Measured on a loopback cluster with a 1 s
// node timeout: ~3.2 s from SIGKILL of a master to fn(nil), ~0.6 s after
// a CLUSTER FAILOVER.
package fanout
