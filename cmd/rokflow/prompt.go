package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/mattn/go-isatty"

	"github.com/rokflow/rokflow/runtime"
)

// errInterrupted is returned by a question the operator left with Ctrl-C.
var errInterrupted = errors.New("interrupted")

// lineReader reads the operator's answers from stdin. One goroutine reads
// for the whole process, started at the first question: a question that
// ends another way (the gate approved from another terminal, an interrupt)
// leaves no reader behind to swallow the answer to the next one.
//
// The goroutine keeps reading while no question is asked, and every line
// carries the time it was read: a line typed before a question was shown
// is not its answer (a stray "y" typed during a long step must not approve
// the gate that comes next), so readLine drops it.
type lineReader struct {
	once  sync.Once
	lines chan typedLine
	err   error // set before lines is closed
}

// typedLine is a line of input and when it was read.
type typedLine struct {
	text string
	at   time.Time
}

// straySlack is how many unread lines the reader holds; more are dropped,
// as nobody asked for them.
const straySlack = 64

func (r *lineReader) start(in io.Reader) {
	r.once.Do(func() {
		r.lines = make(chan typedLine, straySlack)
		go func() {
			br := bufio.NewReader(in)
			for {
				line, err := br.ReadString('\n')
				if line != "" || err == nil {
					select {
					case r.lines <- typedLine{strings.TrimSpace(line), time.Now()}:
					default: // nobody is asking; the line is stray
					}
				}
				if err != nil {
					r.err = err
					close(r.lines)
					return
				}
			}
		}()
	})
}

// beginQuestion marks the moment a question is shown on a terminal: input
// typed before it is discarded, both lines already read and what the
// terminal holds unread. Answers piped in by a script are read in order.
func (a *App) beginQuestion() {
	f, ok := a.Stdin.(*os.File)
	if !ok || !isatty.IsTerminal(f.Fd()) {
		return
	}
	flushTerminalInput(int(f.Fd()))
	a.asked = time.Now()
}

// readLine waits for the operator's next line typed since the question
// began (beginQuestion). It returns errInterrupted at the first Ctrl-C
// (a.Stop), ctx's error when ctx ends, and io.EOF when stdin is closed.
func (a *App) readLine(ctx context.Context) (string, error) {
	a.lines.start(a.Stdin)
	for {
		select {
		case line, ok := <-a.lines.lines:
			if !ok {
				if a.lines.err != nil {
					return "", a.lines.err
				}
				return "", io.EOF
			}
			if line.at.Before(a.asked) {
				continue // typed before the question was shown
			}
			return line.text, nil
		case <-a.Stop:
			return "", errInterrupted
		case <-ctx.Done():
			return "", ctx.Err()
		}
	}
}

// yesNo reads an answer to a yes/no question: y or yes (any case) is yes,
// n or no is no; anything else asks again, with retry printed first.
func (a *App) yesNo(ctx context.Context, retry string) (bool, error) {
	for {
		line, err := a.readLine(ctx)
		if err != nil {
			return false, err
		}
		switch strings.ToLower(line) {
		case "y", "yes":
			return true, nil
		case "n", "no":
			return false, nil
		}
		fmt.Fprint(a.Stdout, retry)
	}
}

// suspendStatus pauses the live status area, if one is drawn, while the
// caller writes a question and reads its answer; it returns the function
// that resumes it.
func (a *App) suspendStatus() (resume func()) {
	if a.status == nil {
		return func() {}
	}
	return a.status.Suspend()
}

// statusArea is a live view that can step aside for a question.
type statusArea interface {
	// Suspend clears the area and stops drawing it until resume is
	// called.
	Suspend() (resume func())
}

// promptGate asks the operator at a gate. It returns when the operator
// answers, with runtime.ErrPromptInterrupted at the first Ctrl-C (the
// gate keeps waiting), or with ctx's error when the gate ended another
// way (approved from elsewhere, timed out); the run then says how.
func (a *App) promptGate(ctx context.Context, g runtime.Gate) (bool, error) {
	// One question at a time; a gate that ends while another is asked
	// leaves without asking.
	for !a.promptMu.TryLock() {
		select {
		case <-ctx.Done():
			return false, ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
	defer a.promptMu.Unlock()
	a.beginQuestion()
	fmt.Fprintf(a.Stdout, "\n  Gate %s", g.Addr)
	if g.Target != "" && g.Target != "local" {
		fmt.Fprintf(a.Stdout, " (%s)", g.Target)
	}
	fmt.Fprintf(a.Stdout, ":\n")
	for _, l := range strings.Split(strings.TrimSpace(g.Instructions), "\n") {
		fmt.Fprintf(a.Stdout, "    %s\n", l)
	}
	if g.Needed > 1 {
		fmt.Fprintf(a.Stdout, "  It needs %d approvals from distinct people (%d so far).\n", g.Needed, g.Approvals)
	}
	if !g.Deadline.IsZero() {
		fmt.Fprintf(a.Stdout, "  It waits until %s.\n", g.Deadline.Local().Format(time.TimeOnly))
	}
	fmt.Fprintf(a.Stdout, "  rokflow approve from any terminal approves it too.\n")
	ok, err := a.gateAnswer(ctx, g)
	switch {
	case errors.Is(err, errInterrupted):
		fmt.Fprintln(a.Stdout)
		return false, runtime.ErrPromptInterrupted
	case err != nil:
		fmt.Fprintln(a.Stdout)
	}
	return ok, err
}

// gateAnswer reads the answer to a gate's question. When the operator's
// own approval does not count (the gate refuses self-approval), only no
// is an answer: approvals come from others.
func (a *App) gateAnswer(ctx context.Context, g runtime.Gate) (bool, error) {
	if g.SelfAllowed {
		fmt.Fprintf(a.Stdout, "  Done? [y/n]: ")
		return a.yesNo(ctx, "  Please answer yes or no: ")
	}
	fmt.Fprintf(a.Stdout, "  Your approval (%s) does not count for this gate: waiting for others. Answer n to decline: ", g.Self)
	for {
		line, err := a.readLine(ctx)
		if err != nil {
			return false, err
		}
		switch strings.ToLower(line) {
		case "n", "no":
			return false, nil
		}
		fmt.Fprintf(a.Stdout, "  Only others can approve this gate (rokflow approve); answer n to decline: ")
	}
}
