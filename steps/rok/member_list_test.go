package rok

import (
	"context"
	"strings"
	"testing"

	"github.com/zclconf/go-cty/cty"

	"github.com/rokflow/rokflow/steps"
)

const memberTable = `NAME                 ADDRESS      ROLE    MASTER-CAPABLE  STATE    VERSION
rok1.prod-cluster    10.0.0.11    slave   yes             online   0.10.2
rok2.prod-cluster    10.0.0.12    master  yes             online   0.10.2
rok3.prod-cluster    10.0.0.13    slave   no              offline  0.10.2
`

const memberJSON = `{"cluster": "prod-cluster", "master": "rok2.prod-cluster",
 "members": [
  {"name": "rok1.prod-cluster", "address": "10.0.0.11", "role": "slave", "master_capable": true, "state": "online", "version": "0.10.2"},
  {"name": "rok2.prod-cluster", "address": "10.0.0.12", "role": "master", "master_capable": true, "state": "online", "version": "0.11.0"},
  {"name": "rok3.prod-cluster", "address": "10.0.0.13", "role": "slave", "master_capable": false, "state": "offline", "version": "0.10.2"}]}`

func TestParseMemberTable(t *testing.T) {
	tests := []struct {
		name    string
		text    string
		master  string
		address string
		cluster string
		slaves  []string
		capable map[string]bool
		wantErr string
	}{
		{name: "master not first", text: memberTable, master: "rok2.prod-cluster", address: "10.0.0.12", cluster: "prod-cluster",
			slaves: []string{"rok1.prod-cluster", "rok3.prod-cluster"}, capable: map[string]bool{"rok1.prod-cluster": true, "rok3.prod-cluster": false}},
		{name: "extra and reordered columns", text: `ROLE   UPTIME  NAME        VERSION  STATE   ADDRESS   MASTER-CAPABLE  ZONE
slave  3d      rok3.c      0.10.2   online  10.0.0.3  no              b
master 9d      rok1.c      0.10.2   online  10.0.0.1  yes             a
`, master: "rok1.c", address: "10.0.0.1", cluster: "c", slaves: []string{"rok3.c"}, capable: map[string]bool{"rok3.c": false}},
		{name: "lower-case header and role", text: "name role master_capable\n\nrok9.x MASTER true\nrok8.x slave false\n",
			master: "rok9.x", cluster: "x", slaves: []string{"rok8.x"}, capable: map[string]bool{"rok8.x": false}},
		{name: "missing master", text: strings.ReplaceAll(memberTable, "master ", "slave  "), wantErr: "no member has the role master"},
		{name: "two masters", text: strings.Replace(memberTable, "10.0.0.11    slave ", "10.0.0.11    master", 1), wantErr: "2 members claim the role master (rok1.prod-cluster, rok2.prod-cluster)"},
		{name: "no ROLE column", text: "NAME ADDRESS\nrok1 10.0.0.1\n", wantErr: "no ROLE column"},
		{name: "short row", text: "NAME ROLE STATE\nrok1 master\n", wantErr: "line 2 has 2 fields where the header has 3 columns"},
		{name: "bad master-capable", text: "NAME ROLE MASTER-CAPABLE\nrok1 master maybe\n", wantErr: `"maybe" is neither yes nor no`},
		{name: "empty", text: "\n", wantErr: "it is empty"},
		{name: "header only", text: "NAME ROLE\n", wantErr: "lists no members"},
		{name: "duplicate member", text: "NAME ROLE\nrok1 master\nrok1 slave\n", wantErr: "listed twice"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ml, err := ParseMemberTable(tt.text)
			checkMembers(t, ml, err, tt.wantErr, tt.master, tt.address, tt.cluster, tt.slaves, tt.capable)
		})
	}
}

func TestParseMemberJSON(t *testing.T) {
	tests := []struct {
		name    string
		text    string
		master  string
		address string
		cluster string
		slaves  []string
		capable map[string]bool
		wantErr string
	}{
		{name: "master not first", text: memberJSON, master: "rok2.prod-cluster", address: "10.0.0.12", cluster: "prod-cluster",
			slaves: []string{"rok1.prod-cluster", "rok3.prod-cluster"}, capable: map[string]bool{"rok1.prod-cluster": true, "rok3.prod-cluster": false}},
		{name: "extra fields, yes/no capability, no cluster", text: `{"members": [
			{"name": "b.c", "role": "slave", "master_capable": "no", "zone": "x"},
			{"name": "a.c", "role": "master", "master_capable": "yes", "uptime": 3}], "generated": "now"}`,
			master: "a.c", cluster: "c", slaves: []string{"b.c"}, capable: map[string]bool{"b.c": false}},
		{name: "missing master", text: `{"members": [{"name": "a.c", "role": "slave"}]}`, wantErr: "no member has the role master"},
		{name: "two masters", text: `{"members": [{"name": "a.c", "role": "master"}, {"name": "b.c", "role": "master"}]}`, wantErr: "2 members claim the role master"},
		{name: "master field disagrees", text: `{"master": "b.c", "members": [{"name": "a.c", "role": "master"}, {"name": "b.c", "role": "slave"}]}`,
			wantErr: "names b.c as the master, but the member with the role master is a.c"},
		{name: "not json", text: memberTable, wantErr: "not the expected JSON document"},
		{name: "nameless member", text: `{"members": [{"role": "master"}]}`, wantErr: "member 0 has no name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ml, err := ParseMemberJSON([]byte(tt.text))
			checkMembers(t, ml, err, tt.wantErr, tt.master, tt.address, tt.cluster, tt.slaves, tt.capable)
		})
	}
}

func checkMembers(t *testing.T, ml *Members, err error, wantErr, master, address, cluster string, slaves []string, capable map[string]bool) {
	t.Helper()
	if wantErr != "" {
		if err == nil || !strings.Contains(err.Error(), wantErr) {
			t.Fatalf("error %v, want %q", err, wantErr)
		}
		return
	}
	if err != nil {
		t.Fatal(err)
	}
	out := ml.Value()
	if !out.Type().Equals(memberListSchema.OutputType()) {
		t.Fatalf("output type %s, want %s", out.Type().FriendlyName(), memberListSchema.OutputType().FriendlyName())
	}
	if got := out.GetAttr("master").AsString(); got != master {
		t.Errorf("master %q, want %q", got, master)
	}
	if got := out.GetAttr("master_address").AsString(); got != address {
		t.Errorf("master_address %q, want %q", got, address)
	}
	if got := out.GetAttr("cluster").AsString(); got != cluster {
		t.Errorf("cluster %q, want %q", got, cluster)
	}
	var gotSlaves []string
	for _, v := range out.GetAttr("slaves").AsValueSlice() {
		gotSlaves = append(gotSlaves, v.AsString())
	}
	if strings.Join(gotSlaves, ",") != strings.Join(slaves, ",") {
		t.Errorf("slaves %v, want %v", gotSlaves, slaves)
	}
	byName := out.GetAttr("slaves_by_name")
	for name, c := range capable {
		m := byName.Index(cty.StringVal(name))
		if m.GetAttr("master_capable").True() != c {
			t.Errorf("%s master_capable = %v, want %v", name, !c, c)
		}
	}
	if n := out.GetAttr("versions").LengthInt(); n != len(ml.Members) {
		t.Errorf("versions has %d entries, want %d", n, len(ml.Members))
	}
}

func TestMemberListRun(t *testing.T) {
	tests := []struct {
		name    string
		src     string
		host    *fakeHost
		argv    string
		sudo    bool
		master  string
		wantErr string
	}{
		{name: "json", src: ``, host: newFakeHost().on(memberJSON, 0, "rok-cluster-ctl", "member-list", "--output", "json"),
			argv: "rok-cluster-ctl member-list --output json", master: "rok2.prod-cluster"},
		{name: "table with sudo", src: "format = \"table\"\nsudo = true", host: newFakeHost().on(memberTable, 0, "rok-cluster-ctl", "member-list"),
			argv: "rok-cluster-ctl member-list", sudo: true, master: "rok2.prod-cluster"},
		{name: "command override", src: "format = \"table\"\ncommand = [\"/opt/rok/bin/rok-cluster-ctl\", \"member-list\"]",
			host: newFakeHost().on(memberTable, 0, "/opt/rok/bin/rok-cluster-ctl", "member-list"), argv: "/opt/rok/bin/rok-cluster-ctl member-list", master: "rok2.prod-cluster"},
		{name: "command fails", src: ``, host: newFakeHost().onStderr("etcd unreachable", 2, "rok-cluster-ctl", "member-list", "--output", "json"),
			argv: "rok-cluster-ctl member-list --output json", wantErr: "etcd unreachable"},
		{name: "no master", src: ``, host: newFakeHost().on(`{"members":[{"name":"a.c","role":"slave"}]}`, 0, "rok-cluster-ctl", "member-list", "--output", "json"),
			argv: "rok-cluster-ctl member-list --output json", wantErr: "no member has the role master"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := MemberList{}.Run(context.Background(), steps.RunRequest{Args: decode(t, MemberList{}, tt.src), Host: tt.host})
			if got := strings.Join(tt.host.argvs(), "|"); got != tt.argv {
				t.Errorf("ran %q, want %q", got, tt.argv)
			}
			if len(tt.host.commands) == 1 && tt.host.commands[0].Sudo != tt.sudo {
				t.Errorf("sudo = %v, want %v", tt.host.commands[0].Sudo, tt.sudo)
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
			if got := resp.Outputs.GetAttr("master").AsString(); got != tt.master {
				t.Errorf("master %q, want %q", got, tt.master)
			}
		})
	}
}
