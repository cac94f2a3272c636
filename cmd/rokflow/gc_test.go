package main

import (
	"runtime/debug"
	"testing"
)

func TestTuneGC(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(100))
	unset := func(string) string { return "" }
	tests := []struct {
		name   string
		args   []string
		getenv func(string) string
		want   int
	}{
		{"a command", []string{"plan", "x"}, unset, gcPercent},
		{"the simulator daemon", []string{"sim", "serve", "--dir", "d"}, unset, 100},
		{"GOGC given", []string{"plan", "x"}, func(k string) string {
			if k == "GOGC" {
				return "50"
			}
			return ""
		}, 100},
	}
	for _, tc := range tests {
		debug.SetGCPercent(100)
		tuneGC(tc.args, tc.getenv)
		if got := debug.SetGCPercent(100); got != tc.want {
			t.Errorf("%s: GC percent %d, want %d", tc.name, got, tc.want)
		}
	}
}
