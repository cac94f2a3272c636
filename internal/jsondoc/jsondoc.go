package jsondoc

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// Version is a document format's version: MAJOR.MINOR.
type Version struct {
	Major, Minor int
}

// String is the version as documents carry it: "1.3".
func (v Version) String() string { return strconv.Itoa(v.Major) + "." + strconv.Itoa(v.Minor) }

// ParseVersion reads "MAJOR.MINOR" (two unsigned decimal numbers).
func ParseVersion(s string) (Version, bool) {
	maj, min, ok := strings.Cut(s, ".")
	if !ok {
		return Version{}, false
	}
	a, err1 := strconv.ParseUint(maj, 10, 31)
	b, err2 := strconv.ParseUint(min, 10, 31)
	if err1 != nil || err2 != nil || strings.HasPrefix(maj, "+") || strings.HasPrefix(min, "+") {
		return Version{}, false
	}
	return Version{int(a), int(b)}, true
}

// Doc is one kind of JSON document rokflow prints or writes.
type Doc struct {
	// Name is what a person calls a document of this kind: "plan".
	Name string
	// Version is the format this rokflow writes, and the newest it reads.
	Version Version
	// Oldest is the oldest format of the same major this rokflow reads;
	// readers of older minors fill what those lacked.
	Oldest Version
	// Reference is the page that documents the fields.
	Reference string
	// Schema is the JSON Schema's file name under docs/schemas, "" when
	// there is none yet.
	Schema string
}

// The documents rokflow prints or writes, each with the version this
// rokflow writes. Change a version only with its documentation, its
// schema (go test ./cmd/rokflow -run Schema -update) and, for a new
// major, a sentence in the documentation on what broke.
var (
	// Plan is `plan --json`, the file `plan --out` saves (apply reads
	// it) and the chain document `plan CATALOGUE --to R --json`.
	// 1.1 added undo_instances, undo_when and undo_reads; 1.2 release;
	// 1.3 documents facts, now JSON values (1.2 wrote each as JSON text
	// in a string, which apply still reads) and description.
	Plan = Doc{Name: "plan", Version: Version{1, 3}, Oldest: Version{1, 0}, Reference: "docs/plan-json.md", Schema: "plan.schema.json"}
	// Events is each line of `apply --json`. 2.0 replaced the number
	// "schema": 1 with "format_version"; 2.1 added the gate_approval and
	// gate_end events and the gates' fields (instructions, by, how,
	// approvals, needed, deadline).
	Events = Doc{Name: "apply event", Version: Version{2, 1}, Oldest: Version{2, 0}, Reference: "docs/events-json.md", Schema: "events.schema.json"}
	// StateShow is `state show --json`; 1.1 added each gate's approvals
	// (by, how, time), 1.2 the waiting status and a waiting gate's needed.
	StateShow = Doc{Name: "state show document", Version: Version{1, 2}, Oldest: Version{1, 0}, Reference: "docs/json.md", Schema: "state-show.schema.json"}
	// StateList is `state list --json`.
	StateList = Doc{Name: "state list document", Version: Version{1, 0}, Oldest: Version{1, 0}, Reference: "docs/json.md", Schema: "state-list.schema.json"}
	// SimStatus is `sim status --json`.
	SimStatus = Doc{Name: "simulator status", Version: Version{1, 0}, Oldest: Version{1, 0}, Reference: "docs/json.md", Schema: "sim-status.schema.json"}
	// SimFaults is `sim fault --json`.
	SimFaults = Doc{Name: "simulator fault list", Version: Version{1, 0}, Oldest: Version{1, 0}, Reference: "docs/json.md", Schema: "sim-faults.schema.json"}
	// Steps is `steps --json`.
	Steps = Doc{Name: "step kind documentation", Version: Version{1, 0}, Oldest: Version{1, 0}, Reference: "docs/json.md", Schema: "steps.schema.json"}
	// TestReport is `test --json`.
	TestReport = Doc{Name: "test report", Version: Version{1, 0}, Oldest: Version{1, 0}, Reference: "docs/test-json.md", Schema: "test.schema.json"}
	// Validate is `validate --json`.
	Validate = Doc{Name: "validation report", Version: Version{1, 0}, Oldest: Version{1, 0}, Reference: "docs/validate-json.md", Schema: "validate.schema.json"}
)

// All lists every kind of document, for the tests that hold each to its
// schema and documentation.
func All() []Doc {
	return []Doc{Plan, Events, StateShow, StateList, SimStatus, SimFaults, Steps, TestReport, Validate}
}

// Header is the field every document and event line begins with. Embed it
// first in a document's type and fill it with Doc.Header.
type Header struct {
	// FormatVersion is "MAJOR.MINOR", the version of the document's format.
	FormatVersion string `json:"format_version"`
}

// Header returns the header of a document of this kind.
func (d Doc) Header() Header { return Header{FormatVersion: d.Version.String()} }

// Write encodes v, a document of this kind whose first field is its
// Header, as indented JSON and a newline. It refuses a document that does
// not begin with this kind's format_version, so that none leaves rokflow
// without it.
func (d Doc) Write(w io.Writer, v any) error {
	b, err := d.Marshal(v)
	if err != nil {
		return err
	}
	var out bytes.Buffer
	if err := json.Indent(&out, b, "", "  "); err != nil {
		return err
	}
	out.WriteByte('\n')
	_, err = w.Write(out.Bytes())
	return err
}

// Marshal encodes v like json.Marshal, refusing a document that does not
// begin with this kind's format_version.
func (d Doc) Marshal(v any) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	if want := `{"format_version":"` + d.Version.String() + `"`; !bytes.HasPrefix(b, []byte(want)) {
		return nil, fmt.Errorf("a %s must begin with %s}", d.Name, want)
	}
	return b, nil
}

// VersionError is a document whose format version this rokflow does not
// read.
type VersionError struct {
	// Source names the document: a file, or the command that printed it.
	Source string
	Doc    Doc
	// Found is the format_version found, "" when there was none; when
	// NotString, the JSON text of a format_version that is not a string.
	Found     string
	NotString bool
}

func (e *VersionError) Error() string {
	if e.Found == "" {
		return fmt.Sprintf("%s is not a rokflow %s: it has no format_version", e.Source, e.Doc.Name)
	}
	if e.NotString {
		return fmt.Sprintf("%s is not a rokflow %s: its format_version is %s, not a string \"MAJOR.MINOR\"", e.Source, e.Doc.Name, e.Found)
	}
	v, ok := ParseVersion(e.Found)
	if !ok {
		return fmt.Sprintf("%s is not a rokflow %s: its format_version %q is not MAJOR.MINOR", e.Source, e.Doc.Name, e.Found)
	}
	if v.Major > e.Doc.Version.Major {
		return fmt.Sprintf("%s is a %s of format %s, and this rokflow reads format %s at most: use a newer rokflow", e.Source, e.Doc.Name, e.Found, e.Doc.Version)
	}
	return fmt.Sprintf("%s is a %s of format %s, and this rokflow reads formats %s to %s: make it again with this rokflow", e.Source, e.Doc.Name, e.Found, e.Doc.Oldest, e.Doc.Version)
}

// Check reads the format_version of data, a document of this kind that
// source names, and returns it when this rokflow reads that format: the
// same major as Version, a minor from Oldest's on. A newer minor is read
// too (its added fields are ignored). Anything else is a *VersionError;
// data that is not a JSON object is an error naming source.
func (d Doc) Check(source string, data []byte) (Version, error) {
	var head struct {
		FormatVersion *json.RawMessage `json:"format_version"`
	}
	if err := json.Unmarshal(data, &head); err != nil {
		return Version{}, fmt.Errorf("%s is not a rokflow %s: %w", source, d.Name, err)
	}
	if head.FormatVersion == nil {
		return Version{}, &VersionError{Source: source, Doc: d}
	}
	var found string
	if err := json.Unmarshal(*head.FormatVersion, &found); err != nil {
		return Version{}, &VersionError{Source: source, Doc: d, Found: string(*head.FormatVersion), NotString: true}
	}
	return d.CheckVersion(source, found)
}

// CheckVersion is Check of a format_version already read.
func (d Doc) CheckVersion(source, found string) (Version, error) {
	if found == "" {
		return Version{}, &VersionError{Source: source, Doc: d}
	}
	v, ok := ParseVersion(found)
	if !ok || v.Major != d.Version.Major || v.Minor < d.Oldest.Minor {
		return Version{}, &VersionError{Source: source, Doc: d, Found: found}
	}
	return v, nil
}
