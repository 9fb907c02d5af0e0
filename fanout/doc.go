// Package fanout implements hub.Bus, the channel between server processes
// that carries committed events and forwarded commands: Memory within one
// process, Redis across processes through Redis pub/sub.
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
// delivers a message (Memory.Publish, or the Redis receive loop) only
// appends to that queue and never waits for fn, so a slow subscriber
// delays nobody else. When the queue is full the message is dropped and,
// once the subscriber catches up, it gets fn(nil). The goroutine is
// started by Subscribe and stopped by the returned cancel, or by Close;
// both wait for a running fn to return, so neither may be called from
// inside fn.
//
// Redis additionally owns, per bus, one shared go-redis PubSub connection
// and two goroutines behind it: go-redis's own reader (with its health
// check pinging every 3 s) feeding a Go channel, and the bus's receive
// loop, which routes each message to the queues of the channel's local
// subscribers. Channels are reference counted: the first local subscriber
// of a channel sends SUBSCRIBE and the last cancel sends UNSUBSCRIBE, so
// a process holds one Redis subscription per channel however many local
// subscribers it has. NewRedis starts the loop; Close closes the PubSub,
// which ends both goroutines, waits for the loop, then stops every
// dispatcher.
package fanout
