package protocol

import (
	"encoding/json"
	"fmt"

	"github.com/collabedit/collab/document"
)

// Message is any server → client message, decoded loosely (unknown fields
// ignored, as the contract requires of clients). Clients such as the Go
// client and the load tool use it; the server never decodes it.
type Message struct {
	Type    string      `json:"type"`
	Doc     string      `json:"doc,omitempty"`
	Version int64       `json:"version"`
	ID      string      `json:"id,omitempty"`
	Op      document.Op `json:"op,omitempty"`
	Author  string      `json:"author,omitempty"`
	Text    string      `json:"text,omitempty"`
	Code    Code        `json:"code,omitempty"`
	Message string      `json:"message,omitempty"`
	// presence extension
	Peer    *Peer  `json:"peer,omitempty"`
	Peers   []Peer `json:"peers,omitempty"`
	Session string `json:"session,omitempty"`
	// routing extension (moved)
	URL string `json:"url,omitempty"`
	// access-control extension (authenticated, access)
	Sub  string `json:"sub,omitempty"`
	Name string `json:"name,omitempty"`
	Exp  int64  `json:"exp,omitempty"`
	Role string `json:"role,omitempty"`
	// Guest: the connection is a share link's visitor, whose presence
	// name is its own, marked as a guest's (authenticated).
	Guest bool `json:"guest,omitempty"`
	// lifecycle extension (§19): set on the "op" of a rename or delete
	Lifecycle *Lifecycle `json:"lifecycle,omitempty"`
}

// DecodeMessage parses one server frame. Frames as this server writes them
// take a hand-written fast path (scan.go); anything else — escapes, unknown
// fields, odd spacing or numbers — is decoded by encoding/json, with the
// same result.
func DecodeMessage(data []byte) (Message, error) {
	if m, ok := scanMessage(data); ok {
		return m, nil
	}
	return decodeMessageJSON(data)
}

// decodeMessageJSON is the reference decoder the fast path must agree with.
func decodeMessageJSON(data []byte) (Message, error) {
	var m Message
	if err := json.Unmarshal(data, &m); err != nil {
		return m, fmt.Errorf("decode server message: %w", err)
	}
	if m.Type == "" {
		return m, fmt.Errorf("decode server message: missing type")
	}
	return m, nil
}

// Err returns the *Error an "error" message carries.
func (m Message) Err() *Error {
	return &Error{Code: m.Code, Message: m.Message, Doc: m.Doc, ID: m.ID, Session: m.Session}
}
