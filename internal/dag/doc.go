// Package dag holds algorithms on directed acyclic graphs given as
// predecessor lists over node indices: today the transitive reduction
// that `rokflow graph` draws, so that an edge says "waits for" only where
// no longer path already says it.
//
// It knows nothing of plans, addresses or rendering; the caller maps its
// nodes to indices and back. It imports nothing of rokflow's.
package dag
