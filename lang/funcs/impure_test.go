package funcs

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/zclconf/go-cty/cty"
)

func TestEnv(t *testing.T) {
	t.Setenv("ROKFLOW_TEST_ENDPOINT", "tcp://10.0.0.11:8080")
	t.Setenv("ROKFLOW_TEST_EMPTY", "")
	runCalls(t, MakeEnvFunc(false), []callCase{
		{name: "set", args: []cty.Value{str("ROKFLOW_TEST_ENDPOINT")}, want: str("tcp://10.0.0.11:8080")},
		{name: "set but empty", args: []cty.Value{str("ROKFLOW_TEST_EMPTY")}, want: str("")},
		{name: "unset", args: []cty.Value{str("ROKFLOW_TEST_SURELY_UNSET_VARIABLE")}, want: str("")},
		{name: "empty name", args: []cty.Value{str("")}, error: "variable name must not be empty"},
	})
}

func TestFile(t *testing.T) {
	base := t.TempDir()
	other := t.TempDir()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.WriteFile(filepath.Join(base, "daemons.conf"), []byte("[composerd.0]\n"), 0o644))
	must(os.MkdirAll(filepath.Join(base, "sub"), 0o755))
	must(os.WriteFile(filepath.Join(base, "sub", "env"), []byte("A=1\n"), 0o644))
	must(os.WriteFile(filepath.Join(other, "abs.txt"), []byte("absolute"), 0o644))
	must(os.WriteFile(filepath.Join(base, "binary"), []byte{0xff, 0xfe, 0x00}, 0o644))
	must(os.WriteFile(filepath.Join(base, "empty"), nil, 0o644))

	runCalls(t, MakeFileFunc(base, false), []callCase{
		{name: "relative", args: []cty.Value{str("daemons.conf")}, want: str("[composerd.0]\n")},
		{name: "nested", args: []cty.Value{str("sub/env")}, want: str("A=1\n")},
		{name: "dot dot", args: []cty.Value{str("sub/../daemons.conf")}, want: str("[composerd.0]\n")},
		{name: "absolute", args: []cty.Value{str(filepath.Join(other, "abs.txt"))}, want: str("absolute")},
		{name: "empty file", args: []cty.Value{str("empty")}, want: str("")},
		{name: "missing", args: []cty.Value{str("nope.conf")}, error: "no file exists at " + `"` + filepath.Join(base, "nope.conf") + `"`},
		{name: "directory", args: []cty.Value{str("sub")}, error: "is a directory, not a file"},
		{name: "not utf-8", args: []cty.Value{str("binary")}, error: "are not valid UTF-8"},
		{name: "empty path", args: []cty.Value{str("")}, error: "path must not be empty"},
	})
}

func TestTimestamp(t *testing.T) {
	before := time.Now().UTC().Truncate(time.Second)
	got, err := MakeTimestampFunc(false).Call(nil)
	if err != nil {
		t.Fatal(err)
	}
	ts, err := time.Parse(time.RFC3339, got.AsString())
	if err != nil {
		t.Fatalf("timestamp() = %q is not RFC 3339: %v", got.AsString(), err)
	}
	if ts.Before(before) || ts.Location() != time.UTC {
		t.Fatalf("timestamp() = %v, want a UTC time not before %v", ts, before)
	}
}

// TestPureTable checks that with pure set the impure functions read nothing
// and return unknown strings, keeping their arguments' marks, while pure
// functions still compute.
func TestPureTable(t *testing.T) {
	t.Setenv("ROKFLOW_TEST_PURE", "value")
	table := Table(t.TempDir(), true)
	tests := []struct {
		name string
		fn   string
		args []cty.Value
	}{
		{"env", "env", []cty.Value{str("ROKFLOW_TEST_PURE")}},
		{"env with empty name is not checked", "env", []cty.Value{str("")}},
		{"file that does not exist is not read", "file", []cty.Value{str("missing.conf")}},
		{"timestamp", "timestamp", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := table[tt.fn].Call(tt.args)
			if err != nil {
				t.Fatalf("%s: %v", tt.fn, err)
			}
			if got.IsKnown() || got.Type() != cty.String {
				t.Fatalf("%s = %#v, want an unknown string", tt.fn, got)
			}
			if got.Range().CouldBeNull() {
				t.Fatalf("%s result could be null; want it refined as not null", tt.fn)
			}
			if len(tt.args) == 0 {
				return
			}
			marked, err := table[tt.fn].Call([]cty.Value{tt.args[0].Mark(sensitive)})
			if err != nil {
				t.Fatal(err)
			}
			if !marked.HasMark(sensitive) || marked.IsKnown() {
				t.Fatalf("%s of a sensitive argument = %#v, want unknown and sensitive", tt.fn, marked)
			}
		})
	}
	if got, err := table["upper"].Call([]cty.Value{str("rok")}); err != nil || got.AsString() != "ROK" {
		t.Fatalf("pure functions must still compute in a pure table: %#v, %v", got, err)
	}
	if got, err := table["release"].Call([]cty.Value{str("v0.11")}); err != nil || got.AsString() != "0.11" {
		t.Fatalf("release must still compute in a pure table: %#v, %v", got, err)
	}
}

func TestImpureFunctions(t *testing.T) {
	names := ImpureFunctions()
	names[0] = "mutated"
	names = ImpureFunctions()
	want := []string{"env", "file", "timestamp"}
	if len(names) != len(want) {
		t.Fatalf("ImpureFunctions() = %q, want %q", names, want)
	}
	impure, pure := Table("", false), Table("", true)
	for i, n := range names {
		t.Run(n, func(t *testing.T) {
			if n != want[i] {
				t.Fatalf("name %d = %q, want %q", i, n, want[i])
			}
			if _, ok := impure[n]; !ok {
				t.Fatalf("%q missing from Table", n)
			}
			if _, ok := pure[n]; !ok {
				t.Fatalf("%q missing from the pure Table", n)
			}
		})
	}
}
