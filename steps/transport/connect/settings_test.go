package connect

import (
	"fmt"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2/hcldec"
	"github.com/zclconf/go-cty/cty"

	"github.com/rokflow/rokflow/lang/marks"
)

// block builds an evaluated connection block: Schema's type, the given
// attributes, null elsewhere.
func block(attrs map[string]cty.Value) cty.Value {
	vals := map[string]cty.Value{}
	for name, ty := range hcldec.ImpliedType(Schema.DecoderSpec()).AttributeTypes() {
		vals[name] = cty.NullVal(ty)
		if v, ok := attrs[name]; ok {
			vals[name] = v
		}
	}
	return cty.ObjectVal(vals)
}

func TestSchemaDocumented(t *testing.T) {
	for _, name := range Schema.AttributeNames() {
		if Schema.Attributes[name].Description == "" {
			t.Errorf("%s has no description", name)
		}
	}
	if !Schema.Attributes[attrPassword].Sensitive {
		t.Error("password is not sensitive")
	}
}

func TestCheck(t *testing.T) {
	tests := map[string]struct {
		conn cty.Value
		want []string // attr: summary
	}{
		"valid":         {block(map[string]cty.Value{attrTransport: cty.StringVal("ssh"), attrPort: cty.NumberIntVal(2222)}), nil},
		"null":          {cty.NullVal(cty.DynamicPseudoType), nil},
		"unknown":       {block(map[string]cty.Value{attrTransport: cty.UnknownVal(cty.String)}), nil},
		"bad transport": {block(map[string]cty.Value{attrTransport: cty.StringVal("shh")}), []string{"transport: Invalid transport"}},
		"port zero":     {block(map[string]cty.Value{attrPort: cty.NumberIntVal(0)}), []string{"port: Invalid port"}},
		"port too big":  {block(map[string]cty.Value{attrPort: cty.NumberIntVal(65536)}), []string{"port: Invalid port"}},
		"port fraction": {block(map[string]cty.Value{attrPort: cty.NumberFloatVal(22.5)}), []string{"port: Invalid port"}},
		"jump chain":    {block(map[string]cty.Value{attrProxyJump: cty.StringVal("ops@bastion:2222,ssh://b2")}), nil},
		"jump none":     {block(map[string]cty.Value{attrProxyJump: cty.StringVal("none")}), nil},
		"bad jump":      {block(map[string]cty.Value{attrProxyJump: cty.StringVal("bastion,,b2")}), []string{"proxy_jump: Invalid proxy_jump"}},
		"bad jump port": {block(map[string]cty.Value{attrProxyJump: cty.StringVal("bastion:99999")}), []string{"proxy_jump: Invalid proxy_jump"}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			var got []string
			for _, p := range Check(tc.conn) {
				got = append(got, p.Attr+": "+p.Summary)
			}
			if fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Errorf("Check = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestCheckKeepsSecretTransport(t *testing.T) {
	conn := block(map[string]cty.Value{attrTransport: cty.StringVal("hunter2").Mark(marks.Sensitive)})
	ps := Check(conn)
	if len(ps) != 1 {
		t.Fatalf("problems %+v", ps)
	}
	if strings.Contains(ps[0].Detail, "hunter2") || ps[0].Given != "" {
		t.Errorf("the problem repeats a sensitive value: %+v", ps[0])
	}
}

func TestTransportOf(t *testing.T) {
	tests := map[string]struct {
		conn  cty.Value
		want  Transport
		known bool
	}{
		"no connection": {cty.NullVal(cty.DynamicPseudoType), "", true},
		"ssh":           {block(map[string]cty.Value{attrTransport: cty.StringVal("ssh")}), SSH, true},
		"local":         {block(map[string]cty.Value{attrTransport: cty.StringVal("local")}), Local, true},
		"marked":        {block(map[string]cty.Value{attrTransport: cty.StringVal("ssh").Mark(marks.Sensitive)}), SSH, true},
		"null":          {block(nil), SSH, true},
		"unknown":       {block(map[string]cty.Value{attrTransport: cty.UnknownVal(cty.String)}), "", false},
		"whole unknown": {cty.UnknownVal(hcldec.ImpliedType(Schema.DecoderSpec())), "", false},
		"invalid":       {block(map[string]cty.Value{attrTransport: cty.StringVal("telnet")}), "", false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, known := TransportOf(tc.conn)
			if got != tc.want || known != tc.known {
				t.Errorf("TransportOf = %q, %t; want %q, %t", got, known, tc.want, tc.known)
			}
		})
	}
}

func TestDecode(t *testing.T) {
	conn := block(map[string]cty.Value{
		attrTransport:  cty.StringVal("ssh"),
		attrUser:       cty.StringVal("root"),
		attrPort:       cty.NumberIntVal(2222),
		attrIdentity:   cty.StringVal("~/.ssh/id_upgrade"),
		attrKnownHosts: cty.StringVal("/etc/rok/known_hosts"),
		attrAddresses:  cty.MapVal(map[string]cty.Value{"rok1.prod": cty.StringVal("10.0.0.11:22")}),
		attrPassword:   cty.StringVal("hunter2").Mark(marks.Sensitive),
		attrSudo:       cty.True,
		attrProxyJump:  cty.StringVal("ops@bastion.prod:2222"),
		attrSSHConfig:  cty.StringVal("/etc/rok/ssh_config"),
	})
	s, err := Decode(conn)
	if err != nil {
		t.Fatal(err)
	}
	want := Settings{Transport: SSH, User: "root", Port: 2222, IdentityFile: "~/.ssh/id_upgrade", KnownHosts: "/etc/rok/known_hosts",
		Addresses: map[string]string{"rok1.prod": "10.0.0.11:22"}, Password: "hunter2", Sudo: true,
		ProxyJump: "ops@bastion.prod:2222", SSHConfig: "/etc/rok/ssh_config"}
	if fmt.Sprintf("%+v", *s) != fmt.Sprintf("%+v", want) || s.Addresses["rok1.prod"] != "10.0.0.11:22" || s.Password != "hunter2" {
		t.Errorf("Decode = %+v, want %+v", *s, want)
	}
	if strings.Contains(fmt.Sprintf("%v %#v", *s, *s), "hunter2") {
		t.Error("Settings print the password")
	}
	cfg := s.sshConfig()
	if cfg.User != "root" || cfg.Port != 2222 || len(cfg.IdentityFiles) != 1 || len(cfg.KnownHosts) != 1 || !cfg.Sudo || cfg.Password != "hunter2" || cfg.Addresses["rok1.prod"] != "10.0.0.11:22" ||
		cfg.ProxyJump != "ops@bastion.prod:2222" || cfg.ConfigFile != "/etc/rok/ssh_config" {
		t.Errorf("ssh config %v", cfg)
	}

	// What the block leaves unset is left to ssh_config: no port, no
	// user, no jump hosts are made up here.
	s, err = Decode(block(map[string]cty.Value{attrTransport: cty.StringVal("ssh")}))
	if err != nil {
		t.Fatal(err)
	}
	if cfg := s.sshConfig(); cfg.Port != 0 || cfg.User != "" || cfg.ProxyJump != "" || cfg.ConfigFile != "" || cfg.IdentityFiles != nil || cfg.KnownHosts != nil {
		t.Errorf("an empty block gives %v", cfg)
	}

	if s, err := Decode(cty.NullVal(cty.DynamicPseudoType)); s != nil || err != nil {
		t.Errorf("no connection: %v, %v", s, err)
	}
	for name, conn := range map[string]cty.Value{
		"unknown":  block(map[string]cty.Value{attrUser: cty.UnknownVal(cty.String)}),
		"bad port": block(map[string]cty.Value{attrPort: cty.NumberIntVal(-1)}),
	} {
		if _, err := Decode(conn); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}
