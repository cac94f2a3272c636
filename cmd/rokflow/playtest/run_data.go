package playtest

import (
	"encoding/json"
	"sort"
	"time"

	"github.com/zclconf/go-cty/cty"
	ctyjson "github.com/zclconf/go-cty/cty/json"
)

// observed is what the runner saw of one run of a case, over every apply
// it took (the killed one, the resumed ones).
type observed struct {
	Outcome  Outcome
	ExitCode int
	// Steps are the latest run's steps as `rokflow state show --json`
	// shows them.
	Steps []shownStep
	// Kinds maps the addresses apply reported to their step kinds.
	Kinds map[string]string
	// Started lists, in order, the steps any apply started; Changing
	// those of them whose kind is not read-only.
	Started, Changing []string
	// Stderr is what the last apply wrote to its standard error.
	Stderr string
	// Applies counts apply processes; Kills those killed; Done and
	// Retried the steps in doubt resolved --done and --retry.
	Applies, Kills, Done, Retried int
}

// shownStep is one step of `rokflow state show --json`.
type shownStep struct {
	Address    string          `json:"address"`
	Status     string          `json:"status"`
	Attempts   int             `json:"attempts"`
	Handle     string          `json:"handle"`
	Error      string          `json:"error"`
	Outputs    json.RawMessage `json:"outputs"`
	Resolved   string          `json:"resolved"`
	UndoOwed   string          `json:"undo_owed"`
	UndoStatus string          `json:"undo_status"`
	UndoReason string          `json:"undo_reason"`
	Started    time.Time       `json:"started"`
}

// failed lists the steps the journal shows failed, in its order.
func (o *observed) failed() []string { return o.withStatus("failed") }

func (o *observed) withStatus(status string) []string {
	out := []string{}
	for _, s := range o.Steps {
		if s.Status == status {
			out = append(out, s.Address)
		}
	}
	return out
}

// runValue is `run` as an assertion sees it.
func (o *observed) runValue() cty.Value {
	held, owed := []string{}, []string{}
	steps := map[string]cty.Value{}
	for _, s := range o.Steps {
		switch s.UndoStatus {
		case "held":
			held = append(held, s.Address)
		case "":
		default:
			owed = append(owed, s.Address)
		}
		outputs := cty.EmptyObjectVal
		if len(s.Outputs) > 0 {
			if ty, err := ctyjson.ImpliedType(s.Outputs); err == nil {
				if v, err := ctyjson.Unmarshal(s.Outputs, ty); err == nil {
					outputs = v
				}
			}
		}
		steps[s.Address] = cty.ObjectVal(map[string]cty.Value{
			"status":      cty.StringVal(s.Status),
			"kind":        cty.StringVal(o.Kinds[s.Address]),
			"attempts":    cty.NumberIntVal(int64(s.Attempts)),
			"error":       cty.StringVal(s.Error),
			"outputs":     outputs,
			"resolved":    cty.StringVal(s.Resolved),
			"undo":        cty.StringVal(s.UndoOwed),
			"undo_status": cty.StringVal(s.UndoStatus),
			"undo_reason": cty.StringVal(s.UndoReason),
		})
	}
	return cty.ObjectVal(map[string]cty.Value{
		"outcome":    cty.StringVal(string(o.Outcome)),
		"exit_code":  cty.NumberIntVal(int64(o.ExitCode)),
		"failed":     strList(o.failed()),
		"in_doubt":   strList(o.withStatus("in_doubt")),
		"succeeded":  strList(o.withStatus("succeeded")),
		"undos_held": strList(held),
		"undos_owed": strList(owed),
		"started":    strList(o.Started),
		"changing":   strList(o.Changing),
		"steps":      cty.ObjectVal(steps),
		"error":      cty.StringVal(o.Stderr),
		"applies":    cty.NumberIntVal(int64(o.Applies)),
		"kills":      cty.NumberIntVal(int64(o.Kills)),
		"resolved":   cty.NumberIntVal(int64(o.Done + o.Retried)),
	})
}

func strList(s []string) cty.Value {
	if len(s) == 0 {
		return cty.ListValEmpty(cty.String)
	}
	vs := make([]cty.Value, len(s))
	for i, x := range s {
		vs[i] = cty.StringVal(x)
	}
	return cty.ListVal(vs)
}

// objectOf makes an object of named values, for var and playbook.
func objectOf(m map[string]cty.Value) cty.Value {
	if len(m) == 0 {
		return cty.EmptyObjectVal
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make(map[string]cty.Value, len(m))
	for _, k := range keys {
		out[k] = m[k]
	}
	return cty.ObjectVal(out)
}
