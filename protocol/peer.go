package protocol

// Peer is one editing session's presence in a document: what the roster
// and presence messages carry (docs/protocol.md §13), what a presence
// message from a client is decoded into, and what presence.Redis keeps as
// JSON under these same field names. It is ephemeral: never written to
// the event log, and gone within one presence TTL (15 s by default) unless
// refreshed.
//
// Peer is a plain value; copy the Selection too when a copy must not
// share it.
type Peer struct {
	Session   string     `json:"session"`             // the client id: random per editing session
	Name      string     `json:"name,omitempty"`      // display name
	Color     string     `json:"color,omitempty"`     // CSS colour, e.g. "#e91e63"
	Selection *Selection `json:"selection,omitempty"` // nil: no cursor shown
	Version   int64      `json:"version"`             // document version Selection refers to
}
