// Package lines splits a command's output streams into lines for
// steps.Command's Output callback, while capturing them whole for
// steps.ExecResult. Both transports (local and ssh) use it, so a command
// prints the same lines whichever runs it.
package lines

import (
	"bytes"
	"strings"
	"sync"
)

// Writer captures a stream and hands complete lines to emit, without their
// "\n" or "\r\n". The mutex is shared by a command's two streams so emit is
// never called concurrently; a transport may hold it to keep output back.
// After Close nothing more is emitted nor captured: a command abandoned on
// cancellation may still be writing.
type Writer struct {
	stream  string
	emit    func(stream, line string)
	mu      *sync.Mutex
	all     bytes.Buffer
	pending []byte
	closed  bool
}

// New returns a Writer for the named stream ("stdout" or "stderr"). emit
// may be nil: the stream is then only captured.
func New(stream string, emit func(stream, line string), mu *sync.Mutex) *Writer {
	return &Writer{stream: stream, emit: emit, mu: mu}
}

// Write captures p and emits the lines it completes.
func (w *Writer) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return len(p), nil
	}
	w.all.Write(p)
	if w.emit == nil {
		return len(p), nil
	}
	w.pending = append(w.pending, p...)
	for {
		i := bytes.IndexByte(w.pending, '\n')
		if i < 0 {
			break
		}
		w.emit(w.stream, strings.TrimSuffix(string(w.pending[:i]), "\r"))
		w.pending = w.pending[i+1:]
	}
	return len(p), nil
}

// Close hands over a last line that had no newline and stops the writer.
func (w *Writer) Close() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.emit != nil && len(w.pending) > 0 && !w.closed {
		w.emit(w.stream, strings.TrimSuffix(string(w.pending), "\r"))
	}
	w.pending = nil
	w.closed = true
}

// Bytes returns a copy of everything captured.
func (w *Writer) Bytes() []byte {
	w.mu.Lock()
	defer w.mu.Unlock()
	return bytes.Clone(w.all.Bytes())
}
