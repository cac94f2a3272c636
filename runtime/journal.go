package runtime

import (
	"context"
	"encoding/json"
	"time"

	"github.com/zclconf/go-cty/cty"
	ctyjson "github.com/zclconf/go-cty/cty/json"

	"github.com/rokflow/rokflow/lang/marks"
	"github.com/rokflow/rokflow/runtime/state"
)

// journal writes records through the run's session.
type journal struct {
	s   state.Session
	now func() time.Time
}

func (j *journal) append(ctx context.Context, recs ...state.Record) error {
	for i := range recs {
		recs[i].Schema = state.SchemaVersion
		if recs[i].Time.IsZero() {
			recs[i].Time = j.now()
		}
	}
	return j.s.Append(ctx, recs...)
}

// storedOutputs is how outputs are kept in the journal: the cty type and
// value in cty's JSON forms, with sensitive parts left out (Masked lists
// them) so that a secret never reaches the journal.
type storedOutputs struct {
	Type   json.RawMessage `json:"type"`
	Value  json.RawMessage `json:"value"`
	Masked bool            `json:"masked,omitempty"`
}

func encodeOutputs(v cty.Value) json.RawMessage {
	if v.Type().IsObjectType() && len(v.Type().AttributeTypes()) == 0 {
		return nil
	}
	masked := false
	if marks.IsSensitive(v) {
		masked = true
		v, _ = cty.Transform(v, func(_ cty.Path, v cty.Value) (cty.Value, error) {
			if v.HasMark(marks.Sensitive) {
				return cty.NullVal(v.Type()), nil
			}
			return v, nil
		})
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
	b, _ := json.Marshal(storedOutputs{Type: ty, Value: val, Masked: masked})
	return b
}

// decodeOutputs reads outputs back; a value that had sensitive parts
// comes back with those parts null and the whole marked sensitive.
func decodeOutputs(raw json.RawMessage) cty.Value {
	if len(raw) == 0 {
		return cty.NilVal
	}
	var so storedOutputs
	if err := json.Unmarshal(raw, &so); err != nil {
		return cty.NilVal
	}
	ty, err := ctyjson.UnmarshalType(so.Type)
	if err != nil {
		return cty.NilVal
	}
	v, err := ctyjson.Unmarshal(so.Value, ty)
	if err != nil {
		return cty.NilVal
	}
	if so.Masked {
		v = v.Mark(marks.Sensitive)
	}
	return v
}
