package rok

import (
	"context"
	"strings"
	"testing"

	"github.com/zclconf/go-cty/cty"

	"github.com/rokflow/rokflow/steps"
)

func TestConfigSetRun(t *testing.T) {
	const key = "cluster.master_candidates"
	get := []string{"rok-config", "get", key}
	tests := []struct {
		name     string
		value    string // HCL expression
		host     *fakeHost
		argvs    []string
		previous string
		existed  bool
		changed  bool
		wantErr  string
		warn     string
	}{
		{
			name:  "pins a new value",
			value: `"rok2.prod"`,
			host: newFakeHost().on("rok1.prod,rok2.prod,rok3.prod\n", 0, get...).
				on("", 0, "rok-config", "set", key+"=rok2.prod"),
			argvs:    []string{"rok-config get " + key, "rok-config set " + key + "=rok2.prod"},
			previous: "rok1.prod,rok2.prod,rok3.prod", existed: true, changed: true,
		},
		{
			name:     "already set: no change",
			value:    `"rok2.prod"`,
			host:     newFakeHost().on("rok2.prod\n", 0, get...),
			argvs:    []string{"rok-config get " + key},
			previous: "rok2.prod", existed: true, changed: false,
		},
		{
			name:  "restores an empty value",
			value: `""`,
			host: newFakeHost().on("rok2.prod\n", 0, get...).
				on("", 0, "rok-config", "set", key+"="),
			argvs:    []string{"rok-config get " + key, "rok-config set " + key + "="},
			previous: "rok2.prod", existed: true, changed: true,
		},
		{
			name:  "tool prints key=value",
			value: `"b"`,
			host: newFakeHost().on(key+"=a\n", 0, get...).
				on("", 0, "rok-config", "set", key+"=b"),
			argvs:    []string{"rok-config get " + key, "rok-config set " + key + "=b"},
			previous: "a", existed: true, changed: true,
		},
		{
			name:  "key not set yet",
			value: `"rok2.prod"`,
			host: newFakeHost().onStderr("no such key", 1, get...).
				on("cluster.name=prod\n", 0, "rok-config", "get").
				on("", 0, "rok-config", "set", key+"=rok2.prod"),
			argvs:    []string{"rok-config get " + key, "rok-config get", "rok-config set " + key + "=rok2.prod"},
			previous: "", existed: false, changed: true, warn: "Configuration key not set yet",
		},
		{
			name:    "get fails for another reason",
			value:   `"rok2.prod"`,
			host:    newFakeHost().onStderr("permission denied", 1, get...).onStderr("permission denied", 1, "rok-config", "get"),
			argvs:   []string{"rok-config get " + key, "rok-config get"},
			wantErr: "permission denied",
		},
		{
			name:  "set fails and the secret stays hidden",
			value: `var.secret`,
			host: newFakeHost().on("old\n", 0, get...).
				onStderr("invalid value "+secret, 1, "rok-config", "set", key+"="+secret),
			argvs:   []string{"rok-config get " + key, "rok-config set " + key + "=" + secret},
			wantErr: "invalid value (sensitive)",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := decode(t, ConfigSet{}, "key = \""+key+"\"\nvalue = "+tt.value)
			resp := ConfigSet{}.Run(context.Background(), steps.RunRequest{Args: args, Host: tt.host})
			if got, want := strings.Join(tt.host.argvs(), "|"), strings.Join(tt.argvs, "|"); got != want {
				t.Errorf("ran %q, want %q", got, want)
			}
			if strings.Contains(resp.Diagnostics.Error(), secret) {
				t.Errorf("diagnostics leak the secret: %s", resp.Diagnostics)
			}
			if tt.wantErr != "" {
				if !resp.Diagnostics.HasErrors() || !strings.Contains(resp.Diagnostics.Error(), tt.wantErr) {
					t.Fatalf("diagnostics %v, want %q", resp.Diagnostics, tt.wantErr)
				}
				return
			}
			if resp.Diagnostics.HasErrors() {
				t.Fatal(resp.Diagnostics)
			}
			if tt.warn != "" && (len(resp.Diagnostics) != 1 || resp.Diagnostics[0].Summary != tt.warn) {
				t.Errorf("diagnostics %v, want warning %q", resp.Diagnostics, tt.warn)
			}
			out := resp.Outputs
			if !out.Type().Equals(configSetSchema.OutputType()) {
				t.Fatalf("output type %s", out.Type().FriendlyName())
			}
			if got := out.GetAttr("previous").AsString(); got != tt.previous {
				t.Errorf("previous %q, want %q", got, tt.previous)
			}
			if got := out.GetAttr("existed").True(); got != tt.existed {
				t.Errorf("existed %v, want %v", got, tt.existed)
			}
			if got := out.GetAttr("changed").True(); got != tt.changed {
				t.Errorf("changed %v, want %v", got, tt.changed)
			}
		})
	}
}

func TestConfigGetRun(t *testing.T) {
	t.Run("one key", func(t *testing.T) {
		h := newFakeHost().on("rok1.c,rok2.c\n", 0, "rok-config", "get", "cluster.master_candidates")
		resp := ConfigGet{}.Run(context.Background(), steps.RunRequest{Args: decode(t, ConfigGet{}, `key = "cluster.master_candidates"`), Host: h})
		if resp.Diagnostics.HasErrors() {
			t.Fatal(resp.Diagnostics)
		}
		if got := resp.Outputs.GetAttr("value").AsString(); got != "rok1.c,rok2.c" {
			t.Errorf("value %q", got)
		}
		if got := resp.Outputs.GetAttr("values").Index(cty.StringVal("cluster.master_candidates")).AsString(); got != "rok1.c,rok2.c" {
			t.Errorf("values[key] %q", got)
		}
	})
	t.Run("all keys", func(t *testing.T) {
		h := newFakeHost().on("cluster.name=prod\ncluster.master_candidates=rok1.c,rok2.c\ngw.task_gc.all.cronspec=0 3 * * *\nx.url=http://a/?b=c\n", 0, "rok-config", "get")
		resp := ConfigGet{}.Run(context.Background(), steps.RunRequest{Args: decode(t, ConfigGet{}, ``), Host: h})
		if resp.Diagnostics.HasErrors() {
			t.Fatal(resp.Diagnostics)
		}
		values := resp.Outputs.GetAttr("values")
		for k, want := range map[string]string{"cluster.name": "prod", "gw.task_gc.all.cronspec": "0 3 * * *", "x.url": "http://a/?b=c"} {
			if got := values.Index(cty.StringVal(k)).AsString(); got != want {
				t.Errorf("%s = %q, want %q", k, got, want)
			}
		}
	})
}

func TestParseConfigLines(t *testing.T) {
	tests := []struct {
		name, text, wantErr string
		want                map[string]string
	}{
		{name: "plain", text: "a=1\nb.c=2\n", want: map[string]string{"a": "1", "b.c": "2"}},
		{name: "comments, blanks, CRLF", text: "# all keys\r\n\r\na=1\r\n", want: map[string]string{"a": "1"}},
		{name: "empty value and = in value", text: "a=\nb=x=y\n", want: map[string]string{"a": "", "b": "x=y"}},
		{name: "not key=value", text: "a=1\nnonsense\n", wantErr: "line 2 is not key=value"},
		{name: "duplicate", text: "a=1\na=2\n", wantErr: "key a appears twice"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseConfigLines(tt.text)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
			for k, v := range tt.want {
				if got[k] != v {
					t.Errorf("%s = %q, want %q", k, got[k], v)
				}
			}
		})
	}
}
