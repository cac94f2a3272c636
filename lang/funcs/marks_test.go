package funcs

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/zclconf/go-cty/cty"
)

// knownAfter stands in for the caller's mark on unknown values.
type knownAfter struct{ addr string }

// TestSensitivePassesThrough calls functions with one sensitive argument and
// checks that the result is sensitive and otherwise unchanged.
func TestSensitivePassesThrough(t *testing.T) {
	base := t.TempDir()
	if err := os.WriteFile(filepath.Join(base, "secret.txt"), []byte("s3cret"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("ROKFLOW_TEST_SECRET", "hunter2")
	table := Table(base, false)
	list := cty.ListVal([]cty.Value{str("a"), str("b").Mark(sensitive)})

	tests := []struct {
		name string
		fn   string
		args []cty.Value
		want cty.Value // unmarked
	}{
		{"openstore_endpoint", "openstore_endpoint", []cty.Value{str("tcp://h:1")},
			endpointObj("", false, "tcp", "h", 1, "tcp://h:1")},
		{"openstore_format role", "openstore_format", []cty.Value{str("slave"), str("http://h:1")}, str("role=slave,http://h:1")},
		{"openstore_migrate", "openstore_migrate", []cty.Value{str("tcp://h:1")}, str("http://h:1")},
		{"openstore_rewrite_config", "openstore_rewrite_config", []cty.Value{str("connect = tcp://h:1\n")}, str("connect = role=slave,http://h:1\n")},
		{"openstore_rewrite_env", "openstore_rewrite_env", []cty.Value{str("X=tcp://h:1")}, str("X=http://h:1")},
		{"release", "release", []cty.Value{str("v0.11")}, str("0.11")},
		{"release_compare", "release_compare", []cty.Value{str("0.11"), str("0.10")}, cty.NumberIntVal(1)},
		{"release_at_least", "release_at_least", []cty.Value{str("0.11"), str("0.10")}, cty.True},
		{"env", "env", []cty.Value{str("ROKFLOW_TEST_SECRET")}, str("hunter2")},
		{"file", "file", []cty.Value{str("secret.txt")}, str("s3cret")},
		{"startswith", "startswith", []cty.Value{str("rok"), str("r")}, cty.True},
		{"endswith", "endswith", []cty.Value{str("rok"), str("k")}, cty.True},
		{"strcontains", "strcontains", []cty.Value{str("rok"), str("o")}, cty.True},
		{"replace", "replace", []cty.Value{str("tcp://h:1"), str("tcp:"), str("http:")}, str("http://h:1")},
		{"replace regexp", "replace", []cty.Value{str("tcp://h:1"), str("/^tcp/"), str("http")}, str("http://h:1")},
		{"length string", "length", []cty.Value{str("rok")}, cty.NumberIntVal(3)},
		{"upper", "upper", []cty.Value{str("rok")}, str("ROK")},
		{"format", "format", []cty.Value{str("%s!"), str("x")}, str("x!")},
		{"trimspace", "trimspace", []cty.Value{str(" x ")}, str("x")},
		{"jsonencode", "jsonencode", []cty.Value{str("x")}, str(`"x"`)},
		{"tostring", "tostring", []cty.Value{cty.NumberIntVal(3)}, str("3")},
	}
	for _, tt := range tests {
		for i := range tt.args {
			t.Run(tt.name+"/arg"+string(rune('0'+i)), func(t *testing.T) {
				args := append([]cty.Value(nil), tt.args...)
				args[i] = args[i].Mark(sensitive)
				got, err := table[tt.fn].Call(args)
				if err != nil {
					t.Fatalf("%s: %v", tt.fn, err)
				}
				if !got.HasMark(sensitive) {
					t.Fatalf("%s(%v) = %#v, lost the sensitive mark", tt.fn, args, got)
				}
				plain, _ := got.Unmark()
				if !plain.RawEquals(tt.want) {
					t.Fatalf("%s = %#v, want %#v", tt.fn, plain, tt.want)
				}
			})
		}
	}

	// Nested marks: a sensitive element inside a collection.
	t.Run("join of a list with a sensitive element", func(t *testing.T) {
		got, err := table["join"].Call([]cty.Value{str(","), list})
		if err != nil {
			t.Fatal(err)
		}
		if !got.HasMark(sensitive) {
			t.Fatalf("join = %#v, lost the sensitive mark", got)
		}
	})
	t.Run("length of a sensitive list", func(t *testing.T) {
		got, err := table["length"].Call([]cty.Value{list.Mark(sensitive)})
		if err != nil {
			t.Fatal(err)
		}
		if plain, _ := got.Unmark(); !got.HasMark(sensitive) || !plain.RawEquals(cty.NumberIntVal(2)) {
			t.Fatalf("length = %#v", got)
		}
	})
	t.Run("openstore_endpoint attributes stay sensitive", func(t *testing.T) {
		got, err := table["openstore_endpoint"].Call([]cty.Value{str("role=master,http://h:1").Mark(sensitive)})
		if err != nil {
			t.Fatal(err)
		}
		if host := got.GetAttr("host"); !host.HasMark(sensitive) {
			t.Fatalf("host = %#v, lost the sensitive mark", host)
		}
	})
}

// TestSensitiveErrorsHideValues checks that an error about a sensitive
// argument does not quote it, while the same error about a plain argument
// does.
func TestSensitiveErrorsHideValues(t *testing.T) {
	const secret = "hunter2"
	table := Table(t.TempDir(), false)
	tests := []struct {
		name string
		fn   string
		args []cty.Value
		arg  int    // which argument is secret
		safe string // the value-free message expected when it is marked
	}{
		{"openstore_endpoint", "openstore_endpoint", []cty.Value{str("role=" + secret + ",http://h:1")}, 0, "not a valid OpenStore endpoint"},
		{"openstore_migrate", "openstore_migrate", []cty.Value{str("tcp://" + secret)}, 0, "not a valid OpenStore endpoint"},
		{"openstore_format role", "openstore_format", []cty.Value{str(secret), str("http://h:1")}, 0, "not a valid OpenStore role"},
		{"openstore_format url", "openstore_format", []cty.Value{str("slave"), str("http://" + secret)}, 1, "not a valid OpenStore endpoint"},
		{"openstore_rewrite_config", "openstore_rewrite_config", []cty.Value{str("[a]\nx = 1\nconnect = tcp://" + secret + "\nfoo = tcp://h:1\n")}, 0, "cannot migrate lines 3, 4"},
		{"openstore_rewrite_env", "openstore_rewrite_env", []cty.Value{str("P=role=" + secret + ",tcp://h:1\n")}, 0, "cannot migrate line 1"},
		{"release", "release", []cty.Value{str(secret)}, 0, "not a valid version"},
		{"release_compare", "release_compare", []cty.Value{str("1.0"), str(secret)}, 1, "not a valid version"},
		{"release_at_least", "release_at_least", []cty.Value{str(secret), str("1.0")}, 0, "not a valid version"},
		{"file", "file", []cty.Value{str(secret + ".txt")}, 0, "no such file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := table[tt.fn].Call(tt.args)
			if err == nil || !strings.Contains(err.Error(), secret) {
				t.Fatalf("plain error = %v, want it to show the value", err)
			}
			args := append([]cty.Value(nil), tt.args...)
			args[tt.arg] = args[tt.arg].Mark(sensitive)
			_, err = table[tt.fn].Call(args)
			if err == nil {
				t.Fatal("no error for a sensitive argument")
			}
			if strings.Contains(err.Error(), secret) {
				t.Fatalf("error leaks the sensitive value: %v", err)
			}
			want := tt.safe + " (details hidden because the value is sensitive)"
			if err.Error() != want {
				t.Fatalf("error = %q, want %q", err, want)
			}
		})
	}
}

// TestUnknownArguments checks that unknown arguments give unknown results of
// the declared type, keeping the marks (such as "known after step x").
func TestUnknownArguments(t *testing.T) {
	table := Table(t.TempDir(), false)
	later := cty.UnknownVal(cty.String).Mark(knownAfter{"step.read_conf"})
	tests := []struct {
		name string
		fn   string
		args []cty.Value
		ty   cty.Type
	}{
		{"openstore_endpoint", "openstore_endpoint", []cty.Value{later}, EndpointType},
		{"openstore_format", "openstore_format", []cty.Value{str("slave"), later}, cty.String},
		{"openstore_migrate", "openstore_migrate", []cty.Value{later}, cty.String},
		{"openstore_rewrite_config", "openstore_rewrite_config", []cty.Value{later}, cty.String},
		{"release_compare", "release_compare", []cty.Value{later, str("0.11")}, cty.Number},
		{"release_at_least", "release_at_least", []cty.Value{str("0.11"), later}, cty.Bool},
		{"release", "release", []cty.Value{later}, cty.String},
		{"env", "env", []cty.Value{later}, cty.String},
		{"file", "file", []cty.Value{later}, cty.String},
		{"dynamic", "release", []cty.Value{cty.DynamicVal}, cty.String},
		{"length", "length", []cty.Value{later}, cty.Number},
		{"replace", "replace", []cty.Value{later, str("a"), str("b")}, cty.String},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := table[tt.fn].Call(tt.args)
			if err != nil {
				t.Fatal(err)
			}
			if got.IsKnown() || !got.Type().Equals(tt.ty) {
				t.Fatalf("%s = %#v, want an unknown %s", tt.fn, got, tt.ty.FriendlyName())
			}
			if tt.name != "dynamic" && !got.HasMark(knownAfter{"step.read_conf"}) {
				t.Fatalf("%s = %#v, lost the known-after mark", tt.fn, got)
			}
		})
	}
}
