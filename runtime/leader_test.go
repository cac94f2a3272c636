package runtime_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/zclconf/go-cty/cty"

	"github.com/rokflow/rokflow/internal/etcdtest"
	"github.com/rokflow/rokflow/lang"
	"github.com/rokflow/rokflow/runtime"
	"github.com/rokflow/rokflow/runtime/state"
	"github.com/rokflow/rokflow/steps"
	"github.com/rokflow/rokflow/steps/stepstest"
)

// leaderKiller stops the etcd leader once a number of steps finished.
type leaderKiller struct {
	after   int32
	ended   atomic.Int32
	once    sync.Once
	cluster *etcdtest.Cluster
	killed  chan string
}

func (k *leaderKiller) Event(ev runtime.Event) {
	if ev.Type != runtime.EventStepEnd || ev.Status != "succeeded" {
		return
	}
	if k.ended.Add(1) == k.after {
		k.once.Do(func() {
			l := k.cluster.Leader()
			if l == nil {
				k.killed <- ""
				return
			}
			// Stop it abruptly, mid-run, from another goroutine: the run
			// must ride out the election.
			go l.Etcd.Server.HardStop()
			k.killed <- l.Endpoint
		})
	}
}

// TestApplySurvivesEtcdLeaderLoss runs 300 steps with the journal in a
// 3-member etcd cluster and stops the leader in the middle: the run
// completes and every step is journaled as succeeded exactly once.
func TestApplySurvivesEtcdLeaderLoss(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a 3-member etcd cluster")
	}
	cluster := etcdtest.StartCluster(t, 3)
	const n = 300
	dir := t.TempDir()
	keys := make([]string, n)
	for i := range keys {
		keys[i] = fmt.Sprintf("%q", fmt.Sprintf("k%03d", i))
	}
	src := fmt.Sprintf("step \"s\" {\n  uses     = \"slow\"\n  for_each = [%s]\n}\n", strings.Join(keys, ","))
	if err := os.WriteFile(filepath.Join(dir, "main.hcl"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	slow := stepstest.NewRecorder("slow", func(s *steps.Schema) { s.Target = steps.TargetNone })
	slow.RunFunc = func(ctx context.Context, _ steps.RunRequest) steps.RunResponse {
		time.Sleep(2 * time.Millisecond) // the work of a step
		return steps.RunResponse{Outputs: cty.EmptyObjectVal}
	}
	reg, err := steps.NewRegistry(slow)
	if err != nil {
		t.Fatal(err)
	}
	pb, diags := lang.Load(dir)
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	backend, err := state.Open(context.Background(), "etcd://"+cluster.Endpoints()+"/rokflow/leader", state.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer backend.Close()
	sess, err := backend.Lock(context.Background(), state.Holder{User: "tester"})
	if err != nil {
		t.Fatal(err)
	}
	killer := &leaderKiller{after: n / 3, cluster: cluster, killed: make(chan string, 1)}
	res, diags := runtime.Apply(context.Background(), pb, reg, runtime.ApplyOptions{
		Parallelism: 8,
		Backend:     backend,
		Session:     sess,
		Hook:        killer,
	})
	select {
	case ep := <-killer.killed:
		if ep == "" {
			t.Fatal("no leader to stop")
		}
		t.Logf("stopped the leader %s after %d steps", ep, n/3)
	default:
		t.Fatal("the leader was never stopped")
	}
	if res == nil || res.Status != runtime.RunSucceeded {
		t.Fatalf("run: %+v %v", res, diags)
	}
	sess.Unlock(context.Background())
	recs, err := backend.Records(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	succeeded := map[string]int{}
	for _, r := range recs {
		if r.Kind == state.KindStep && r.Status == state.Succeeded {
			succeeded[r.Addr]++
		}
	}
	if len(succeeded) != n {
		t.Fatalf("%d steps journaled as succeeded, want %d", len(succeeded), n)
	}
	for addr, c := range succeeded {
		if c != 1 {
			t.Errorf("%s journaled as succeeded %d times", addr, c)
		}
	}
}
