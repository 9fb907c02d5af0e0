package hub

import (
	"encoding/json"
	"fmt"

	"github.com/collabedit/collab/presence"
)

// Kinds of message between processes.
const (
	msgEvent   = "ev"    // a committed event, on the document's channel
	msgForward = "fwd"   // a client's op forwarded to the owner's process channel
	msgReply   = "reply" // the owner's answer to a forwarded op, to the origin's channel
	msgPeer    = "pr"    // a peer's presence changed, on the document's channel
	msgLeft    = "pl"    // a peer left (ID is its session), on the document's channel
)

// busMsg is one message between processes. Events carry their version, so
// a receiver detects a gap and reads the shared log; every other field is
// what the receiver needs to act without another lookup.
type busMsg struct {
	Kind    string          `json:"k"`
	Doc     string          `json:"d"`
	Version int64           `json:"v"`
	ID      string          `json:"id,omitempty"`
	Author  string          `json:"a,omitempty"`
	Op      json.RawMessage `json:"op,omitempty"`
	Proc    string          `json:"p"`           // ev, fwd: the op's origin process; reply: its target
	Conn    string          `json:"c,omitempty"` // the origin connection
	Owner   string          `json:"o,omitempty"` // ev: the process that sequenced it
	Frame   string          `json:"f,omitempty"` // reply: the protocol frame to send to Conn
	Peer    *presence.Peer  `json:"pe,omitempty"`
}

func docChannel(doc string) string   { return "collab:doc:" + doc }
func procChannel(proc string) string { return "collab:proc:" + proc }

func decodeBusMsg(data []byte) (busMsg, error) {
	var m busMsg
	if err := json.Unmarshal(data, &m); err != nil {
		return m, fmt.Errorf("decode bus message: %w", err)
	}
	if m.Doc == "" || m.Kind == "" {
		return m, fmt.Errorf("decode bus message: missing kind or doc")
	}
	return m, nil
}

func (m busMsg) encode() []byte {
	b, _ := json.Marshal(m) // only strings, ints and valid raw JSON
	return b
}
