package runtime

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"

	"github.com/zclconf/go-cty/cty"

	"github.com/rokflow/rokflow/internal/atomicfile"
	"github.com/rokflow/rokflow/internal/jsondoc"
	"github.com/rokflow/rokflow/lang"
	"github.com/rokflow/rokflow/lang/marks"
	"github.com/rokflow/rokflow/runtime/plan"
)

// Hash is the content hash a saved plan is bound to: every source file of
// the playbook and its modules, and every input value. Sensitive inputs
// are left out (only their names count), so a secret never influences a
// value that is stored in clear; changing a password does not change what
// the plan does.
func Hash(pb *lang.Playbook, inputs map[string]cty.Value) string {
	h := sha256.New()
	// Files are named relative to the playbook's directory so that the
	// same playbook hashes the same wherever it is checked out.
	type named struct{ rel, key string }
	names := make([]named, 0, len(pb.Files))
	for n := range pb.Files {
		rel := n
		if abs, err := filepath.Abs(n); err == nil && pb.Dir != "" {
			if r, err := filepath.Rel(pb.Dir, abs); err == nil {
				rel = r
			}
		}
		names = append(names, named{filepath.ToSlash(rel), n})
	}
	sort.Slice(names, func(i, j int) bool { return names[i].rel < names[j].rel })
	for _, n := range names {
		fmt.Fprintf(h, "file %s %d\n", n.rel, len(pb.Files[n.key].Bytes))
		h.Write(pb.Files[n.key].Bytes)
	}
	writeInputs(h, inputs, true)
	return "sha256:" + hex.EncodeToString(h.Sum(nil))
}

// writeInputs writes inputs to a hash in the one encoding plans and run
// identities share: "var NAME JSON" lines in name order; a sensitive
// input as "var NAME (sensitive)" when withSensitive, else not at all.
// It returns each non-sensitive input's JSON text, by name.
func writeInputs(w io.Writer, inputs map[string]cty.Value, withSensitive bool) map[string]string {
	names := make([]string, 0, len(inputs))
	for n := range inputs {
		names = append(names, n)
	}
	sort.Strings(names)
	texts := make(map[string]string, len(names))
	for _, n := range names {
		v := inputs[n]
		if marks.IsSensitive(v) {
			if withSensitive {
				fmt.Fprintf(w, "var %s (sensitive)\n", n)
			}
			continue
		}
		text := string(PlanValue(v).JSON)
		texts[n] = text
		fmt.Fprintf(w, "var %s %s\n", n, text)
	}
	return texts
}

// SavePlan writes a plan file: the JSON plan, arguments encoded with
// secrets masked, and the playbook's directory (plan.File). The file is
// written atomically and readable only by its owner.
func SavePlan(path string, p *plan.Plan) error {
	var out bytes.Buffer
	if err := jsondoc.Plan.Write(&out, (*plan.File)(p)); err != nil {
		return err
	}
	return atomicfile.Write(path, out.Bytes(), 0o600)
}

// LoadPlan reads a plan file written by SavePlan, refusing one of a
// format this rokflow does not read (jsondoc.Plan.Check). Facts of a
// plan file before 1.3, JSON text in strings, are read as the JSON
// values they hold.
func LoadPlan(path string) (*plan.Plan, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if !json.Valid(b) {
		// apply takes a playbook's file by its name, so whatever else it
		// was given is taken for a plan: say what both are.
		return nil, fmt.Errorf("%s is not a plan file saved by rokflow plan --out (those are JSON), nor a playbook: a playbook is a directory of .hcl and .hcl.json files, or one such file", path)
	}
	v, err := jsondoc.Plan.Check(path, b)
	if err != nil {
		return nil, err
	}
	var p plan.Plan
	if err := json.Unmarshal(b, &p); err != nil {
		return nil, fmt.Errorf("%s is not a rokflow plan file: %w", path, err)
	}
	if v.Minor < 3 {
		for addr, raw := range p.Facts {
			var text string
			if err := json.Unmarshal(raw, &text); err != nil {
				return nil, fmt.Errorf("%s is not a rokflow plan file: the fact of %s is not JSON text in a string, as format %s has it", path, addr, v)
			}
			p.Facts[addr] = json.RawMessage(text)
		}
	}
	if p.Hash == "" {
		return nil, fmt.Errorf("%s is not a rokflow plan file: it has no hash", path)
	}
	return &p, nil
}
