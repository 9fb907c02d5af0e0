package presence

// Selection is a caret or selection in code points; Anchor == Head is a
// caret.
type Selection struct {
	Anchor int `json:"anchor"`
	Head   int `json:"head"`
}

// Peer is one editing session's presence in a document. It is ephemeral:
// never written to the event log.
type Peer struct {
	Session   string     `json:"session"`             // the client id: random per editing session
	Name      string     `json:"name,omitempty"`      // display name
	Color     string     `json:"color,omitempty"`     // CSS colour, e.g. "#e91e63"
	Selection *Selection `json:"selection,omitempty"` // nil: no cursor shown
	Version   int64      `json:"version"`             // document version Selection refers to
}
