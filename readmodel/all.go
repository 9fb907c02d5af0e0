package readmodel

import "github.com/collabedit/collab/projection"

// All returns new instances of the read models the query API serves, for
// the projector to register: Docs, Search and Authorship, each with its
// own in-memory cache (one instance per read-model database).
func All() []projection.Projection {
	return []projection.Projection{NewDocs(), NewSearch(), NewAuthorship()}
}
