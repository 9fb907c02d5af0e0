package protocol

// Document lifecycle (extension, docs/protocol.md §19). Rename and delete
// are events of the document's stream like ops: they take a version, so a
// client's stream stays gap-free, and reach subscribers as an "op" message
// whose op is the identity [] plus a "lifecycle" object, which a v1 client
// applies as a no-op and ignores. A delete is followed by an "error" with
// CodeGone, after which the document sends nothing more.

// CodeGone (extension, §19) refuses an open or op of a deleted document.
// It is not in Codes, the v1 table, which stays as the contract wrote it.
const CodeGone Code = "gone"

// The lifecycle kinds a client can see.
const (
	LifecycleRename = "rename"
	LifecycleDelete = "delete"
)

// Lifecycle is what a lifecycle event did: its kind and, for a rename, the
// new title ("" goes back to the first line of the text).
type Lifecycle struct {
	Kind  string `json:"kind"`
	Title string `json:"title,omitempty"`
}

// AppendLifecycle appends the "op" message of a lifecycle event:
// {"type":"op","doc":…,"version":…,"id":…,"op":[],"author":…,
// "lifecycle":{"kind":…,"title":…}}; author is left out when empty and
// title unless the kind is a rename.
func AppendLifecycle(dst []byte, doc string, version int64, id, author string, lc Lifecycle) []byte {
	dst = AppendOp(dst, doc, version, id, author, nil)
	dst = append(dst[:len(dst)-1], `,"lifecycle":{"kind":`...)
	dst = AppendString(dst, lc.Kind)
	if lc.Kind == LifecycleRename {
		dst = append(dst, `,"title":`...)
		dst = AppendString(dst, lc.Title)
	}
	return append(dst, `}}`...)
}
