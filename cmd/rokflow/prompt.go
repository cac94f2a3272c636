package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
)

// errInterrupted is returned by a question the operator left with Ctrl-C.
var errInterrupted = errors.New("interrupted")

// lineReader reads the operator's answers from stdin. One goroutine reads
// for the whole process, started at the first question: a question that
// ends another way (the gate approved from another terminal, an interrupt)
// leaves no reader behind to swallow the answer to the next one.
type lineReader struct {
	once  sync.Once
	lines chan string
	err   error // set before lines is closed
}

func (r *lineReader) start(in io.Reader) {
	r.once.Do(func() {
		r.lines = make(chan string)
		go func() {
			br := bufio.NewReader(in)
			for {
				line, err := br.ReadString('\n')
				if line != "" || err == nil {
					r.lines <- strings.TrimSpace(line)
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

// readLine waits for the operator's next line. It returns errInterrupted
// at the first Ctrl-C (a.Stop), ctx's error when ctx ends, and io.EOF when
// stdin is closed.
func (a *App) readLine(ctx context.Context) (string, error) {
	a.lines.start(a.Stdin)
	select {
	case line, ok := <-a.lines.lines:
		if !ok {
			if a.lines.err != nil {
				return "", a.lines.err
			}
			return "", io.EOF
		}
		return line, nil
	case <-a.Stop:
		return "", errInterrupted
	case <-ctx.Done():
		return "", ctx.Err()
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
