package state

import (
	"encoding/json"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
)

// BenchmarkAppend measures one Append of one step record, made durable, by
// one writer and by 16 concurrent writers (ns/op is per record either
// way). The etcd server is embedded, with fsync, on loopback.
func BenchmarkAppend(b *testing.B) {
	cases := []struct {
		name string
		url  func(b *testing.B) string
	}{
		{"mem", func(b *testing.B) string { return "mem://" }},
		{"file", func(b *testing.B) string { return b.TempDir() }},
		{"etcd", func(b *testing.B) string { return etcdURL(benchEtcd.endpoint(b), uniquePrefix(b)) }},
	}
	out := json.RawMessage(`{"type":"object","value":{"master":"node1.rok","version":"0.11.0"}}`)
	for _, bc := range cases {
		for _, writers := range []int{1, 16} {
			b.Run(fmt.Sprintf("%s/writers=%d", bc.name, writers), func(b *testing.B) {
				be, err := Open(b.Context(), bc.url(b), Options{})
				if err != nil {
					b.Fatal(err)
				}
				defer be.Close()
				s, err := be.Lock(b.Context(), alice)
				if err != nil {
					b.Fatal(err)
				}
				var next atomic.Int64
				var wg sync.WaitGroup
				b.ResetTimer()
				for w := range writers {
					wg.Go(func() {
						r := Record{Kind: KindStep, Run: "r1", Addr: fmt.Sprintf(`group.slaves["node%d"].step.upgrade_node`, w), Status: Succeeded, Attempt: 1, Outputs: out}
						for next.Add(1) <= int64(b.N) {
							if err := s.Append(b.Context(), r); err != nil {
								b.Error(err)
								return
							}
						}
					})
				}
				wg.Wait()
				b.StopTimer()
				switch s := s.(type) {
				case *fileSession:
					b.ReportMetric(float64(s.syncs.Load())/float64(b.N), "fsyncs/op")
				case *etcdSession:
					b.ReportMetric(float64(s.txns.Load())/float64(b.N), "txns/op")
				}
				if err := s.Unlock(b.Context()); err != nil {
					b.Fatal(err)
				}
			})
		}
	}
}
