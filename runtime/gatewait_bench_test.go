package runtime_test

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/rokflow/rokflow/internal/etcdtest"
	"github.com/rokflow/rokflow/runtime"
	"github.com/rokflow/rokflow/runtime/state"
)

// BenchmarkApprovalLatency measures how long an apply waiting at a gate
// takes to pass it after another handle on its state (another process,
// as far as the backend can tell) records an approval: from the call to
// Approve (its write and sync included) to the gate_end event. It reports the median as ms/approval; the
// invariant is at most a second.
func BenchmarkApprovalLatency(b *testing.B) {
	b.Run("file", func(b *testing.B) {
		benchApproval(b, func(f *applyFixture) string { return "" })
	})
	b.Run("etcd", func(b *testing.B) {
		srv := etcdtest.Start(b)
		n := 0
		benchApproval(b, func(f *applyFixture) string {
			n++
			return fmt.Sprintf("etcd://%s/bench%d", srv.Endpoint, n)
		})
	})
}

// benchApproval runs b.N applies that wait at a gate; url gives each a
// state URL ("" for the fixture's file backend).
func benchApproval(b *testing.B, url func(*applyFixture) string) {
	var lags []time.Duration
	for range b.N {
		f := newApplyFixture(b, strings.Replace(gatePlaybook, "%s", "", 1))
		approver := f.backend
		if u := url(f); u != "" {
			var err error
			if f.backend, err = state.Open(context.Background(), u, state.Options{}); err != nil {
				b.Fatal(err)
			}
			if approver, err = state.Open(context.Background(), u, state.Options{}); err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { f.backend.Close(); approver.Close() })
		} else {
			var err error
			if approver, err = state.Open(context.Background(), f.backend.String(), state.Options{}); err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { approver.Close() })
		}
		approved := make(chan time.Time, 1)
		h := &gateHook{onWait: func(ev runtime.Event) {
			recs, err := approver.Records(context.Background())
			if err != nil {
				b.Error(err)
				return
			}
			last := state.Fold(recs).Last()
			hold := state.Holder{User: "bob", Host: "elsewhere"}
			at := time.Now()
			if err := approver.Approve(context.Background(), state.Record{Kind: state.KindApproval, Run: last.ID, Addr: ev.Addr, PlanHash: last.PlanHash, Holder: &hold, By: "bob", How: runtime.HowApprove}); err != nil {
				b.Error(err)
			}
			approved <- at
		}}
		res := f.apply(func(o *runtime.ApplyOptions) { o.Hook, o.WaitGates = h, 30*time.Second })
		if res.Status != runtime.RunSucceeded {
			b.Fatalf("status %s: %v", res.Status, f.diags)
		}
		at := <-approved
		var end time.Time
		h.mu.Lock()
		for _, ev := range h.events {
			if ev.Type == runtime.EventGateEnd {
				end = ev.Time
			}
		}
		h.mu.Unlock()
		lags = append(lags, max(end.Sub(at), 0))
	}
	sort.Slice(lags, func(i, j int) bool { return lags[i] < lags[j] })
	med := lags[len(lags)/2]
	b.ReportMetric(float64(med.Microseconds())/1000, "ms/approval")
	if med > time.Second {
		b.Errorf("median approval latency %s, more than a second", med)
	}
}
