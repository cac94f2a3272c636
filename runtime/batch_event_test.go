package runtime_test

import (
	"fmt"
	"slices"
	"testing"

	"github.com/rokflow/rokflow/runtime"
)

// TestBatchStartOncePerBatch: a batch is announced once, however many
// steps and elements it holds, with the group's number of batches and the
// batch's elements.
func TestBatchStartOncePerBatch(t *testing.T) {
	f := newApplyFixture(t, `
group "nodes" {
  for_each = ["n1", "n2", "n3"]
  rolling {
    batch = 2
  }
  step "a" {
    uses    = "exec"
    command = ["true"]
  }
  step "b" {
    uses       = "exec"
    command    = ["true"]
    depends_on = [step.a]
  }
  step "c" {
    uses       = "exec"
    command    = ["true"]
    depends_on = [step.b]
  }
}
`)
	if res := f.apply(); res.Status != runtime.RunSucceeded {
		t.Fatalf("status %s: %v", res.Status, f.diags)
	}
	var got []string
	for _, ev := range f.events {
		if ev.Type == runtime.EventBatchStart {
			got = append(got, fmt.Sprintf("%s %d/%d %v", ev.Group, ev.Batch, ev.Batches, ev.Nodes))
		}
	}
	want := []string{"group.nodes 1/2 [n1 n2]", "group.nodes 2/2 [n3]"}
	if !slices.Equal(got, want) {
		t.Fatalf("batch_start events %q, want %q", got, want)
	}
}
