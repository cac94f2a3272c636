package state

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

// A backendCase opens fresh, empty journals of one backend.
type backendCase struct {
	name string
	// url returns the URL of a journal no other test uses.
	url  func(t *testing.T) string
	opts Options
}

func open(t *testing.T, url string, opts Options) Backend {
	t.Helper()
	b, err := Open(t.Context(), url, opts)
	if err != nil {
		t.Fatalf("Open(%s): %v", url, err)
	}
	t.Cleanup(func() { b.Close() })
	return b
}

func lock(t *testing.T, b Backend, h Holder) Session {
	t.Helper()
	s, err := b.Lock(t.Context(), h)
	if err != nil {
		t.Fatalf("Lock: %v", err)
	}
	return s
}

func records(t *testing.T, b Backend) []Record {
	t.Helper()
	recs, err := b.Records(t.Context())
	if err != nil {
		t.Fatalf("Records: %v", err)
	}
	return recs
}

var alice = Holder{User: "alice", Host: "ops1", PID: 4242, Operation: "apply playbooks/rok-v0.11"}

func stepRec(run, addr string, st Status) Record {
	return Record{Kind: KindStep, Run: run, Addr: addr, Status: st}
}

// checkSeq checks that the journal records of recs are numbered 1..n.
func checkSeq(t *testing.T, recs []Record) {
	t.Helper()
	n := uint64(0)
	for _, r := range recs {
		if r.Kind == KindApproval && r.Seq == 0 {
			continue
		}
		n++
		if r.Seq != n {
			t.Fatalf("record %d has seq %d", n, r.Seq)
		}
		if r.Schema != SchemaVersion {
			t.Fatalf("record %d has schema %d", n, r.Schema)
		}
	}
}

// testConformance runs the behaviour every backend shares.
func testConformance(t *testing.T, bc backendCase) {
	t.Run("Empty", func(t *testing.T) {
		b := open(t, bc.url(t), bc.opts)
		if recs := records(t, b); len(recs) != 0 {
			t.Fatalf("records of a new journal: %v", recs)
		}
		if h, err := b.Holder(t.Context()); err != nil || h != nil {
			t.Fatalf("Holder = %v, %v; want nil", h, err)
		}
		if h, err := b.BreakLock(t.Context()); err != nil || h != nil {
			t.Fatalf("BreakLock of no lock = %v, %v", h, err)
		}
	})

	t.Run("AppendOrderAndFields", func(t *testing.T) {
		b := open(t, bc.url(t), bc.opts)
		s := lock(t, b, alice)
		at := time.Date(2026, 5, 1, 10, 0, 0, 123456789, time.UTC)
		out := json.RawMessage(`{"master":"node1","members":["node1","node2"]}`)
		first := []Record{{Kind: KindRun, Run: "r1", PlanHash: "h1", Playbook: "rok-v0.11", Holder: &alice, Time: at}}
		if err := s.Append(t.Context(), first...); err != nil {
			t.Fatal(err)
		}
		if first[0].Seq != 1 || first[0].Schema != SchemaVersion {
			t.Fatalf("Append wrote back seq %d schema %d", first[0].Seq, first[0].Schema)
		}
		batch := []Record{
			stepRec("r1", `step.find_master`, Running),
			{Kind: KindStep, Run: "r1", Addr: `step.find_master`, Status: Succeeded, Attempt: 1, Outputs: out, Handle: "job-17"},
			{Kind: KindObligation, Run: "r1", Addr: `step.pin`, Undo: `step.unpin`, UndoAddrs: []string{`step.unpin["a"]`, `step.unpin["b"]`}, Status: Held, Reason: "nodes run mixed releases"},
		}
		if err := s.Append(t.Context(), batch...); err != nil {
			t.Fatal(err)
		}
		if err := s.Append(t.Context(), Record{Kind: KindEnd, Run: "r1", Status: Paused}); err != nil {
			t.Fatal(err)
		}
		recs := records(t, b)
		if len(recs) != 5 {
			t.Fatalf("%d records, want 5", len(recs))
		}
		checkSeq(t, recs)
		if !recs[0].Time.Equal(at) || recs[0].Holder == nil || *recs[0].Holder != alice || recs[0].Playbook != "rok-v0.11" {
			t.Errorf("run record round-trip: %+v", recs[0])
		}
		if got := recs[2]; got.Handle != "job-17" || got.Attempt != 1 || got.Status != Succeeded || string(got.Outputs) != string(out) {
			t.Errorf("step record round-trip: %+v", got)
		}
		if got := recs[3]; got.Kind != KindObligation || got.Undo != `step.unpin` || got.Status != Held || got.Reason != "nodes run mixed releases" ||
			len(got.UndoAddrs) != 2 || got.UndoAddrs[1] != `step.unpin["b"]` {
			t.Errorf("obligation round-trip: %+v", got)
		}
		if recs[1].Time.IsZero() {
			t.Errorf("Time not filled in")
		}
		if err := s.Unlock(t.Context()); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("ConcurrentAppends", func(t *testing.T) {
		b := open(t, bc.url(t), bc.opts)
		s := lock(t, b, alice)
		const writers, each = 8, 25
		var wg sync.WaitGroup
		errs := make(chan error, writers)
		for w := range writers {
			wg.Go(func() {
				for i := range each {
					r := stepRec("r1", fmt.Sprintf("w%d", w), Running)
					r.Attempt = i + 1
					if err := s.Append(t.Context(), r, r); err != nil {
						errs <- err
						return
					}
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		recs := records(t, b)
		if len(recs) != 2*writers*each {
			t.Fatalf("%d records, want %d", len(recs), 2*writers*each)
		}
		checkSeq(t, recs)
		next := map[string]int{}
		for i := 0; i < len(recs); i += 2 {
			a, c := recs[i], recs[i+1]
			if a.Addr != c.Addr || a.Attempt != c.Attempt {
				t.Fatalf("one Append's records were split: %+v / %+v", a, c)
			}
			next[a.Addr]++
			if a.Attempt != next[a.Addr] {
				t.Fatalf("writer %s: attempt %d after %d", a.Addr, a.Attempt, next[a.Addr]-1)
			}
		}
	})

	t.Run("ReadAndApproveWithoutLock", func(t *testing.T) {
		url := bc.url(t)
		b := open(t, url, bc.opts)
		other := open(t, url, bc.opts) // another terminal
		s := lock(t, b, alice)
		if err := s.Append(t.Context(), Record{Kind: KindRun, Run: "r1", PlanHash: "h1"}); err != nil {
			t.Fatal(err)
		}
		bob := Holder{User: "bob", Host: "laptop"}
		if err := other.Approve(t.Context(), Record{Run: "r1", Addr: `group.slaves["node2"].step.swap_boot`, Holder: &bob, PlanHash: "h1"}); err != nil {
			t.Fatal(err)
		}
		if err := other.Approve(t.Context(), Record{Kind: KindStep, Addr: "x"}); err == nil {
			t.Error("Approve took a step record")
		}
		if err := s.Append(t.Context(), stepRec("r1", "step.a", Running)); err != nil {
			t.Fatal(err)
		}
		recs := records(t, other)
		if len(recs) != 3 {
			t.Fatalf("%d records, want 3: %+v", len(recs), recs)
		}
		checkSeq(t, recs)
		a := recs[2]
		if a.Kind != KindApproval || a.Seq != 0 || a.Addr != `group.slaves["node2"].step.swap_boot` || a.Holder == nil || a.Holder.User != "bob" || a.PlanHash != "h1" || a.Time.IsZero() {
			t.Fatalf("approval read back as %+v", a)
		}
		if err := s.Unlock(t.Context()); err != nil {
			t.Fatal(err)
		}
		// Approvals need no lock at all.
		if err := other.Approve(t.Context(), Record{Addr: "step.b"}); err != nil {
			t.Fatal(err)
		}
		if recs := records(t, b); len(recs) != 4 || recs[3].Addr != "step.b" {
			t.Fatalf("second approval: %+v", recs)
		}
	})

	t.Run("AppendAfterUnlock", func(t *testing.T) {
		b := open(t, bc.url(t), bc.opts)
		s := lock(t, b, alice)
		if err := s.Append(t.Context(), stepRec("r1", "a", Running)); err != nil {
			t.Fatal(err)
		}
		if err := s.Unlock(t.Context()); err != nil {
			t.Fatal(err)
		}
		if err := s.Append(t.Context(), stepRec("r1", "a", Succeeded)); !errors.Is(err, ErrLockLost) {
			t.Fatalf("Append after Unlock = %v, want ErrLockLost", err)
		}
		select {
		case <-s.Lost():
		default:
			t.Fatal("Lost not closed after Unlock")
		}
		if err := s.Unlock(t.Context()); err != nil {
			t.Fatalf("second Unlock: %v", err)
		}
		if recs := records(t, b); len(recs) != 1 {
			t.Fatalf("%d records, want 1", len(recs))
		}
		if h, _ := b.Holder(t.Context()); h != nil {
			t.Fatalf("Holder after Unlock = %v", h)
		}
	})

	t.Run("SecondLockFails", func(t *testing.T) {
		url := bc.url(t)
		b := open(t, url, bc.opts)
		other := open(t, url, bc.opts)
		s := lock(t, b, alice)
		h, err := other.Holder(t.Context())
		if err != nil || h == nil || h.User != "alice" || h.PID != 4242 || h.ID == "" || h.Since.IsZero() {
			t.Fatalf("Holder = %+v, %v", h, err)
		}
		_, err = other.Lock(t.Context(), Holder{User: "bob", Host: "laptop", PID: 7})
		var le *LockedError
		if !errors.As(err, &le) {
			t.Fatalf("second Lock = %v, want *LockedError", err)
		}
		if le.Holder.User != "alice" || le.Holder.Host != "ops1" || le.Holder.PID != 4242 || le.Holder.Operation != alice.Operation {
			t.Fatalf("LockedError names %+v", le.Holder)
		}
		for _, want := range []string{"alice@ops1", "pid 4242", "since ", "(apply playbooks/rok-v0.11)"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("%q does not say %q", err, want)
			}
		}
		// The failed Lock changed nothing.
		if err := s.Append(t.Context(), stepRec("r1", "a", Running)); err != nil {
			t.Fatal(err)
		}
		if err := s.Unlock(t.Context()); err != nil {
			t.Fatal(err)
		}
		s2 := lock(t, other, Holder{User: "bob"})
		if err := s2.Unlock(t.Context()); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("BreakLockThenLock", func(t *testing.T) {
		url := bc.url(t)
		b := open(t, url, bc.opts)
		unlock := open(t, url, bc.opts) // rokflow unlock
		s := lock(t, b, alice)
		if err := s.Append(t.Context(), stepRec("r1", "a", Running)); err != nil {
			t.Fatal(err)
		}
		h, err := unlock.BreakLock(t.Context())
		if err != nil || h == nil || h.User != "alice" {
			t.Fatalf("BreakLock = %+v, %v", h, err)
		}
		if err := s.Append(t.Context(), stepRec("r1", "a", Succeeded)); !errors.Is(err, ErrLockLost) {
			t.Fatalf("Append of a broken session = %v, want ErrLockLost", err)
		}
		select {
		case <-s.Lost():
		default:
			t.Fatal("Lost not closed after a fenced write failed")
		}
		s2 := lock(t, unlock, Holder{User: "bob"})
		var recs []Record
		if err := s2.Append(t.Context(), stepRec("r2", "a", Running)); err != nil {
			t.Fatal(err)
		}
		if err := s.Append(t.Context(), stepRec("r1", "zombie", Running)); !errors.Is(err, ErrLockLost) {
			t.Fatalf("zombie Append = %v", err)
		}
		recs = records(t, b)
		if len(recs) != 2 || recs[1].Run != "r2" {
			t.Fatalf("records: %+v", recs)
		}
		checkSeq(t, recs)
		if err := s.Unlock(t.Context()); err != nil {
			t.Fatalf("Unlock of a broken session: %v", err)
		}
		if h, _ := b.Holder(t.Context()); h == nil || h.User != "bob" {
			t.Fatalf("the broken session's Unlock touched its successor's lock: holder %v", h)
		}
		if err := s2.Unlock(t.Context()); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("SeqContinuesAcrossSessions", func(t *testing.T) {
		url := bc.url(t)
		b := open(t, url, bc.opts)
		s := lock(t, b, alice)
		if err := s.Append(t.Context(), stepRec("r1", "a", Running), stepRec("r1", "a", Succeeded)); err != nil {
			t.Fatal(err)
		}
		if err := s.Unlock(t.Context()); err != nil {
			t.Fatal(err)
		}
		b2 := open(t, url, bc.opts) // a later rokflow
		s = lock(t, b2, alice)
		r := []Record{stepRec("r1", "b", Running)}
		if err := s.Append(t.Context(), r...); err != nil {
			t.Fatal(err)
		}
		if r[0].Seq != 3 {
			t.Fatalf("seq %d after two records, want 3", r[0].Seq)
		}
		checkSeq(t, records(t, b2))
		if err := s.Unlock(t.Context()); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("InvalidRecordsWriteNothing", func(t *testing.T) {
		b := open(t, bc.url(t), bc.opts)
		s := lock(t, b, alice)
		bad := [][]Record{
			{stepRec("r1", "a", Running), {Kind: "stpe", Run: "r1"}},
			{{Kind: KindStep, Addr: "a"}},
			{{Kind: KindStep, Run: "r1", Outputs: json.RawMessage(`{"a":`)}},
			{{Kind: KindStep, Run: "r1", Schema: SchemaVersion + 1}},
		}
		for _, recs := range bad {
			if err := s.Append(t.Context(), recs...); err == nil {
				t.Errorf("Append(%+v) took it", recs)
			}
		}
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		if err := s.Append(ctx, stepRec("r1", "a", Running)); !errors.Is(err, context.Canceled) {
			t.Errorf("Append with a cancelled context = %v", err)
		}
		if recs := records(t, b); len(recs) != 0 {
			t.Fatalf("invalid Appends wrote %+v", recs)
		}
		if err := s.Append(t.Context(), stepRec("r1", "a", Running)); err != nil {
			t.Fatalf("the session broke after invalid Appends: %v", err)
		}
		if err := s.Unlock(t.Context()); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("CloseUnlocks", func(t *testing.T) {
		url := bc.url(t)
		b, err := Open(t.Context(), url, bc.opts)
		if err != nil {
			t.Fatal(err)
		}
		s := lock(t, b, alice)
		if err := b.Close(); err != nil {
			t.Fatal(err)
		}
		if err := s.Append(t.Context(), stepRec("r1", "a", Running)); !errors.Is(err, ErrLockLost) {
			t.Fatalf("Append after Close = %v", err)
		}
		s2 := lock(t, open(t, url, bc.opts), alice)
		if err := s2.Unlock(t.Context()); err != nil {
			t.Fatal(err)
		}
	})
}

var memSeq struct {
	sync.Mutex
	n int
}

func TestMemoryConformance(t *testing.T) {
	testConformance(t, backendCase{name: "mem", url: func(t *testing.T) string {
		memSeq.Lock()
		defer memSeq.Unlock()
		memSeq.n++
		return fmt.Sprintf("mem://conformance-%d", memSeq.n)
	}})
}

func TestFileConformance(t *testing.T) {
	testConformance(t, backendCase{name: "file", url: func(t *testing.T) string {
		return "file://" + t.TempDir()
	}})
}

func TestEtcdConformance(t *testing.T) {
	ep := sharedEtcd(t)
	testConformance(t, backendCase{name: "etcd", opts: Options{testTTL: 2 * time.Second}, url: func(t *testing.T) string {
		return "etcd://" + ep + "/" + uniquePrefix(t)
	}})
}
