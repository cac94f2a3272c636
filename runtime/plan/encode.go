package plan

import (
	"bytes"
	"encoding/json"
	"math/big"
	"sort"
	"strings"
	"time"

	"github.com/zclconf/go-cty/cty"

	"github.com/rokflow/rokflow/lang/marks"
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

// EncodeArgs fills Args, once, from the evaluated arguments, secrets
// masked. Encoding a plan does it (Plan.MarshalJSON); it is left to then
// so that planning large playbooks, which are mostly only shown, does
// not pay for it.
func (i *Instance) EncodeArgs() {
	if i.Args != nil {
		return
	}
	i.Args = map[string]Value{}
	v := i.Arguments()
	if v == cty.NilVal || v.IsNull() || !v.IsKnown() {
		return
	}
	if v.HasMark(marks.Sensitive) {
		i.Args["(all)"] = Value{JSON: json.RawMessage(`"(sensitive)"`), Sensitive: true}
		return
	}
	v, _ = v.Unmark()
	names := make([]string, 0, len(v.Type().AttributeTypes()))
	for n := range v.Type().AttributeTypes() {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		av := v.GetAttr(n)
		if av.IsNull() {
			continue
		}
		i.Args[n] = ValueOf(av)
	}
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
		inst.EncodeArgs()
	}
	return json.Marshal(p)
}

// ValueOf encodes v for a plan: JSON with every sensitive part replaced
// by "(sensitive)" and every unknown part by "(known after step.x)".
func ValueOf(v cty.Value) Value {
	var b bytes.Buffer
	out := Value{}
	encodeValue(&b, v, &out)
	out.JSON = json.RawMessage(b.Bytes())
	return out
}

func encodeValue(b *bytes.Buffer, v cty.Value, info *Value) {
	if v.HasMark(marks.Sensitive) {
		info.Sensitive = true
		writeJSONString(b, marks.Masked)
		return
	}
	if !v.IsKnown() {
		info.Unknown = true
		writeJSONString(b, marks.UnknownText(v))
		return
	}
	v, _ = v.Unmark()
	if v.IsNull() {
		b.WriteString("null")
		return
	}
	t := v.Type()
	switch {
	case t == cty.String:
		writeJSONString(b, v.AsString())
	case t == cty.Number:
		bf := v.AsBigFloat()
		if bf.IsInt() {
			i, _ := bf.Int(new(big.Int))
			b.WriteString(i.String())
		} else {
			b.WriteString(bf.Text('g', -1))
		}
	case t == cty.Bool:
		if v.True() {
			b.WriteString("true")
		} else {
			b.WriteString("false")
		}
	case t.IsListType() || t.IsSetType() || t.IsTupleType():
		b.WriteByte('[')
		for i, ev := range v.AsValueSlice() {
			if i > 0 {
				b.WriteByte(',')
			}
			encodeValue(b, ev, info)
		}
		b.WriteByte(']')
	case t.IsMapType() || t.IsObjectType():
		b.WriteByte('{')
		i := 0
		for it := v.ElementIterator(); it.Next(); i++ {
			k, ev := it.Element()
			if i > 0 {
				b.WriteByte(',')
			}
			writeJSONString(b, k.AsString())
			b.WriteByte(':')
			encodeValue(b, ev, info)
		}
		b.WriteByte('}')
	default:
		b.WriteString("null")
	}
}

func writeJSONString(b *bytes.Buffer, s string) {
	enc, _ := json.Marshal(s)
	b.Write(enc)
}
