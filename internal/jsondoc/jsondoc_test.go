package jsondoc

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

func TestParseVersion(t *testing.T) {
	good := map[string]Version{"1.0": {1, 0}, "2.13": {2, 13}, "0.1": {0, 1}}
	for s, want := range good {
		if v, ok := ParseVersion(s); !ok || v != want || v.String() != s {
			t.Errorf("ParseVersion(%q) = %v, %v", s, v, ok)
		}
	}
	for _, s := range []string{"", "1", "1.", ".1", "1.2.3", "v1.0", "+1.0", "1.-1", "1.x", " 1.0"} {
		if v, ok := ParseVersion(s); ok {
			t.Errorf("ParseVersion(%q) = %v, want refused", s, v)
		}
	}
}

func TestCheck(t *testing.T) {
	d := Doc{Name: "plan", Version: Version{1, 3}, Oldest: Version{1, 1}}
	tests := map[string]struct {
		doc  string
		want Version
		err  string // "" when read
	}{
		"same":            {`{"format_version": "1.3"}`, Version{1, 3}, ""},
		"older minor":     {`{"format_version": "1.1", "x": 1}`, Version{1, 1}, ""},
		"newer minor":     {`{"format_version": "1.9"}`, Version{1, 9}, ""},
		"newer major":     {`{"format_version": "2.0"}`, Version{}, "f.json is a plan of format 2.0, and this rokflow reads format 1.3 at most: use a newer rokflow"},
		"older major":     {`{"format_version": "0.9"}`, Version{}, "f.json is a plan of format 0.9, and this rokflow reads formats 1.1 to 1.3: make it again with this rokflow"},
		"too old a minor": {`{"format_version": "1.0"}`, Version{}, "reads formats 1.1 to 1.3"},
		"missing":         {`{"hash": "x"}`, Version{}, "f.json is not a rokflow plan: it has no format_version"},
		"empty":           {`{"format_version": ""}`, Version{}, "it has no format_version"},
		"a number":        {`{"format_version": 1.3}`, Version{}, `f.json is not a rokflow plan: its format_version is 1.3, not a string "MAJOR.MINOR"`},
		"not MAJOR.MINOR": {`{"format_version": "1.2.3"}`, Version{}, `its format_version "1.2.3" is not MAJOR.MINOR`},
		"not an object":   {`[1, 2]`, Version{}, "f.json is not a rokflow plan: json: cannot unmarshal array"},
		"not JSON":        {`format_version: 1.3`, Version{}, "f.json is not a rokflow plan: invalid character"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			v, err := d.Check("f.json", []byte(tc.doc))
			switch {
			case tc.err == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tc.err == "" && v != tc.want:
				t.Fatalf("version %v, want %v", v, tc.want)
			case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
				t.Fatalf("error %v, want one with %q", err, tc.err)
			case tc.err != "" && strings.Contains(err.Error(), "\n"):
				t.Fatalf("the error is not one line: %q", err)
			}
		})
	}
	var ve *VersionError
	if _, err := d.Check("f.json", []byte(`{"format_version": "2.0"}`)); !errors.As(err, &ve) || ve.Found != "2.0" {
		t.Errorf("a newer major is not a *VersionError naming it: %#v", err)
	}
}

func TestWriteStampsAndRefusesAnUnversionedDocument(t *testing.T) {
	d := Doc{Name: "thing", Version: Version{1, 2}}
	var b bytes.Buffer
	doc := struct {
		Header
		N int `json:"n"`
	}{d.Header(), 3}
	if err := d.Write(&b, doc); err != nil {
		t.Fatal(err)
	}
	if want := "{\n  \"format_version\": \"1.2\",\n  \"n\": 3\n}\n"; b.String() != want {
		t.Fatalf("wrote %q, want %q", b.String(), want)
	}
	for name, v := range map[string]any{
		"no header": struct{ N int }{3},
		"header later": struct {
			N int
			Header
		}{3, d.Header()},
		"other version": struct{ Header }{Header{"1.1"}},
		"not an object": []int{1},
	} {
		b.Reset()
		if err := d.Write(&b, v); err == nil || b.Len() > 0 {
			t.Errorf("%s: wrote %q (error %v), want a refusal and nothing written", name, b.String(), err)
		}
	}
	if _, err := d.Check("out", []byte(`{"format_version":"1.2","n":3}`)); err != nil {
		t.Errorf("Check refuses what Write writes: %v", err)
	}
}

func TestAllDocsAreDistinctAndConsistent(t *testing.T) {
	seen := map[string]bool{}
	for _, d := range All() {
		if d.Name == "" || d.Reference == "" || seen[d.Name] {
			t.Errorf("%+v: every document has a name of its own and a reference", d)
		}
		seen[d.Name] = true
		if d.Oldest.Major != d.Version.Major || d.Oldest.Minor > d.Version.Minor {
			t.Errorf("%s: oldest read %s does not fit version %s", d.Name, d.Oldest, d.Version)
		}
	}
}
