// Package hub is the server side of the editing protocol: it accepts
// WebSocket connections, sequences each document's ops, stores them through
// the event log and fans them out.
//
// # Structure
//
// A room owns one open document in a single goroutine (room.go). Every
// command on the document (open, op, presence, leave), every commit
// result, lease answer and bus message passes through that goroutine, so
// versions are assigned without locks or retries: a stale op is
// transformed against the retained history, never bounced back. Rooms
// with no subscribers unload after Config.IdleTimeout, keeping memory
// bounded by the documents in use.
//
// The room only selects, dispatches and does I/O. Its state lives in
// parts that each own their fields, do no I/O and return what to send:
//
//   - sequencer (sequencer.go): text, version, history window, op-id
//     index, pending commits; admit, rebase, release in version order.
//     A pure state machine, tested without sockets or a database.
//   - ownership (ownership.go): the lease state machine below; its I/O
//     goes through leaseCalls (lease_calls.go).
//   - follower (follower.go): forwards in flight to the owner, ops held
//     while no owner is known, when the last event was heard.
//   - roster (roster.go): presence, with its update limiter.
//
// The Hub itself is the node it shares with rooms and connections
// (node.go) and a few parts around it, each in its own file: the gate
// (gate.go) lets upgrades and HTTP requests in (client address behind
// trusted proxies, the per-address socket cap, bearer tokens); the
// registry (registry.go) starts, finds and unloads rooms and owns their
// goroutines; connSet (conns.go) is the sockets served; the revoker
// (revoke.go) applies revocations and closes the sockets they name;
// commandAPI (submit_http.go, lifecycle_http.go) serves the HTTP commands.
//
// The courier (courier.go) carries a document's answers and publications
// to origins and other processes; rooms see connections only as a
// two-method subscriber (send, sendError), so room tests use recorders.
//
// A conn is one socket, with its standing under access control (access
// in access.go: identity, token, roles, expiry timers): its reader runs on a goroutine the hub starts
// after the upgrade (ServeHTTP returns, so net/http frees what it kept for
// the request) and forwards decoded requests to rooms' inboxes. Its
// writer (writer.go) owns the send queue, bounded in bytes, the frame
// writer and the one goroutine that writes to the socket; that goroutine
// runs only while there is something to send (frames, a due ping, the
// close frame) and exits after a second idle, so an idle socket costs one
// goroutine. Rooms never wait on a socket: they push already-encoded
// frames (one encoding per broadcast, shared by every recipient) and a
// connection whose queue overflows is closed with 4001 so it never slows
// anyone else.
//
// # Ops over HTTP
//
// Hub.Submit (and CommandRoutes' POST /api/v1/docs/{doc}/ops) applies
// an op without a socket, through the same room: it checks the caller's
// write role and per-user limits as a connection's reader does, opens
// the document with a catcher (submit.go), a subscriber that keeps the
// answer to its op and drops every other frame, delivers the op as a
// command, waits for the ack or refusal, and leaves. Sequencing, op-id
// idempotency, forwarding to another process's owner and the answers
// are thus the socket's own.
//
// # Rename, delete, purge
//
// Hub.Lifecycle (and CommandRoutes' rename and delete) renames or deletes a document the
// same way: a Submit of an op request carrying protocol.Lifecycle, the
// identity op and the owner role. The sequencer (lifecycle.go) takes it at
// the head like an op, so it is ordered with the edits, published as an
// event (busMsg.Life) and forwarded like an op; a delete refuses every
// later op at once, and once it commits (or is heard from the owner) the
// room tells its subscribers "gone" and forgets the text. A room that
// loads a document whose last event is a tombstone holds only its
// version and answers "gone". Purge (lifecycle_cmd.go) needs no room: a
// deleted document takes no more events, so it appends the purge event
// straight to the log, which refuses it anywhere but on top of the delete.
//
// # Commit pipeline
//
// An accepted op is appended to the log asynchronously; the store's group
// commit answers in submission order. Only then does the room apply it to
// the committed text, ack the author and broadcast it, so nothing that is
// not durable is ever shown. Several ops of one document can be in flight
// at once, which is what lets a hot document exceed one op per fsync.
//
// # Several processes
//
// With a Bus other than the default, several processes serve the same
// documents. The lease store alone decides each room's role: owning (it
// sequences, commits, then publishes each event), following (another
// process holds the lease: the room applies published events for its own
// clients and forwards their ops to the holder, resending them with the
// same id until they come back committed), or acquiring (no owner known:
// ops wait for the store's answer, and are refused with unavailable when
// it cannot be reached or does not answer within Config.CommitTimeout).
// An owner renews every third of the TTL and stops sequencing a tenth of
// the TTL before its lease could expire unrenewed; a follower checks the
// holder at the same pace, so a lease nobody holds is taken within TTL/3;
// a room that knows no owner asks every Config.ClusterTick. Ownership is
// never inferred from events: two processes that each inferred the other
// owned a document once refused its ops for good. Every transition is
// named (ownership.go), acted on in room_lease.go, counted in
// collab_ownership_transitions_total, and listed here; TestDocTable checks
// this table against the state machine:
//
//	from       event                          to         transition  the room then
//	acquiring  store: this process holds it   owning     took over   reads the log to its head, sequences held ops
//	following  store: this process holds it   owning     took over   same, and sequences its own forwards
//	owning     store: this process holds it   owning     renewed     keeps sequencing until the new deadline
//	owning     store: another process holds   following  deposed     forwards new ops to the holder
//	owning     clock: deadline passed         acquiring  lapsed      holds new ops, asks every tick
//	acquiring  store: another process holds   following  followed    forwards held ops to the holder
//	following  store: a different process     following  followed    resends its forwards to the new holder
//	following  store unreachable              acquiring  lost        holds new ops until the store answers
//	owning     store unreachable              owning     unchanged   sequences until its deadline, then lapses
//	acquiring  store unreachable              acquiring  unchanged   refuses held ops with unavailable
//
// Every event carries its version: a follower that sees a gap, a
// resubscribe signal, or nothing for Config.PositionCheck reads the shared
// log. The log's guards, not the lease, are what make a deposed owner
// harmless.
//
// # Timeouts and what may block a room
//
// Every call the hub makes to something that can hang has a bound, from a
// setting, and but for the lease release derives from a context that
// Close cancels:
//
//	call                                   bound                         where
//	lease Acquire (asked)                  lease TTL/3 (Leases.TTL)      leaseCalls, a goroutine per question
//	lease Release at unload                lease TTL/3, not cancelled    room goroutine, as it exits
//	lease Acquire at a room's first open   lease TTL/3                   room goroutine, once per load
//	directory Locate, Advertise            lease TTL/3                   room goroutine once per holder; advertiser
//	bus publish, presence Put/Remove/List  lease TTL/3 per batch         publisher goroutines
//	log reads: load, catch-up, old bases   Config.ReadTimeout            room goroutine
//	log appends                            Config.CommitTimeout          answered unavailable past it, never waited on
//	socket writes, pings, close frames     Config.WriteTimeout           writer goroutine
//	socket reads                           Config.PongWait               reader goroutine
//
// So a slow or paused Redis never blocks a room for long, but not never:
// publishing and questions to the lease store run on other goroutines,
// while the first lease question of a newly loaded document, a lookup of
// a new holder's URL and the lease release at unload are made inline, at
// most TTL/3 each (1.7 s with the default 5 s TTL). A stuck disk holds a
// room for at most ReadTimeout per read, and only when it must read the
// log: serving an op at the head or a client within the history window
// reads nothing.
//
// # Faults and bounds
//
// The store may answer an append at once (its queue full), in order, or
// not for a long time (a stuck disk): results are released in version
// order, an op not confirmed within Config.CommitTimeout is answered
// unavailable (its outcome not known yet; a resend with the same id
// settles it), and a failed commit makes the room reload from the log
// once nothing is pending, delivering what subscribers missed in order.
// Each document's history, ops waiting to be stored and catch-ups are
// bounded in bytes, each connection's inserted text by a token bucket; a
// large document's unload hands its memory back to the operating system.
//
// # Goroutines
//
// Hub.Close owns every goroutine: it cancels the rooms (each exits once its
// pending commits are answered, releasing its lease), stops the publisher
// goroutines after they send what is queued, then each connection flushes
// its queue, sends close 1001 and stops its writer. Close returns when all
// are gone, or when its ctx expires; either way it then cancels every call
// still in flight.
package hub
