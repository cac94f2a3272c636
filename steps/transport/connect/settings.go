package connect

import (
	"errors"
	"fmt"
	"math/big"
	"slices"
	"strings"

	"github.com/zclconf/go-cty/cty"

	"github.com/rokflow/rokflow/lang/marks"
	"github.com/rokflow/rokflow/steps/transport/ssh"
)

// Settings are a connection block's values, typed. A string left unset is
// empty and Port is zero: ssh_config or the defaults decide.
type Settings struct {
	Transport             Transport
	User                  string
	Port                  int
	IdentityFile          string
	KnownHosts            string
	Addresses             map[string]string
	Password              string
	InsecureIgnoreHostKey bool
	Agent                 bool
	Sudo                  bool
	ProxyJump             string
	SSHConfig             string
}

// String describes the settings without the password.
func (s Settings) String() string {
	pw := ""
	if s.Password != "" {
		pw = " password=(set)"
	}
	return fmt.Sprintf("connect.Settings{transport=%s user=%q port=%d proxy_jump=%q%s}", s.Transport, s.User, s.Port, s.ProxyJump, pw)
}

// GoString is String, so that %#v does not print the password either.
func (s Settings) GoString() string { return s.String() }

// ValueProblem is a connection attribute whose value cannot be used.
// Given and Choices, when set, let the caller suggest a near choice.
type ValueProblem struct {
	Attr    string
	Summary string
	Detail  string
	Given   string
	Choices []string
}

// Check returns the problems of the known values of an evaluated
// connection block (an object of Schema's type); values not known yet
// are checked when they are. A sensitive value is not repeated in the
// problem's detail.
func Check(conn cty.Value) []ValueProblem {
	var out []ValueProblem
	if v, ok := known(conn, attrTransport); ok && !slices.Contains(Transports, v.AsString()) {
		p := ValueProblem{Attr: attrTransport, Summary: "Invalid transport", Detail: transportDetail}
		if !marks.IsSensitive(conn.GetAttr(attrTransport)) {
			p.Detail = fmt.Sprintf("The transport %q is not one rokflow knows. %s", v.AsString(), transportDetail)
			p.Given, p.Choices = v.AsString(), Transports
		}
		out = append(out, p)
	}
	if v, ok := known(conn, attrPort); ok {
		if _, ok := port(v); !ok {
			out = append(out, ValueProblem{Attr: attrPort, Summary: "Invalid port", Detail: portDetail})
		}
	}
	if v, ok := known(conn, attrProxyJump); ok {
		if err := ssh.CheckProxyJump(v.AsString()); err != nil {
			p := ValueProblem{Attr: attrProxyJump, Summary: "Invalid proxy_jump", Detail: proxyJumpDetail}
			if !marks.IsSensitive(conn.GetAttr(attrProxyJump)) {
				msg := err.Error()
				p.Detail = strings.ToUpper(msg[:1]) + msg[1:] + "."
			}
			out = append(out, p)
		}
	}
	return out
}

// TransportOf returns the transport of an evaluated connection block: ""
// for null (no connection), and false when it is not known yet or not one
// of Transports (Check reports that).
func TransportOf(conn cty.Value) (Transport, bool) {
	if conn == cty.NilVal || conn.IsNull() {
		return "", true
	}
	v, ok := known(conn, attrTransport)
	if !ok {
		// A transport left null takes the default; an unknown one waits.
		if conn.IsKnown() && conn.Type().IsObjectType() && conn.Type().HasAttribute(attrTransport) && conn.GetAttr(attrTransport).IsNull() {
			return SSH, true
		}
		return "", false
	}
	if !slices.Contains(Transports, v.AsString()) {
		return "", false
	}
	return Transport(v.AsString()), true
}

// Decode reads an evaluated connection block into Settings: nil for null
// (the step names no connection). Every value must be known and valid.
func Decode(conn cty.Value) (*Settings, error) {
	if conn == cty.NilVal || conn.IsNull() {
		return nil, nil
	}
	conn, _ = conn.UnmarkDeep()
	if !conn.IsWhollyKnown() {
		return nil, errors.New("the connection's values are not known yet")
	}
	if !conn.Type().IsObjectType() {
		return nil, fmt.Errorf("a connection is an object, not %s", conn.Type().FriendlyName())
	}
	if ps := Check(conn); len(ps) > 0 {
		return nil, fmt.Errorf("%s: %s", ps[0].Summary, ps[0].Detail)
	}
	s := &Settings{
		Transport:             SSH,
		User:                  str(conn, attrUser),
		IdentityFile:          str(conn, attrIdentity),
		KnownHosts:            str(conn, attrKnownHosts),
		Password:              str(conn, attrPassword),
		InsecureIgnoreHostKey: flag(conn, attrInsecure),
		Agent:                 flag(conn, attrAgent),
		Sudo:                  flag(conn, attrSudo),
		ProxyJump:             str(conn, attrProxyJump),
		SSHConfig:             str(conn, attrSSHConfig),
	}
	if v, ok := known(conn, attrTransport); ok {
		s.Transport = Transport(v.AsString())
	}
	if v, ok := known(conn, attrPort); ok {
		s.Port, _ = port(v)
	}
	if v, ok := known(conn, attrAddresses); ok && (v.Type().IsMapType() || v.Type().IsObjectType()) {
		s.Addresses = make(map[string]string, v.LengthInt())
		for it := v.ElementIterator(); it.Next(); {
			k, e := it.Element()
			if e.IsNull() || e.Type() != cty.String {
				return nil, fmt.Errorf("addresses[%q] is not a string", k.AsString())
			}
			s.Addresses[k.AsString()] = e.AsString()
		}
	}
	return s, nil
}

// known returns conn's attribute name, unmarked, when it is set and known.
func known(conn cty.Value, name string) (cty.Value, bool) {
	if conn == cty.NilVal || conn.IsNull() || !conn.IsKnown() || !conn.Type().IsObjectType() || !conn.Type().HasAttribute(name) {
		return cty.NilVal, false
	}
	v := conn.GetAttr(name)
	if v.Type().IsPrimitiveType() {
		v, _ = v.Unmark() // cheaper than UnmarkDeep, asked once per planned instance
	} else {
		v, _ = v.UnmarkDeep()
	}
	if !v.IsKnown() || v.IsNull() {
		return cty.NilVal, false
	}
	want := Schema.Attributes[name].Type
	if !v.Type().Equals(want) && !(want.IsMapType() && v.Type().IsObjectType()) {
		return cty.NilVal, false
	}
	return v, true
}

func str(conn cty.Value, name string) string {
	if v, ok := known(conn, name); ok {
		return v.AsString()
	}
	return ""
}

func flag(conn cty.Value, name string) bool {
	v, ok := known(conn, name)
	return ok && v.True()
}

// proxyJumpDetail says what proxy_jump may be.
const proxyJumpDetail = `Write jump hosts as ssh -J takes them: "[user@]host[:port]" hops separated by commas, or "none".`

// portDetail says what a port may be.
var portDetail = fmt.Sprintf("The port must be a whole number from 1 to %d, such as %d.", maxPort, defaultSSHPort)

func port(v cty.Value) (int, bool) {
	i, acc := v.AsBigFloat().Int64()
	if acc != big.Exact || i < 1 || i > maxPort {
		return 0, false
	}
	return int(i), true
}
