package state

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"strconv"
	"time"
)

// knownKind reports whether this rokflow writes records of kind k.
func knownKind(k string) bool {
	switch k {
	case KindRun, KindStep, KindApproval, KindResolve, KindObligation, KindEnd, KindTarget:
		return true
	}
	return false
}

// seqPlaceholder is how an encoded record begins before the backend knows
// its sequence number: Schema and Seq are the first two fields of Record,
// so the encoding begins `{"v":1,"seq":0` and withSeq splices the number
// in without encoding the record again.
var seqPlaceholder = []byte(`{"v":` + strconv.Itoa(SchemaVersion) + `,"seq":0`)

// prepare checks records for Append, fills Schema and Time, and encodes
// each with Seq 0 (see withSeq). Nothing is written when it fails.
func prepare(recs []Record, now time.Time) ([][]byte, error) {
	out := make([][]byte, len(recs))
	for i := range recs {
		r := &recs[i]
		if !knownKind(r.Kind) {
			return nil, fmt.Errorf("record %d: unknown kind %q", i+1, r.Kind)
		}
		if r.Run == "" && r.Kind != KindApproval {
			return nil, fmt.Errorf("record %d (%s %s): no run", i+1, r.Kind, r.Addr)
		}
		b, err := stamp(r, now)
		if err != nil {
			return nil, fmt.Errorf("record %d (%s %s): %w", i+1, r.Kind, r.Addr, err)
		}
		out[i] = b
	}
	return out, nil
}

// validate checks records for Append and fills Schema and Time, as
// prepare does, without encoding them: the memory backend keeps records
// as they are.
func validate(recs []Record, now time.Time) error {
	for i := range recs {
		r := &recs[i]
		if !knownKind(r.Kind) {
			return fmt.Errorf("record %d: unknown kind %q", i+1, r.Kind)
		}
		if r.Run == "" && r.Kind != KindApproval {
			return fmt.Errorf("record %d (%s %s): no run", i+1, r.Kind, r.Addr)
		}
		switch r.Schema {
		case 0:
			r.Schema = SchemaVersion
		case SchemaVersion:
		default:
			return fmt.Errorf("record %d (%s %s): schema version %d: this rokflow writes version %d", i+1, r.Kind, r.Addr, r.Schema, SchemaVersion)
		}
		if r.Time.IsZero() {
			r.Time = now
		}
		if len(r.Outputs) > 0 && !json.Valid(r.Outputs) {
			return fmt.Errorf("record %d (%s %s): outputs are not valid JSON", i+1, r.Kind, r.Addr)
		}
	}
	return nil
}

// prepareApproval checks a record for Approve, fills Kind, Schema and Time,
// and encodes it.
func prepareApproval(r *Record, now time.Time) ([]byte, error) {
	if r.Kind == "" {
		r.Kind = KindApproval
	}
	if r.Kind != KindApproval {
		return nil, fmt.Errorf("approve: record kind is %q, want %q", r.Kind, KindApproval)
	}
	if r.Addr == "" {
		return nil, fmt.Errorf("approve: no address to approve")
	}
	r.Seq = 0
	b, err := stamp(r, now)
	if err != nil {
		return nil, fmt.Errorf("approve %s: %w", r.Addr, err)
	}
	return b, nil
}

// stamp fills Schema and Time and encodes r with Seq 0.
func stamp(r *Record, now time.Time) ([]byte, error) {
	switch r.Schema {
	case 0:
		r.Schema = SchemaVersion
	case SchemaVersion:
	default:
		return nil, fmt.Errorf("schema version %d: this rokflow writes version %d", r.Schema, SchemaVersion)
	}
	if r.Time.IsZero() {
		r.Time = now
	}
	if len(r.Outputs) > 0 && !json.Valid(r.Outputs) {
		return nil, fmt.Errorf("outputs are not valid JSON")
	}
	seq := r.Seq
	r.Seq = 0
	b, err := json.Marshal(r)
	r.Seq = seq
	if err != nil {
		return nil, err
	}
	if !bytes.HasPrefix(b, seqPlaceholder) {
		// Unreachable while Schema and Seq lead Record; fail loudly if not.
		return nil, fmt.Errorf("internal error: record encoding begins %.20q", b)
	}
	return b, nil
}

// withSeq returns the encoding made by prepare with seq spliced in.
func withSeq(dst, enc []byte, seq uint64) []byte {
	dst = append(dst, seqPlaceholder[:len(seqPlaceholder)-1]...)
	dst = strconv.AppendUint(dst, seq, 10)
	return append(dst, enc[len(seqPlaceholder):]...)
}

// decode reads one stored record and checks what every reader relies on.
// The error is a reason, to be wrapped with where the record was found.
func decode(b []byte) (Record, error) {
	var r Record
	if err := json.Unmarshal(b, &r); err != nil {
		return r, fmt.Errorf("not a record: %v", err)
	}
	if r.Schema > SchemaVersion {
		return r, &SchemaError{Seq: r.Seq, Version: r.Schema}
	}
	if r.Schema < 1 {
		return r, fmt.Errorf("record has no schema version")
	}
	if r.Kind == "" {
		return r, fmt.Errorf("record %d has no kind", r.Seq)
	}
	return r, nil
}

// clone copies r so that the copy shares no memory with it.
func clone(r Record) Record {
	if r.Outputs != nil {
		r.Outputs = append(json.RawMessage(nil), r.Outputs...)
	}
	if r.Holder != nil {
		h := *r.Holder
		r.Holder = &h
	}
	if r.Identity != nil {
		id := *r.Identity
		id.Values = maps.Clone(id.Values)
		id.Target = maps.Clone(id.Target)
		r.Identity = &id
	}
	r.Facts = maps.Clone(r.Facts)
	return r
}
