package addrs

import (
	"slices"
	"strings"
	"testing"
)

const swap = `group.slaves["rok2.prod"].module.node.step.swap_boot_disk`

func TestMatch(t *testing.T) {
	tests := map[string]struct {
		pattern, addr string
		want          bool
	}{
		"exact":                            {"step.gate", "step.gate", true},
		"exact is not a prefix":            {"step.gate", "step.gates", false},
		"exact element":                    {`step.gate["a"]`, `step.gate["a"]`, true},
		"every element":                    {"step.gate[*]", `step.gate["a"]`, true},
		"every element, dotted key":        {"step.gate[*]", `step.gate["rok2.prod"]`, true},
		"every element, not the step":      {"step.gate[*]", "step.gate", false},
		"every element, not another":       {"step.gate[*]", `step.gates["a"]`, false},
		"the help's example":               {`group.slaves["rok2.prod"].*`, swap, true},
		"the help's example, other node":   {`group.slaves["rok2.prod"].*`, `group.slaves["rok3.prod"].module.node.step.swap_boot_disk`, false},
		"one step in every element":        {"group.slaves[*].module.node.step.swap_boot_disk", swap, true},
		"one step, another step":           {"group.slaves[*].module.node.step.swap_boot_disk", `group.slaves["rok2.prod"].module.node.step.upgrade`, false},
		"brackets are literal":             {"step.[ab]", "step.a", false},
		"brackets are literal, matching":   {"step.[ab]", "step.[ab]", true},
		"question mark is literal":         {"step.?", "step.a", false},
		"star matches nothing":             {"step.gate*", "step.gate", true},
		"stars in a row":                   {"step.**", "step.gate", true},
		"middle parts in order":            {"*.module.*.step.*", swap, true},
		"middle parts out of order":        {"*.step.*.module.*", swap, false},
		"suffix does not reuse the prefix": {"step.ab*ba", "step.aba", false},
		"everything":                       {"*", swap, true},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := Compile(tc.pattern).Match(tc.addr); got != tc.want {
				t.Errorf("%s matching %s = %v, want %v", tc.pattern, tc.addr, got, tc.want)
			}
		})
	}
}

func TestMatchTemplate(t *testing.T) {
	const tmpl = "group.slaves[*].module.node.step.swap_boot_disk"
	tests := map[string]struct {
		pattern, template string
		want              bool
	}{
		"the help's example":       {`group.slaves["rok2.prod"].*`, tmpl, true},
		"an element's step":        {swap, tmpl, true},
		"an element's other step":  {`group.slaves["rok2.prod"].module.node.step.upgrade`, tmpl, false},
		"the template itself":      {tmpl, tmpl, true},
		"every element":            {"group.slaves[*].*", tmpl, true},
		"another group":            {`group.masters["a"].*`, tmpl, false},
		"a key must be quoted":     {"group.slaves[rok2].*", tmpl, false},
		"star inside the key":      {`group.slaves["rok*"].*`, tmpl, true},
		"step elements":            {`step.gate["a"]`, "step.gate[*]", true},
		"step elements by pattern": {"step.gate[*]", "step.gate[*]", true},
		"not a template":           {"step.gate", "step.gate", true},
		"not a template, no match": {"step.gate", "step.other", false},
		"nested holes":             {`group.a["x"].group.b["y"].step.s`, "group.a[*].group.b[*].step.s", true},
		"nested holes, wrong step": {`group.a["x"].group.b["y"].step.t`, "group.a[*].group.b[*].step.s", false},
		"star spans two holes":     {`group.a["x*y"].step.s`, "group.a[*].group.b[*].step.s", true},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := Compile(tc.pattern).MatchTemplate(tc.template); got != tc.want {
				t.Errorf("%s against %s = %v, want %v", tc.pattern, tc.template, got, tc.want)
			}
		})
	}
}

func TestParsePattern(t *testing.T) {
	tests := map[string]struct {
		text, err string // err is part of the message, "" for none
	}{
		"step":                 {"step.gate", ""},
		"element":              {`step.gate["a.b"]`, ""},
		"module step":          {"module.m.step.s", ""},
		"the help's example":   {`group.slaves["rok2.prod"].*`, ""},
		"every element":        {"step.gate[*]", ""},
		"group template":       {"group.slaves[*].module.node.step.swap_boot_disk", ""},
		"everything":           {"*", ""},
		"any first part":       {"st*", ""},
		"dashes and digits":    {"step.swap-disk_2", ""},
		"empty":                {"", "cannot be empty"},
		"space at the end":     {"step.gate ", "space at its start or end"},
		"no kind":              {"gate", "expected step., group. or module."},
		"no kind, pattern":     {"slaves*", "expected step., group. or module."},
		"wrong kind":           {"stage.gate", `"stage" is not step, group, module or hook`},
		"unquoted key":         {"group.slaves[rok2].*", `group.slaves["KEY"]`},
		"unquoted step key":    {"step.gate[a]", `step.gate["KEY"]`},
		"group without key":    {"group.slaves.step.s", `group.slaves["KEY"]`},
		"group without key, *": {"group.slaves.*", `group.slaves["KEY"]`},
		"not a step":           {`group.slaves["a"]`, "not a step"},
		"unclosed key":         {`step.gate["a"`, "closing ]"},
		"unfinished key":       {`step.gate["a`, "not a complete quoted string"},
		"trailing dot":         {"step.gate.", "ends with a dot"},
		"no name":              {"step..x", "followed by a name"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			p, err := ParsePattern(tc.text)
			switch {
			case tc.err == "" && err != nil:
				t.Errorf("ParsePattern(%q): %v", tc.text, err)
			case tc.err == "" && p.String() != tc.text:
				t.Errorf("ParsePattern(%q) = %q", tc.text, p)
			case tc.err != "" && err == nil:
				t.Errorf("ParsePattern(%q) took it; want an error about %q", tc.text, tc.err)
			case tc.err != "" && !strings.Contains(err.Error(), tc.err):
				t.Errorf("ParsePattern(%q): %v; want it to say %q", tc.text, err, tc.err)
			}
		})
	}
}

func TestKeys(t *testing.T) {
	tests := map[string]struct {
		addr   string
		prefix string
		key    string
		ok     bool
	}{
		"group":         {swap, "group.slaves", "rok2.prod", true},
		"escaped quote": {`step.s["a\"b"]`, "step.s", `a"b`, true},
		"no key":        {"step.s", "step.s", "", false},
		"longer name":   {`group.slaves2["a"].step.s`, "group.slaves", "", false},
		"hole":          {"group.slaves[*].step.s", "group.slaves", "", false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			k, ok := KeyAt(tc.addr, tc.prefix)
			if k != tc.key || ok != tc.ok {
				t.Errorf("KeyAt(%s, %s) = %q, %v; want %q, %v", tc.addr, tc.prefix, k, ok, tc.key, tc.ok)
			}
		})
	}
	if got := Compile(`group.a["x"].group.b["y*"].step.s["z"]`).Keys(); !slices.Equal(got, []string{"x", "z"}) {
		t.Errorf("Keys = %q, want x and z (a key with * is not spelled out)", got)
	}
	if got := Fill("group.a[*].group.b[*].step.s", []string{"x"}); got != `group.a["x"].group.b[*].step.s` {
		t.Errorf("Fill = %s", got)
	}
	if got := Fill("step.s[*]", []string{`a"b`}); got != `step.s["a\"b"]` || !IsTemplate("step.s[*]") || IsTemplate(got) {
		t.Errorf("Fill = %s", got)
	}
}

func TestHookAddresses(t *testing.T) {
	for _, a := range []string{
		`module.master.hook.after_boot.step.map_version`,
		`group.slaves["rok2.sim"].module.node.hook.after_boot.step.map_version`,
	} {
		if _, err := ParsePattern(a); err != nil {
			t.Errorf("ParsePattern(%s): %v", a, err)
		}
	}
	if _, err := ParsePattern(`module.master.hook.after_boot`); err == nil {
		t.Error("a hook is not a step, yet its address parsed as one")
	}
}
