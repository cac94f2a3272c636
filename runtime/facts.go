package runtime

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/zclconf/go-cty/cty"

	"github.com/rokflow/rokflow/runtime/plan"
)

// factText is the canonical JSON of discovered outputs, secrets masked, as
// a saved plan records them and apply compares them.
func factText(v cty.Value) string {
	if v == cty.NilVal {
		return "null"
	}
	return canonicalFact(PlanValue(v).JSON)
}

// canonicalFact is the one text of a fact's JSON that apply compares: a
// saved plan file holds facts indented, and whatever else a JSON encoder
// may change (spacing, the order of keys, escapes) must not make a fact
// look changed. Numbers keep their text. JSON that does not decode is
// compared as it is.
func canonicalFact(raw json.RawMessage) string {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil || dec.More() {
		return string(raw)
	}
	b, err := json.Marshal(v)
	if err != nil {
		return string(raw)
	}
	return string(b)
}

// factDiff lists, attribute by attribute, how two facts differ:
// "  master: "rok1.prod" → "rok2.prod"".
func factDiff(want, got string) string {
	var w, g map[string]json.RawMessage
	if json.Unmarshal([]byte(want), &w) != nil || json.Unmarshal([]byte(got), &g) != nil {
		return fmt.Sprintf("  was: %s\n  now: %s", clip(want), clip(got))
	}
	keys := map[string]bool{}
	for k := range w {
		keys[k] = true
	}
	for k := range g {
		keys[k] = true
	}
	names := make([]string, 0, len(keys))
	for k := range keys {
		names = append(names, k)
	}
	sort.Strings(names)
	var lines []string
	for _, k := range names {
		if string(w[k]) != string(g[k]) {
			lines = append(lines, fmt.Sprintf("  %s: %s → %s", k, clip(string(w[k])), clip(string(g[k]))))
		}
	}
	return strings.Join(lines, "\n")
}

func clip(s string) string {
	if s == "" {
		return "(absent)"
	}
	if len(s) > 200 {
		return s[:200] + "…"
	}
	return s
}

// bindFacts keeps, of the facts discovery found, those a saved plan binds:
// facts read before any change they depend on. A read-only step that runs
// after a mutation in its ancestry (pending migrations listed once the
// master is upgraded) is a preview: apply reads it again when its turn
// comes and uses what it finds, comparing nothing.
func bindFacts(p *plan.Plan) {
	if len(p.Facts) == 0 {
		return
	}
	index := make(map[string]int, len(p.Instances))
	for i, inst := range p.Instances {
		index[inst.Address] = i
	}
	afterChange := afterChanges(p, index)
	for addr := range p.Facts {
		if i, ok := index[addr]; !ok || afterChange[i] {
			delete(p.Facts, addr)
		}
	}
}

// afterChanges reports, per instance, whether a change (an instance that
// is not read-only and not skipped) precedes it among its ancestors. What
// a read-only step finds before any change describes the system as the
// run found it: facts to bind, an identity to record; after a change it
// describes the run's own doing.
func afterChanges(p *plan.Plan, index map[string]int) []bool {
	// Plan order is a topological order: one pass marks every instance
	// that a change precedes.
	after := make([]bool, len(p.Instances))
	for i, inst := range p.Instances {
		if inst.Group != "" && inst.Batch > 1 {
			// A later batch of a rolling group runs after the changes of
			// the batches before it, whatever its references say.
			after[i] = true
			continue
		}
		for _, d := range inst.DependsOn {
			j, ok := index[d]
			if !ok {
				continue
			}
			dep := p.Instances[j]
			if after[j] || (!dep.ReadOnly && dep.Action != plan.Skip) {
				after[i] = true
				break
			}
		}
	}
	return after
}
