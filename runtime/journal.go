package runtime

import (
	"context"
	"encoding/json"
	"sort"
	"sync"
	"time"

	"github.com/zclconf/go-cty/cty"
	ctyjson "github.com/zclconf/go-cty/cty/json"

	"github.com/rokflow/rokflow/lang/marks"
	"github.com/rokflow/rokflow/runtime/state"
)

// journal writes records through the run's session. After a write fails
// it writes nothing more: the failed records' fate is unknown, or the
// lock is lost (state.Session.Append), and the run must stop.
type journal struct {
	s   state.Session
	now func() time.Time

	mu     sync.Mutex
	broken error
}

func (j *journal) append(ctx context.Context, recs ...state.Record) error {
	j.mu.Lock()
	broken := j.broken
	j.mu.Unlock()
	if broken != nil {
		return broken
	}
	for i := range recs {
		recs[i].Schema = state.SchemaVersion
		if recs[i].Time.IsZero() {
			recs[i].Time = j.now()
		}
	}
	err := j.s.Append(ctx, recs...)
	if err != nil && ctx.Err() == nil {
		j.mu.Lock()
		if j.broken == nil {
			j.broken = err
		}
		j.mu.Unlock()
	}
	return err
}

// storedOutputs is how outputs are kept in the journal: the cty type and
// value in cty's JSON forms, with sensitive parts left out (null) so that
// a secret never reaches the journal. Masked says some were; MaskedAttrs
// names the top-level outputs left out, when the rest was kept.
type storedOutputs struct {
	Type        json.RawMessage `json:"type"`
	Value       json.RawMessage `json:"value"`
	Masked      bool            `json:"masked,omitempty"`
	MaskedAttrs []string        `json:"masked_attrs,omitempty"`
}

func encodeOutputs(v cty.Value) json.RawMessage {
	if v.Type().IsObjectType() && len(v.Type().AttributeTypes()) == 0 {
		return nil
	}
	so := storedOutputs{}
	if marks.IsSensitive(v) {
		so.Masked = true
		whole := false
		attrs := map[string]bool{}
		v, _ = cty.Transform(v, func(p cty.Path, v cty.Value) (cty.Value, error) {
			if v.HasMark(marks.Sensitive) {
				if ga, ok := firstAttr(p); ok {
					attrs[ga] = true
				} else {
					whole = true
				}
				return cty.NullVal(v.Type()), nil
			}
			return v, nil
		})
		if !whole {
			for a := range attrs {
				so.MaskedAttrs = append(so.MaskedAttrs, a)
			}
			sort.Strings(so.MaskedAttrs)
		}
	}
	v, _ = v.UnmarkDeep()
	ty, err := ctyjson.MarshalType(v.Type())
	if err != nil {
		return nil
	}
	val, err := ctyjson.Marshal(v, v.Type())
	if err != nil {
		return nil
	}
	so.Type, so.Value = ty, val
	b, _ := json.Marshal(so)
	return b
}

func firstAttr(p cty.Path) (string, bool) {
	if len(p) == 0 {
		return "", false
	}
	ga, ok := p[0].(cty.GetAttrStep)
	return ga.Name, ok
}

// decodeOutputs reads outputs back. What was left out because it was
// sensitive is not known any more: those outputs come back unknown (and
// sensitive), so that nothing uses a null in their place; lost says some
// are. When the whole value was left out it returns NilVal.
func decodeOutputs(raw json.RawMessage) (v cty.Value, lost bool) {
	if len(raw) == 0 {
		return cty.NilVal, false
	}
	var so storedOutputs
	if err := json.Unmarshal(raw, &so); err != nil {
		return cty.NilVal, true
	}
	ty, err := ctyjson.UnmarshalType(so.Type)
	if err != nil {
		return cty.NilVal, true
	}
	v, err = ctyjson.Unmarshal(so.Value, ty)
	if err != nil {
		return cty.NilVal, true
	}
	if !so.Masked {
		return v, false
	}
	if len(so.MaskedAttrs) == 0 || !ty.IsObjectType() {
		return cty.NilVal, true
	}
	attrs := v.AsValueMap()
	for _, a := range so.MaskedAttrs {
		if at, ok := attrs[a]; ok {
			attrs[a] = cty.UnknownVal(at.Type()).Mark(marks.Sensitive)
		}
	}
	return cty.ObjectVal(attrs), true
}
