// Package trace loads real-world editing traces (the sequential traces of
// Joseph Gentle's editing-traces collection, CC BY 4.0) for replay tests and
// benchmarks of the document package.
//
// A trace file is JSON, optionally gzipped:
//
//	{"startContent": "", "endContent": "...",
//	 "txns": [{"time": "...", "patches": [[pos, delCount, "inserted"], ...]}, ...]}
//
// Each patch deletes delCount code points at pos and then inserts the
// string there; patches apply in order, and applying all of them to
// startContent yields endContent. Two traces, automerge-paper and
// seph-blog1, are kept in the repository in trace/testdata (with their
// attribution in its README.md); Dir finds that directory from anywhere
// in a clone, or wherever $COLLAB_TRACES_DIR points.
package trace
