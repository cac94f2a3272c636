package lines

import (
	"slices"
	"sync"
	"testing"
)

func TestWriterSplitsLines(t *testing.T) {
	tests := map[string]struct {
		writes []string
		want   []string
	}{
		"one line":             {[]string{"a\n"}, []string{"stdout:a"}},
		"split across writes":  {[]string{"ab", "c\nd", "e\n"}, []string{"stdout:abc", "stdout:de"}},
		"crlf":                 {[]string{"a\r\nb\r\n"}, []string{"stdout:a", "stdout:b"}},
		"last line unfinished": {[]string{"a\nb"}, []string{"stdout:a", "stdout:b"}},
		"unfinished crlf":      {[]string{"a\r"}, []string{"stdout:a"}},
		"empty lines":          {[]string{"\n\n"}, []string{"stdout:", "stdout:"}},
		"nothing":              {nil, nil},
		"lone carriage return": {[]string{"a\rb\n"}, []string{"stdout:a\rb"}},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			var got []string
			w := New("stdout", func(stream, line string) { got = append(got, stream+":"+line) }, new(sync.Mutex))
			all := ""
			for _, s := range tt.writes {
				if n, err := w.Write([]byte(s)); n != len(s) || err != nil {
					t.Fatalf("Write(%q) = %d, %v", s, n, err)
				}
				all += s
			}
			w.Close()
			if !slices.Equal(got, tt.want) {
				t.Errorf("lines %q, want %q", got, tt.want)
			}
			if string(w.Bytes()) != all {
				t.Errorf("captured %q, want %q", w.Bytes(), all)
			}
		})
	}
}

func TestWriterWithoutEmitOnlyCaptures(t *testing.T) {
	w := New("stderr", nil, new(sync.Mutex))
	w.Write([]byte("a\nb"))
	w.Close()
	if string(w.Bytes()) != "a\nb" {
		t.Errorf("captured %q", w.Bytes())
	}
}

func TestWriterIgnoresWritesAfterClose(t *testing.T) {
	var got []string
	w := New("stdout", func(_, line string) { got = append(got, line) }, new(sync.Mutex))
	w.Write([]byte("a\n"))
	w.Close()
	w.Close()
	if n, err := w.Write([]byte("late\n")); n != 5 || err != nil {
		t.Fatalf("Write after Close = %d, %v", n, err)
	}
	if !slices.Equal(got, []string{"a"}) || string(w.Bytes()) != "a\n" {
		t.Errorf("lines %q, captured %q; want [a] and \"a\\n\"", got, w.Bytes())
	}
}

// TestWritersShareTheMutex checks that two streams of one command never
// call emit at the same time.
func TestWritersShareTheMutex(t *testing.T) {
	var mu sync.Mutex
	busy := false
	n := 0
	emit := func(_, _ string) {
		if busy {
			t.Error("emit called concurrently")
		}
		busy = true
		n++
		busy = false
	}
	out, errw := New("stdout", emit, &mu), New("stderr", emit, &mu)
	var wg sync.WaitGroup
	for _, w := range []*Writer{out, errw} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 200 {
				w.Write([]byte("x\n"))
			}
		}()
	}
	wg.Wait()
	if n != 400 {
		t.Errorf("%d lines, want 400", n)
	}
}
