package archtest

import (
	"os/exec"
	"strings"
	"testing"
)

const module = "github.com/rokflow/rokflow"

// forbidden lists, per package prefix, the package prefixes it must not
// import (directly; the rule applies transitively because every package
// is checked).
var forbidden = map[string][]string{
	"lang":         {"steps", "runtime", "cmd"},
	"lang/schema":  {"lang/funcs", "steps", "runtime", "cmd"},
	"lang/marks":   {"steps", "runtime", "cmd"},
	"steps":        {"runtime", "cmd"},
	"runtime":      {"cmd"},
	"runtime/plan": {"lang", "steps", "runtime", "cmd", "internal"},
	"internal":     {"lang", "steps", "runtime", "cmd"},
	"sim":          {"lang", "steps", "runtime", "cmd"},
	// The production binary and its views link the simulator's client
	// side only; its server (an embedded etcd) is rokflow-sim's.
	"cmd/rokflow": {"sim/server"},

	// The address grammar is a leaf that every layer above it may use.
	"runtime/addrs": {"lang", "steps", "runtime", "cmd", "internal"},

	// Git module sources: lang asks this package for checkouts, never
	// the reverse.
	"lang/modsrc": {"lang", "steps", "runtime", "cmd"},
}

// colorAllowed are the only packages that may import fatih/color.
var colorAllowed = map[string]bool{"cmd/rokflow/views": true}

func TestImportDirections(t *testing.T) {
	out, err := exec.Command("go", "list", "-f", `{{.ImportPath}} {{join .Imports " "}}`, module+"/...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	checked := 0
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		fields := strings.Fields(line)
		pkg := strings.TrimPrefix(strings.TrimPrefix(fields[0], module), "/")
		for _, imp := range fields[1:] {
			if imp == "github.com/fatih/color" && !colorAllowed[pkg] {
				t.Errorf("%s imports fatih/color; only the views may", pkg)
			}
			if !strings.HasPrefix(imp, module+"/") {
				continue
			}
			dep := strings.TrimPrefix(imp, module+"/")
			for prefix, bans := range forbidden {
				if pkg != prefix && !strings.HasPrefix(pkg, prefix+"/") {
					continue
				}
				for _, ban := range bans {
					if (dep == ban || strings.HasPrefix(dep, ban+"/")) && dep != pkg && !strings.HasPrefix(dep, pkg+"/") {
						t.Errorf("%s imports %s, against the architecture (%s must not import %s)", pkg, dep, prefix, ban)
					}
				}
			}
			checked++
		}
	}
	if checked == 0 {
		t.Fatal("no imports checked")
	}
}
