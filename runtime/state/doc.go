// Package state keeps the durable journal of an apply run and the run
// lock: the records the executor writes before each dependent step starts,
// the approvals operators give from anywhere, and who holds the lock.
//
// It owns the Record and Holder formats (versioned by SchemaVersion), the
// Backend and Session contracts, and three backends chosen by URL in Open:
//
//   - file (the default, DIR = .rokflow beside the playbook): DIR/journal.jsonl
//     holds one record a line as "<crc32c hex> <json>"; Appends are
//     group-committed, one write and one fsync for all the Appends waiting.
//     A torn tail (what a crash mid-write leaves) is ignored by readers and
//     cut off by the next Lock; a damaged line with good lines after it is
//     a *CorruptError naming the line, never skipped. The lock is
//     flock(2) on DIR/lock, held for the session's life, so the kernel
//     frees it when the holder dies; DIR/holder.json says who holds it.
//     Approvals are appended to DIR/approvals.jsonl with O_APPEND and
//     fsync, without the lock.
//   - etcd (etcd://host:port,…/prefix): a record per key, PREFIX/journal/<seq>;
//     the lock is a concurrency.Mutex on a lease with a 10–15 s TTL, and
//     every Append is one transaction fenced on still owning it, so a
//     run that lost its lock (lease expired, lock broken) can never write.
//     Writes are idempotent and retried through leader changes.
//   - memory (mem://), for tests and benchmarks: no durability, the same
//     semantics, fencing included.
//
// Reading needs no lock: Records returns the journal in Seq order, then
// the approvals (Seq 0) in the order they were given. A newer rokflow
// reads the records of an older one; an older one refuses newer records
// (*SchemaError) rather than misread them.
//
// A Session's Append is the only way to write the journal. An invalid
// record is refused before anything is written; any other error ends the
// run's writing: ErrLockLost means another run may hold the lock, so the
// run must stop acting, and other errors leave the records' fate unknown,
// so the run stops and a later one reads what landed.
//
// The package does not interpret records (the executor in package runtime
// does: which run to resume, which steps are in doubt), nor mask secrets
// (Outputs arrive masked), nor print anything.
package state
