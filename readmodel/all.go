package readmodel

import "github.com/collabedit/collab/projection"

// All returns the read models the query API serves, for the projector to
// register: Docs, Search and Authorship.
func All() []projection.Projection {
	return []projection.Projection{Docs{}, Search{}, Authorship{}}
}
