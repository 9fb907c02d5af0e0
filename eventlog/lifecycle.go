package eventlog

import (
	"encoding/json"
	"fmt"
)

// Kind says what an event does to its document.
type Kind string

// The event kinds. A lifecycle event (every kind but Op) takes a version
// like an op, so the document's stream stays one gap-free sequence that
// every reader already follows, and carries the identity op [] so that
// replaying a document's ops needs no special case.
const (
	// Op edits the text: the zero value.
	Op Kind = ""
	// Rename gives the document a title (Meta {"title":…}) that lists
	// show instead of its first line; an empty title goes back to the
	// first line.
	Rename Kind = "rename"
	// Delete is the tombstone: after it the document takes no more
	// events but a Purge, cannot be opened, and leaves the lists; its
	// history stays readable until purged.
	Delete Kind = "delete"
	// Purge erases a deleted document: when it commits, every earlier
	// event and snapshot of the document is deleted in the same
	// transaction, and only the purge event itself remains, so the id
	// stays taken and followers of the log learn to forget the document.
	Purge Kind = "purge"
)

// Valid reports whether k is one of the kinds above.
func (k Kind) Valid() bool {
	switch k {
	case Op, Rename, Delete, Purge:
		return true
	}
	return false
}

// Tombstone reports whether a document whose last event is of kind k is
// deleted (or purged): it takes no more edits and cannot be opened.
func (k Kind) Tombstone() bool { return k == Delete || k == Purge }

// RenameMeta is the Meta of a Rename event.
type RenameMeta struct {
	Title string `json:"title"`
}

// MaxTitle is the longest title a rename may set, in bytes: a title is a
// label in a list, and 200 bytes (~ two lines of a list) is plenty.
const MaxTitle = 200

// RenameEvent returns the Meta of a rename to title.
func RenameEvent(title string) ([]byte, error) {
	if len(title) > MaxTitle {
		return nil, fmt.Errorf("rename: title of %d bytes, over %d: %w", len(title), MaxTitle, ErrInvalid)
	}
	return json.Marshal(RenameMeta{Title: title})
}

// Title returns the title a rename event sets.
func (e Event) Title() (string, error) {
	if e.Kind != Rename {
		return "", fmt.Errorf("title of a %q event: %w", e.Kind, ErrInvalid)
	}
	var m RenameMeta
	if err := json.Unmarshal(e.Meta, &m); err != nil {
		return "", fmt.Errorf("title of doc %q version %d: %w", e.Doc, e.Version, err)
	}
	return m.Title, nil
}

// nullBytes binds nil as SQL NULL and anything else as a BLOB.
func nullBytes(b []byte) any {
	if b == nil {
		return nil
	}
	return b
}
