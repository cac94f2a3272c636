package views

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/rokflow/rokflow/runtime"
)

// The gate events of the approval flow, by their names in the event
// stream (docs/events-json.md).
const (
	// unreachable begins the line a check's attempt prints when it could
	// not reach its node (steps/wait).
	unreachable = "could not run: "
)

// Status shows a run while it goes. Finished lines come from a Progress
// and scroll as plain lines. On a terminal (Live) a few lines at the
// bottom, redrawn a few times a second, say what runs on each node and
// for how long, and a gate that waits: its instructions, how to approve
// it, the last result of its check, and a node that has not come back for
// a while. When piped, nothing is redrawn; a gate that waits long is
// noted at most once a minute instead.
type Status struct {
	mu       sync.Mutex
	out      io.Writer
	progress *Progress
	c        palette
	live     bool

	// Now is the clock; Width, when set, the terminal's width now (0 when
	// unknown). ApproveHint, when set, says how to approve a gate from
	// another terminal. NotBack is how long a gate's check may fail before
	// the area says its node has not come back; Note how often, when
	// piped, a waiting gate is noted. Tick is how often the area is
	// redrawn.
	Now         func() time.Time
	Width       func() int
	ApproveHint func(addr string) string
	// Prompting says the operator may answer a gate here.
	Prompting bool
	NotBack   time.Duration
	Note      time.Duration
	Tick      time.Duration

	running map[string]*liveStep
	order   []string
	// drawn holds the width in columns of each line of the area on the
	// screen, so that clear knows how many rows they take once a
	// narrower terminal has wrapped them.
	drawn     []int
	suspended int
	stop      chan struct{}
	done      chan struct{}
}

// liveStep is a running step or a waiting gate.
type liveStep struct {
	addr, target string
	start        time.Time
	gate         bool
	// waiting: a gate waiting for an approval, not a running step.
	waiting      bool
	instructions string
	last         string
	approvals    string
	noted        time.Time
	// down is since when the gate's check has not reached its node (its
	// attempts say "could not run", steps/wait), zero while it does.
	down time.Time
}

// NewStatus returns a status view writing to out through progress (which
// must write to out too). live says out is a terminal the area may be
// drawn on.
func NewStatus(out io.Writer, progress *Progress, colorOn, live bool) *Status {
	return &Status{
		out: out, progress: progress, c: newPalette(colorOn), live: live,
		Now: time.Now, NotBack: 2 * time.Minute, Note: time.Minute, Tick: 250 * time.Millisecond,
		running: map[string]*liveStep{},
	}
}

var _ runtime.Hook = (*Status)(nil)

// Start begins redrawing (or, piped, noting long waits) until Close.
func (s *Status) Start() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stop != nil {
		return
	}
	stop, done := make(chan struct{}), make(chan struct{})
	s.stop, s.done = stop, done
	go func() {
		defer close(done)
		t := time.NewTicker(s.Tick)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				s.Refresh()
			}
		}
	}()
}

// Close stops redrawing and clears the area, so that what is printed
// next starts on a clean line.
func (s *Status) Close() {
	s.mu.Lock()
	stop, done := s.stop, s.done
	s.stop = nil
	s.mu.Unlock()
	if stop != nil {
		close(stop)
		<-done
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.clear()
	s.suspended++ // nothing is drawn again
}

// Suspend clears the area and draws it no more until resume is called,
// so that a question and its answer have the terminal to themselves.
func (s *Status) Suspend() (resume func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.clear()
	s.suspended++
	var once sync.Once
	return func() {
		once.Do(func() {
			s.mu.Lock()
			defer s.mu.Unlock()
			s.suspended--
			s.draw()
		})
	}
}

// Event writes the event's lines above the area and updates the area.
func (s *Status) Event(ev runtime.Event) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.clear()
	s.progress.Event(ev)
	s.note(ev)
	s.draw()
}

// Refresh redraws the area (the elapsed times move on) or, piped, notes
// the gates that have waited long.
func (s *Status) Refresh() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.live {
		s.clear()
		s.draw()
		return
	}
	now := s.Now()
	for _, addr := range s.order {
		st := s.running[addr]
		if !st.gate || now.Sub(st.noted) < s.Note {
			continue
		}
		st.noted = now
		fmt.Fprintf(s.out, "%s   %s\n", s.c.dim(fmt.Sprintf("%7s", "")), s.c.magenta(fmt.Sprintf("still waiting at gate %s (%s)", addr, clock(now.Sub(st.start)))))
	}
}

// note keeps the area's model: what runs, what waits.
func (s *Status) note(ev runtime.Event) {
	switch ev.Type {
	case runtime.EventStepStart:
		gate := ev.Kind == "manual"
		s.add(&liveStep{addr: ev.Addr, target: ev.Target, start: ev.Time, gate: gate, instructions: gateInstructions(ev), noted: ev.Time})
	case runtime.EventGateWait:
		if st := s.running[ev.Addr]; st != nil {
			st.gate, st.waiting = true, true
			if in := gateInstructions(ev); in != "" {
				st.instructions = in
			}
			return
		}
		s.add(&liveStep{addr: ev.Addr, target: ev.Target, start: ev.Time, gate: true, waiting: true, instructions: gateInstructions(ev), noted: ev.Time})
	case runtime.EventGateApproval:
		if st := s.running[ev.Addr]; st != nil && ev.Needed > 0 {
			st.approvals = fmt.Sprintf("%d of %d approvals", ev.Approvals, ev.Needed)
		}
	case runtime.EventStepOutput:
		if st := s.running[ev.Addr]; st != nil && strings.TrimSpace(ev.Line) != "" {
			st.last = ev.Line
			switch {
			case !strings.HasPrefix(ev.Line, unreachable):
				st.down = time.Time{}
			case st.down.IsZero():
				st.down = ev.Time
			}
		}
	case runtime.EventOutputWithheld:
		if st := s.running[ev.Addr]; st != nil {
			st.last = "(" + ev.Summary + ")"
		}
	case runtime.EventStepEnd:
		if ev.Status != "retrying" {
			s.remove(ev.Addr)
		}
	case runtime.EventGateEnd:
		s.remove(ev.Addr)
	case runtime.EventRunEnd:
		s.running = map[string]*liveStep{}
		s.order = nil
	}
}

func (s *Status) add(st *liveStep) {
	if _, ok := s.running[st.addr]; !ok {
		s.order = append(s.order, st.addr)
	}
	s.running[st.addr] = st
}

func (s *Status) remove(addr string) {
	if _, ok := s.running[addr]; !ok {
		return
	}
	delete(s.running, addr)
	for i, a := range s.order {
		if a == addr {
			s.order = append(s.order[:i], s.order[i+1:]...)
			break
		}
	}
}

// lines renders the area, uncolored, one string per line, not yet cut
// to the terminal's width.
func (s *Status) lines() []string {
	if len(s.order) == 0 {
		return nil
	}
	now := s.Now()
	var out []string
	var gates []*liveStep
	for _, addr := range s.order {
		st := s.running[addr]
		if st.waiting {
			gates = append(gates, st)
			continue
		}
		on := st.target
		if on == "" {
			on = noNode
		}
		line := fmt.Sprintf("  %s  %s  %s", on, st.addr, clock(now.Sub(st.start)))
		if st.gate {
			gates = append(gates, st)
			line = fmt.Sprintf("  %s  %s  gate, %s", on, st.addr, clock(now.Sub(st.start)))
		}
		out = append(out, line)
	}
	for _, g := range gates {
		out = append(out, s.gateLines(g, now)...)
	}
	return append([]string{"── now " + strings.Repeat("─", 40)}, out...)
}

// gateLines say what a gate waits for and how to let it pass.
func (s *Status) gateLines(g *liveStep, now time.Time) []string {
	on := ""
	if g.target != "" && g.target != "local" {
		on = " on " + g.target
	}
	head := fmt.Sprintf("  ⏸ gate %s%s waits (%s)", g.addr, on, clock(now.Sub(g.start)))
	if g.approvals != "" {
		head += ": " + g.approvals
	}
	out := []string{head}
	in := strings.Split(strings.TrimSpace(g.instructions), "\n")
	const most = 4
	if len(in) > most {
		in = append(in[:most-1], "…")
	}
	for _, l := range in {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, "      "+l)
		}
	}
	if g.last != "" {
		out = append(out, "      last check: "+g.last)
		if g.target != "" && !g.down.IsZero() && now.Sub(g.down) >= s.NotBack {
			out = append(out, fmt.Sprintf("      %s has not come back for %s", g.target, clock(now.Sub(g.down))))
		}
	}
	// The command goes on a line of its own: on a narrow terminal it is
	// what must not be cut.
	switch {
	case s.ApproveHint == nil:
	case s.Prompting && g.waiting:
		out = append(out, "      approve it here when asked, or from another terminal:", "        "+s.ApproveHint(g.addr))
	default:
		out = append(out, "      approve it from another terminal:", "        "+s.ApproveHint(g.addr))
	}
	return out
}

// draw writes the area below the cursor, each line cut to the terminal's
// width so that none wraps (clear counts lines).
func (s *Status) draw() {
	if !s.live || s.suspended > 0 {
		return
	}
	lines := s.lines()
	width := 0
	if s.Width != nil {
		width = s.Width()
	}
	var b strings.Builder
	s.drawn = s.drawn[:0]
	for i, l := range lines {
		if width > 1 {
			l = cut(l, width-1)
		}
		s.drawn = append(s.drawn, utf8.RuneCountInString(l))
		switch {
		case i == 0:
			l = s.c.dim(l)
		case strings.HasPrefix(l, "  ⏸"):
			l = s.c.magenta(l)
		case strings.Contains(l, "has not come back"):
			l = s.c.yellow(l)
		}
		b.WriteString(l)
		b.WriteString("\n")
	}
	_, _ = io.WriteString(s.out, b.String())
}

// clear erases the area: up to its first line, and everything below. A
// terminal made narrower since the area was drawn has wrapped its lines:
// each takes as many rows as the new width needs.
func (s *Status) clear() {
	if len(s.drawn) == 0 {
		return
	}
	width := 0
	if s.Width != nil {
		width = s.Width()
	}
	rows := 0
	for _, n := range s.drawn {
		if width > 0 && n > width {
			rows += (n + width - 1) / width
		} else {
			rows++
		}
	}
	fmt.Fprintf(s.out, "\r\x1b[%dA\x1b[J", rows)
	s.drawn = s.drawn[:0]
}

// cut shortens l to at most n runes, marking the cut.
func cut(l string, n int) string {
	if utf8.RuneCountInString(l) <= n {
		return l
	}
	r := []rune(l)
	return string(r[:n-1]) + "…"
}

// clock shows an elapsed time to the second: 7s, 2m10s, 1h02m.
func clock(d time.Duration) string {
	d = d.Truncate(time.Second)
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm%02ds", int(d.Minutes()), int(d.Seconds())%60)
	default:
		return fmt.Sprintf("%dh%02dm", int(d.Hours()), int(d.Minutes())%60)
	}
}
