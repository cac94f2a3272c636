package plan

import (
	"encoding/json"
	"strings"
	"time"

	"github.com/zclconf/go-cty/cty"
)

// Duration is a timeout or a delay as a run acts on it. The plan shows it
// in the string field beside it, as the playbook wrote it ("90s", not
// "1m30s").
type Duration struct {
	D time.Duration
	// Set says there is a duration to act on. Unknown says one was given
	// that is known only at run time. Neither: none was given.
	Set, Unknown bool
}

// DurationOf is the duration text says, as a plan shows it: unknown when
// text is not a duration ("(known after step.x)"), none when it is "".
func DurationOf(text string) Duration {
	d, err := time.ParseDuration(text)
	if err != nil {
		return Duration{Unknown: text != ""}
	}
	return Duration{D: d, Set: true}
}

// Known returns the duration and whether there is one to act on.
func (d Duration) Known() (time.Duration, bool) { return d.D, d.Set }

// Given says a duration was given, known or not.
func (d Duration) Given() bool { return d.Set || d.Unknown }

// instanceJSON, retryJSON and groupJSON are Instance, Retry and Group
// without their JSON methods.
type (
	instanceJSON Instance
	retryJSON    Retry
	groupJSON    Group
)

// UnmarshalJSON reads an instance of a plan file, and what a run acts on
// from what the JSON shows: a target in parentheses ("(known after
// step.x)", "(sensitive)") is not a host yet.
func (i *Instance) UnmarshalJSON(b []byte) error {
	if err := json.Unmarshal(b, (*instanceJSON)(i)); err != nil {
		return err
	}
	i.TargetUnknown = strings.HasPrefix(i.Target, "(")
	i.TimeoutAfter = DurationOf(i.Timeout)
	return nil
}

// UnmarshalJSON reads a retry policy of a plan file, with its delays as
// durations.
func (r *Retry) UnmarshalJSON(b []byte) error {
	if err := json.Unmarshal(b, (*retryJSON)(r)); err != nil {
		return err
	}
	r.DelayAfter, r.MaxDelayAfter = DurationOf(r.Delay), DurationOf(r.MaxDelay)
	return nil
}

// UnmarshalJSON reads a group of a plan file, with its pause as a
// duration.
func (g *Group) UnmarshalJSON(b []byte) error {
	if err := json.Unmarshal(b, (*groupJSON)(g)); err != nil {
		return err
	}
	g.PauseAfter = DurationOf(g.Pause)
	return nil
}

// ArgsEncoder encodes an instance's evaluated arguments for a plan, by
// name, secrets masked. The planner gives one with the plan (Plan.Args):
// the marks that say what is secret are the language's, which plan does
// not import.
type ArgsEncoder func(args cty.Value) map[string]Value

// EncodeArgs fills Args, once, from the evaluated arguments. Encoding a
// plan does it (Plan.MarshalJSON); it is left to then so that planning
// large playbooks, which are mostly only shown, does not pay for it.
// Without an encoder Args is left empty.
func (i *Instance) EncodeArgs(encode ArgsEncoder) {
	if i.Args != nil {
		return
	}
	v := i.Arguments()
	if encode == nil || v == cty.NilVal || v.IsNull() || !v.IsKnown() {
		i.Args = map[string]Value{}
		return
	}
	i.Args = encode(v)
}

// planJSON is Plan without its JSON methods.
type planJSON Plan

// MarshalJSON writes the plan as rokflow plan --json shows it, every
// instance's arguments encoded, without the playbook's directory, which
// only a plan file records (see File).
func (p *Plan) MarshalJSON() ([]byte, error) {
	q := *(*planJSON)(p)
	q.Playbook.Dir = ""
	return q.marshal()
}

// File is a plan as a plan file holds it: the plan's JSON with the
// playbook's absolute directory, so that apply PLANFILE finds the
// playbook from anywhere. A plan file is read back into a Plan.
type File Plan

// MarshalJSON writes the plan file's JSON.
func (f *File) MarshalJSON() ([]byte, error) { return (*planJSON)(f).marshal() }

func (p *planJSON) marshal() ([]byte, error) {
	for _, inst := range p.Instances {
		inst.EncodeArgs(p.Args)
	}
	return json.Marshal(p)
}
