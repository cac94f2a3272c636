package runtime_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	goruntime "runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/zclconf/go-cty/cty"

	"github.com/rokflow/rokflow/internal/etcdtest"
	"github.com/rokflow/rokflow/lang"
	"github.com/rokflow/rokflow/runtime"
	"github.com/rokflow/rokflow/runtime/state"
	"github.com/rokflow/rokflow/steps"
	"github.com/rokflow/rokflow/steps/builtin"
	"github.com/rokflow/rokflow/steps/stepstest"
	"github.com/rokflow/rokflow/steps/transport/local"
)

// writeNoopPlaybook writes n independent no-op step instances.
func writeNoopPlaybook(tb testing.TB, n int, kind string, body string) string {
	dir := tb.TempDir()
	keys := make([]string, n)
	for i := range keys {
		keys[i] = fmt.Sprintf("%q", fmt.Sprintf("k%05d", i))
	}
	src := fmt.Sprintf("step \"s\" {\n  uses     = %q\n  for_each = [%s]\n%s}\n", kind, strings.Join(keys, ","), body)
	if err := os.WriteFile(filepath.Join(dir, "main.hcl"), []byte(src), 0o644); err != nil {
		tb.Fatal(err)
	}
	return dir
}

// memProbe measures the heap the executor holds at the end of a run.
type memProbe struct {
	base  uint64
	held  uint64
	mu    sync.Mutex
	count int
}

func (m *memProbe) Event(ev runtime.Event) {
	if ev.Type != runtime.EventRunEnd {
		return
	}
	var ms goruntime.MemStats
	goruntime.GC()
	goruntime.ReadMemStats(&ms)
	m.mu.Lock()
	m.held = ms.HeapAlloc - min(ms.HeapAlloc, m.base)
	m.mu.Unlock()
}

func benchApply(b *testing.B, dir string, reg *steps.Registry, url string, parallelism int, instances int) {
	pb, diags := lang.Load(dir)
	if diags.HasErrors() {
		b.Fatal(diags)
	}
	vals, _ := lang.BindInputs(pb.Root, lang.NewInputSet(), false)
	hosts := func(context.Context, string, cty.Value) (steps.Host, error) { return local.New(), nil }
	// apply runs one whole run on a fresh journal; only Apply is timed.
	apply := func(hook runtime.Hook) time.Duration {
		b.StopTimer()
		u := url
		if strings.Contains(u, "%d") {
			u = fmt.Sprintf(url, time.Now().UnixNano())
		}
		backend, err := state.Open(context.Background(), u, state.Options{})
		if err != nil {
			b.Fatal(err)
		}
		defer backend.Close()
		sess, err := backend.Lock(context.Background(), state.Holder{User: "bench"})
		if err != nil {
			b.Fatal(err)
		}
		defer sess.Unlock(context.Background())
		b.StartTimer()
		start := time.Now()
		res, diags := runtime.Apply(context.Background(), pb, reg, runtime.ApplyOptions{
			Plan:        runtime.Options{Inputs: vals, Hosts: hosts},
			Parallelism: parallelism,
			Backend:     backend,
			Session:     sess,
			Hook:        hook,
		})
		took := time.Since(start)
		b.StopTimer()
		if res == nil || res.Status != runtime.RunSucceeded {
			b.Fatalf("run: %v %v", res, diags)
		}
		return took
	}
	// The heap the executor holds is measured on a run of its own: the
	// probe collects garbage at the end of the run, which is not the
	// executor's time.
	probe := &memProbe{}
	var ms goruntime.MemStats
	goruntime.GC()
	goruntime.ReadMemStats(&ms)
	probe.base = ms.HeapAlloc
	apply(probe)
	b.ResetTimer()
	b.StartTimer()
	var total time.Duration
	for i := 0; b.Loop(); i++ {
		took := apply(nil)
		total += took
		if os.Getenv("BENCH_TRACE") != "" {
			println("run", i, took.Milliseconds())
		}
		b.StartTimer()
	}
	b.ReportMetric(float64(total.Nanoseconds())/float64(b.N)/float64(instances), "ns/step")
	b.ReportMetric(float64(probe.held)/float64(instances), "heldB/step")
}

// noopKind does nothing and remembers nothing: a Recorder would keep every
// request of every run, and the benchmark would measure that.
type noopKind struct{ schema *steps.Schema }

func (k noopKind) Schema() *steps.Schema { return k.schema }

func (noopKind) Plan(context.Context, steps.PlanRequest) steps.PlanResponse {
	return steps.PlanResponse{Summary: "nothing"}
}

func (noopKind) Run(context.Context, steps.RunRequest) steps.RunResponse {
	return steps.RunResponse{Outputs: cty.EmptyObjectVal}
}

func noopRegistry(b *testing.B) *steps.Registry {
	s := stepstest.RecorderSchema("noop")
	s.Target = steps.TargetNone
	s.Outputs = nil
	reg, err := steps.NewRegistry(noopKind{schema: s})
	if err != nil {
		b.Fatal(err)
	}
	return reg
}

// BenchmarkApplyNoop10k runs 10,000 no-op step instances at parallelism 16
// with each journal: the executor's own cost per step.
func BenchmarkApplyNoop10k(b *testing.B) {
	const n = 10000
	dir := writeNoopPlaybook(b, n, "noop", "")
	reg := noopRegistry(b)
	// An unnamed memory store, so that runs do not pile up in the
	// process's named stores.
	b.Run("mem", func(b *testing.B) { benchApply(b, dir, reg, "mem://", 16, n) })
	b.Run("file", func(b *testing.B) {
		base := b.TempDir()
		benchApply(b, dir, reg, "file://"+base+"/run%d", 16, n)
	})
	b.Run("etcd", func(b *testing.B) {
		srv := etcdtest.Start(b)
		benchApply(b, dir, reg, "etcd://"+srv.Endpoint+"/bench/run%d", 16, n)
	})
}

// BenchmarkApplyTrue500x20 runs 10,000 /bin/true exec steps (500 hosts ×
// 20 steps) at parallelism 16 with the file journal; BenchmarkForkExecTrue
// is the floor: the same processes started by plain Go at the same
// parallelism.
func BenchmarkApplyTrue500x20(b *testing.B) {
	const n = 10000
	dir := writeNoopPlaybook(b, n, "exec", "  command = [\"/bin/true\"]\n")
	reg, err := builtin.Registry()
	if err != nil {
		b.Fatal(err)
	}
	base := b.TempDir()
	benchApply(b, dir, reg, "file://"+base+"/run%d", 16, n)
}

func BenchmarkForkExecTrue(b *testing.B) {
	const n = 10000
	for b.Loop() {
		sem := make(chan struct{}, 16)
		var wg sync.WaitGroup
		for range n {
			sem <- struct{}{}
			wg.Go(func() {
				defer func() { <-sem }()
				if err := exec.Command("/bin/true").Run(); err != nil {
					b.Error(err)
				}
			})
		}
		wg.Wait()
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/n, "ns/step")
}
