package runtime

import (
	"container/heap"
	"time"

	"github.com/zclconf/go-cty/cty"

	"github.com/rokflow/rokflow/runtime/plan"
	"github.com/rokflow/rokflow/runtime/state"
)

// sched is the executor's bookkeeping for one plan: how many of each
// instance's dependencies are not done yet, who depends on whom, which
// instances may start (a heap, so plan order is kept), and each rolling
// group's current batch. Everything is updated incrementally as instances
// finish, so a run costs O(instances + dependencies), not a scan per event.
type sched struct {
	remaining  []int32
	dependents [][]int32
	queue      intHeap
	queued     []bool
	// unknown counts instances not finished whose action, target or
	// arguments are not known: while there are any, outputs may call for
	// a new plan. isKnown caches known() per instance for this plan.
	unknown int
	isKnown []bool
	// per group: the batch running now, what is left of each batch, and the
	// members of each batch.
	batch   map[string]int
	left    map[string]map[int]int
	members map[string]map[int][]int32
	resume  map[string]time.Time // a group's next batch starts after its pause
	// writtenOff are instances no longer counted in their batch: they
	// depend on a failed instance of it (writeOff).
	writtenOff map[int32]bool
}

func (e *executor) buildSched() {
	insts := e.p.plan.Instances
	sc := &sched{
		remaining:  make([]int32, len(insts)),
		dependents: make([][]int32, len(insts)),
		queued:     make([]bool, len(insts)),
		isKnown:    make([]bool, len(insts)),
		batch:      map[string]int{},
		left:       map[string]map[int]int{},
		members:    map[string]map[int][]int32{},
		resume:     map[string]time.Time{},
	}
	if e.sc != nil {
		sc.resume = e.sc.resume
	}
	e.sc = sc
	for i := range insts {
		sc.isKnown[i] = e.computeKnown(i)
	}
	for i, inst := range insts {
		st := e.state(inst.Address)
		terminal := isTerminal(st.status) && !(st.status == state.InDoubt && e.resolutions[inst.Address] != "")
		for _, d := range inst.DependsOn {
			j, ok := e.index[d]
			if !ok {
				continue
			}
			sc.dependents[j] = append(sc.dependents[j], int32(i))
			if !isDone(e.state(d).status) {
				sc.remaining[i]++
			}
		}
		if inst.Group != "" && inst.Batch > 0 {
			if sc.left[inst.Group] == nil {
				sc.left[inst.Group] = map[int]int{}
				sc.members[inst.Group] = map[int][]int32{}
			}
			sc.members[inst.Group][inst.Batch] = append(sc.members[inst.Group][inst.Batch], int32(i))
			// A step in doubt holds its batch open: the next batch waits
			// until an operator answers.
			if !terminal || st.status == state.InDoubt {
				sc.left[inst.Group][inst.Batch]++
			}
		}
		if !terminal && !e.known(i) {
			sc.unknown++
		}
	}
	for i, inst := range insts {
		if inst.Group != "" && inst.Batch > 0 && e.state(inst.Address).status == state.Failed {
			e.writeOff(i)
		}
	}
	for g, left := range sc.left {
		sc.batch[g] = nextBatch(left, 0)
	}
	// An instance whose ancestor is to be redone waits for it even when
	// its own dependencies are done (plan order is a topological order).
	var behind []bool
	if len(e.redo) > 0 {
		behind = make([]bool, len(insts))
		for i, inst := range insts {
			for _, d := range inst.DependsOn {
				j, ok := e.index[d]
				if ok && (behind[j] || (e.redo[d] && !isDone(e.state(d).status))) {
					behind[i] = true
					break
				}
			}
		}
	}
	for i := range insts {
		if sc.remaining[i] == 0 && (behind == nil || !behind[i]) {
			e.enqueue(int32(i))
		}
	}
}

// nextBatch is the first batch after b with instances left, or b+1 when
// none has (the group is over).
func nextBatch(left map[int]int, b int) int {
	best := 0
	for k, n := range left {
		if k > b && n > 0 && (best == 0 || k < best) {
			best = k
		}
	}
	if best == 0 {
		return 1 << 30
	}
	return best
}

func (e *executor) enqueue(i int32) {
	if e.sc.queued[i] {
		return
	}
	st := e.state(e.p.plan.Instances[i].Address)
	if st.running || st.waiting || (isTerminal(st.status) && !(st.status == state.InDoubt && e.resolutions[e.p.plan.Instances[i].Address] != "")) {
		return
	}
	e.sc.queued[i] = true
	heap.Push(&e.sc.queue, i)
}

// schedule starts ready instances, in plan order, up to the parallelism.
func (e *executor) schedule() {
	if e.stopped || e.lost || e.wrongTarget || e.doubtHalt || e.refused != nil || e.ctx.Err() != nil || e.stopRequested() {
		// A run that found another system than its own acts no more.
		return
	}
	var later []int32
	for e.running < e.opts.Parallelism && e.sc.queue.Len() > 0 {
		i := heap.Pop(&e.sc.queue).(int32)
		e.sc.queued[i] = false
		inst := e.p.plan.Instances[i]
		switch e.hold(inst) {
		case holdNone:
			if !e.known(int(i)) {
				continue // a new plan will make it known, or report it
			}
			if r := e.p.release; r != nil && !r.known && !inst.ReadOnly && inst.Action != plan.Skip {
				// Nothing changes the cluster before its release is
				// known and found on the playbook's path (release.go).
				later = append(later, i)
				continue
			}
			if len(e.factsDue) > 0 && !inst.ReadOnly && inst.Action != plan.Skip {
				// A saved plan's facts are checked before the first change.
				later = append(later, i)
				continue
			}
			e.start(int(i), inst)
		case holdLater:
			later = append(later, i)
		case holdDrop:
		}
	}
	for _, i := range later {
		e.enqueue(i)
	}
}

// stopRequested reports whether the first interrupt came, even if the
// loop has not taken it yet: nothing new starts after it.
func (e *executor) stopRequested() bool {
	select {
	case <-e.opts.Stop:
		return true
	default:
		return false
	}
}

type holdReason int

const (
	holdNone  holdReason = iota
	holdLater            // not yet: its batch has not come, or a pause runs
	holdDrop             // never: its group stopped, or it already ran
)

// hold says whether an instance whose dependencies are done must still
// wait for its rolling group.
func (e *executor) hold(inst *plan.Instance) holdReason {
	st := e.state(inst.Address)
	if st.running || st.waiting {
		return holdDrop
	}
	if inst.Group == "" || inst.Batch == 0 {
		return holdNone
	}
	if e.group(inst.Group).stopped {
		return holdDrop
	}
	if inst.Batch > e.sc.batch[inst.Group] {
		return holdDrop // re-queued when its batch comes
	}
	if t, ok := e.sc.resume[inst.Group]; ok {
		if wait := t.Sub(e.opts.Now()); wait > 0 {
			e.wakeIn(wait)
			return holdLater
		}
	}
	return holdNone
}

// finished updates the bookkeeping once instance i reached a terminal
// state, and reports whether a new plan is needed: a dependent waits for
// values that i's outputs may provide.
func (e *executor) finished(i int) bool {
	inst := e.p.plan.Instances[i]
	st := e.state(inst.Address)
	replan := false
	if e.redo[inst.Address] && isDone(st.status) {
		// What waited behind it may go now: rebuild the books.
		delete(e.redo, inst.Address)
		replan = true
	}
	if !e.known(i) && e.sc.unknown > 0 {
		e.sc.unknown--
	}
	if isDone(st.status) {
		for _, j := range e.sc.dependents[i] {
			e.sc.remaining[j]--
			if e.sc.remaining[j] == 0 {
				if !e.known(int(j)) {
					replan = true
				}
				e.enqueue(j)
			}
		}
	}
	if inst.Group != "" && inst.Batch > 0 && st.status == state.Failed {
		e.writeOff(i)
	}
	if inst.Group != "" && inst.Batch > 0 && st.status != state.InDoubt {
		left := e.sc.left[inst.Group]
		left[inst.Batch]--
		if left[inst.Batch] == 0 && inst.Batch == e.sc.batch[inst.Group] {
			next := nextBatch(left, inst.Batch)
			e.sc.batch[inst.Group] = next
			if gp := e.groupPlan(inst.Group); gp != nil {
				if d, ok := gp.PauseAfter.Known(); ok && d > 0 {
					e.sc.resume[inst.Group] = e.opts.Now().Add(d)
				}
			}
			for _, j := range e.sc.members[inst.Group][next] {
				if e.sc.remaining[j] == 0 {
					e.enqueue(j)
				}
			}
		}
	}
	return replan
}

// known reports whether an instance's action, target and arguments are
// all known in the current plan.
func (e *executor) known(i int) bool { return e.sc.isKnown[i] }

func (e *executor) computeKnown(i int) bool {
	inst := e.p.plan.Instances[i]
	switch inst.Action {
	case plan.Deferred, plan.Conditional:
		return false
	case plan.Skip:
		return true
	}
	if inst.TargetUnknown {
		return false
	}
	args := inst.Arguments()
	return args == cty.NilVal || args.IsWhollyKnown()
}

// writeOff stops counting, in the rolling batch of failed instance i, the
// instances that depend on it: they cannot run in this run, and a failed
// element that max_failures allows must not hold the next batch back. (A
// step in doubt is never written off: its batch waits for an answer.)
func (e *executor) writeOff(i int) {
	inst := e.p.plan.Instances[i]
	left := e.sc.left[inst.Group]
	if left == nil {
		return
	}
	if e.sc.writtenOff == nil {
		e.sc.writtenOff = map[int32]bool{}
	}
	queue := append([]int32(nil), e.sc.dependents[i]...)
	for len(queue) > 0 {
		j := queue[0]
		queue = queue[1:]
		dep := e.p.plan.Instances[j]
		if e.sc.writtenOff[j] || dep.Group != inst.Group || dep.Batch != inst.Batch {
			continue
		}
		e.sc.writtenOff[j] = true
		if !isTerminal(e.state(dep.Address).status) {
			left[dep.Batch]--
		}
		queue = append(queue, e.sc.dependents[j]...)
	}
}

type intHeap []int32

func (h intHeap) Len() int           { return len(h) }
func (h intHeap) Less(i, j int) bool { return h[i] < h[j] }
func (h intHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *intHeap) Push(x any)        { *h = append(*h, x.(int32)) }
func (h *intHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// announceBatch reports the start of inst's rolling batch the first time
// one of its instances launches: the batch, how many the group has, and
// the elements it holds.
func (e *executor) announceBatch(inst *plan.Instance) {
	g := e.group(inst.Group)
	if g.announced == inst.Batch {
		return
	}
	g.announced = inst.Batch
	ev := Event{Type: EventBatchStart, Run: e.run, Group: inst.Group, Batch: inst.Batch}
	if gp := e.groupPlan(inst.Group); gp != nil {
		ev.Batches = gp.Batches
	}
	seen := map[string]bool{}
	for _, j := range e.sc.members[inst.Group][inst.Batch] {
		k := e.p.plan.Instances[j].Key
		if k != "" && !seen[k] {
			seen[k] = true
			ev.Nodes = append(ev.Nodes, k)
		}
	}
	e.event(ev)
}

// knownTarget is an instance's target as events show it: empty while it
// is not known.
func knownTarget(inst *plan.Instance) string {
	if inst.TargetUnknown {
		return ""
	}
	return inst.Target
}

// gateText is what a gate asks the operator to do, for the events that
// show it; empty for other steps.
func gateText(inst *plan.Instance) string {
	if !inst.Gate {
		return ""
	}
	return inst.Instructions
}
