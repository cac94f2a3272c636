package lang_test

import (
	"testing"

	"github.com/rokflow/rokflow/lang"
)

func TestNearest(t *testing.T) {
	tests := map[string]struct {
		given      string
		candidates []string
		want       string
	}{
		"one typo": {given: "nodez", candidates: []string{"names", "nodes", "seed"}, want: "nodes"},
		// Levenshtein counts a swap as two edits, allowed from four letters.
		"swap in a short name":  {given: "nodse", candidates: []string{"nodes"}, want: "nodes"},
		"swap in four letters":  {given: "setp", candidates: []string{"step"}, want: "step"},
		"four letters, 3 edits": {given: "abcd", candidates: []string{"axyz"}, want: ""},
		"swap in a longer name": {given: "seed_ndoe", candidates: []string{"seed_node"}, want: "seed_node"},
		"missing letter":        {given: "replica", candidates: []string{"replicas", "environment"}, want: "replicas"},
		"exact match":           {given: "nodes", candidates: []string{"nodes"}, want: "nodes"},
		"nearest of several":    {given: "platfrom", candidates: []string{"platforms", "platform", "plat"}, want: "platform"},
		"first of equals wins":  {given: "abcd", candidates: []string{"abce", "abcf"}, want: "abce"},
		"too far":               {given: "cluster", candidates: []string{"nodes", "seed_node"}, want: ""},
		"no candidates":         {given: "cluster", candidates: nil, want: ""},
		"short name: no guess":  {given: "ab", candidates: []string{"abc", "ab"}, want: ""},
		"empty name":            {given: "", candidates: []string{"a", ""}, want: ""},
		"three letters, 1 edit": {given: "vor", candidates: []string{"var"}, want: "var"},
		"three letters, 2 edits": {
			given: "vxx", candidates: []string{"var"}, want: "",
		},
		"six letters allow 2 edits": {given: "stpe_a", candidates: []string{"step_a"}, want: "step_a"},
		"six letters not 3 edits":   {given: "abcdef", candidates: []string{"abcxyz"}, want: ""},
		"long names cap at 3 edits": {
			given: "rapi_password_file", candidates: []string{"rapi_passwd"}, want: "",
		},
		"long names allow 3 edits": {
			given: "rapi_password_file", candidates: []string{"rapi_passw0rd_fyle3"}, want: "rapi_passw0rd_fyle3",
		},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			if got := lang.Nearest(tt.given, tt.candidates); got != tt.want {
				t.Errorf("Nearest(%q, %q) = %q, want %q", tt.given, tt.candidates, got, tt.want)
			}
		})
	}
}
