package runtime

import (
	"fmt"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"

	"github.com/rokflow/rokflow/lang"
	"github.com/rokflow/rokflow/steps"
	"github.com/rokflow/rokflow/steps/transport/connect"
)

// cconn is a connection block checked against connect.Schema once, at
// compile time: unknown attributes (with the nearest name) are reported
// here, wrong types and values when the module instance is entered.
type cconn struct {
	body *cbody
	refs []lang.Ref
}

// compileConnection checks a connection block's attribute names and
// refuses references other than the module's variables and the playbook:
// a connection is evaluated once per module instance, before its steps,
// and is the same for all of them.
func (c *compiled) compileConnection(conn *lang.Connection) hcl.Diagnostics {
	cb, diags := compileBody(conn.Config, connect.Schema, conn.DeclRange)
	cc := &cconn{body: cb}
	c.conns[conn] = cc
	for _, name := range sortedKeys(cb.attrs) {
		expr := cb.attrs[name].Expr
		refs, ds := lang.References(expr)
		diags = append(diags, ds...)
		for _, r := range refs {
			if r.Kind == lang.RefVar || r.Kind == lang.RefPlaybook {
				cc.refs = append(cc.refs, r)
				continue
			}
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Invalid reference in a connection",
				Detail:   fmt.Sprintf("The connection %q may refer only to variables (var.NAME) and the playbook; it is the same for every step that uses it. Pass per-node values through the step (on) or a module's variables.", conn.Name),
				Subject:  expr.Range().Ptr(),
			})
			break
		}
	}
	return diags
}

// evalConnection evaluates a connection block in its module instance into
// an object of connect.Schema's type, defaults filled in and the password
// marked sensitive, and reports the values connect.Check refuses on their
// expressions.
func (p *planner) evalConnection(s *scope, conn *lang.Connection) cty.Value {
	cc := p.c.conns[conn]
	ctx, _ := p.evalContext(s, cc.refs)
	v, _, diags := decodeArgs(cc.body, connect.Schema, ctx)
	p.diags = append(p.diags, diags...)
	v = markSensitive(v, connect.Schema.SensitivePaths())
	for _, prob := range connect.Check(v) {
		subject := conn.DeclRange
		if a, ok := cc.body.attrs[prob.Attr]; ok {
			subject = a.Expr.Range()
		}
		p.diags = append(p.diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  prob.Summary,
			Detail:   prob.Detail + didYouMean(prob.Given, prob.Choices),
			Subject:  subject.Ptr(),
		})
	}
	return v
}

// connection returns the evaluated connection block a step uses, or null.
func (p *planner) connection(s *scope, st *lang.Step) cty.Value {
	if st.Connection == "" {
		return cty.NullVal(cty.DynamicPseudoType)
	}
	// The step's module instance first, then the playbook's.
	for sc := s; sc != nil; sc = sc.outer {
		if v, ok := sc.conns[st.Connection]; ok {
			return v
		}
	}
	if v, ok := p.root.conns[st.Connection]; ok {
		return v
	}
	return cty.NullVal(cty.DynamicPseudoType)
}

// checkRoute refuses, while planning, a step on a host whose connection
// does not reach it (connect.Route decides), once the target and the
// transport are known; the resolver refuses again before anything runs.
// It reports whether the step may go on to reach its host.
func (p *planner) checkRoute(s *scope, st *lang.Step, cs *cstep, target string) bool {
	if cs.schema.Target != steps.TargetHost || target == "" || strings.HasPrefix(target, "(") {
		return true
	}
	t, known := connect.TransportOf(p.connection(s, st))
	if !known {
		return true
	}
	_, err := connect.Route(target, t)
	re, ok := err.(*connect.RouteError)
	if !ok {
		return err == nil
	}
	subject := st.DeclRange
	switch {
	case re.Problem == connect.LocalTransport:
		subject = st.ConnRange
	case st.On != nil:
		subject = st.On.Range()
	case st.Connection != "":
		subject = st.ConnRange
	}
	p.diags = append(p.diags, &hcl.Diagnostic{
		Severity: hcl.DiagError,
		Summary:  re.Summary(),
		Detail:   re.Detail(),
		Subject:  subject.Ptr(),
	})
	return false
}
