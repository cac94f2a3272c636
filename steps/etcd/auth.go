package etcd

import (
	"context"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"

	"github.com/rokflow/rokflow/lang/schema"
	"github.com/rokflow/rokflow/steps"
)

// Auth is the kind etcd.auth: it creates users, roles and permissions and
// enables authentication, each only if not done yet.
type Auth struct{}

// AuthCheck is the kind etcd.auth_check: it proves that anonymous access is
// refused and that a given identity is allowed.
type AuthCheck struct{}

var (
	_ steps.Kind = Auth{}
	_ steps.Kind = AuthCheck{}
)

var permissionType = cty.ObjectWithOptionalAttrs(map[string]cty.Type{
	"key":       cty.String,
	"range_end": cty.String,
	"prefix":    cty.Bool,
	"access":    cty.String,
}, []string{"range_end", "prefix"})

var roleType = cty.Object(map[string]cty.Type{
	"name":        cty.String,
	"permissions": cty.List(permissionType),
})

var userType = cty.ObjectWithOptionalAttrs(map[string]cty.Type{
	"name":     cty.String,
	"password": cty.String,
	"roles":    cty.List(cty.String),
}, []string{"password", "roles"})

var authSchema = &steps.Schema{
	Name:    "etcd.auth",
	Summary: "Create etcd users, roles and permissions and enable auth, idempotently.",
	Description: "Brings etcd's RBAC to the state the arguments describe, then enables authentication: " +
		"creates the root user (with root_password, or certificate-only when it is omitted) and grants it " +
		"the root role; creates each role and grants its permissions; creates each user (with a password, " +
		"or certificate-only: the client certificate's CN is the user name) and grants its roles; and " +
		"last, when enable is true, enables auth. What already exists is left alone (an existing user's " +
		"password is not changed), so re-running the step is a no-op. Once auth is on, the connection " +
		"must act as root: a client certificate with CN root, or user root with its password (when the " +
		"connection has no credentials, root and root_password are used). TLS itself (--client-cert-auth) " +
		"is a server start-up flag that no API call can turn on; restart the members with it first. Works " +
		"with etcd 3.4 (no AuthStatus call there: the auth state is probed with Authenticate).",
	Effect: steps.Idempotent,
	Target: steps.TargetNone,
	Args: &schema.Block{Attributes: map[string]*schema.Attribute{
		"etcd": connArg,
		"root_password": {
			Type:      cty.String,
			Sensitive: true,
			Description: "The root user's password; omit it to create root without a password, so that only a " +
				"client certificate with CN root can act as root.",
		},
		"roles": {
			Type:    cty.List(roleType),
			Default: cty.ListValEmpty(roleType.WithoutOptionalAttributesDeep()),
			Description: "Roles to create: name and permissions, each {key, range_end (exclusive end of the " +
				"range), prefix (grant every key starting with key), access = \"read\", \"write\" or \"readwrite\"}. " +
				"With neither range_end nor prefix a permission covers key alone.",
		},
		"users": {
			Type:    cty.List(userType),
			Default: cty.ListValEmpty(userType.WithoutOptionalAttributesDeep()),
			Description: "Users to create: name, password (sensitive; omit it for a certificate-only user " +
				"authenticated by its CN) and roles to grant. Do not list root here.",
		},
		"enable": {
			Type:        cty.Bool,
			Default:     cty.True,
			Description: "Enable authentication after creating everything; false only prepares users and roles.",
		},
	}},
	Outputs: map[string]*schema.Attribute{
		"auth_enabled":  {Type: cty.Bool, Description: "Whether auth is enabled after the step."},
		"was_enabled":   {Type: cty.Bool, Description: "Whether auth was already enabled before the step."},
		"created_users": {Type: cty.List(cty.String), Description: "Users this run created (empty on a re-run)."},
		"created_roles": {Type: cty.List(cty.String), Description: "Roles this run created (empty on a re-run)."},
		"changed":       {Type: cty.Bool, Description: "Whether the run changed anything."},
	},
	Secrets: steps.Secrets{Credentials: []string{"etcd"}, Clean: []string{"auth_enabled", "was_enabled", "changed"}},
}

// permission is one decoded permission of a role.
type permission struct {
	Key, RangeEnd string
	Prefix        bool
	Access        string // read, write, readwrite
}

type role struct {
	Name        string
	Permissions []permission
}

type user struct {
	Name     string
	Password string
	NoPass   bool
	Roles    []string
}

// authPlan is the decoded desired state.
type authPlan struct {
	RootPassword string
	Roles        []role
	Users        []user
	Enable       bool
}

// parseAuth decodes the arguments; ok is false while any is unknown.
func parseAuth(args cty.Value) (p authPlan, ok bool, diags hcl.Diagnostics) {
	ok = args.IsWhollyKnown()
	p.RootPassword, _ = steps.Str(steps.Attr(args, "root_password"))
	if rp := steps.Attr(args, "root_password"); steps.Known(rp) && p.RootPassword == "" {
		diags = append(diags, steps.Errorf("Empty root password", "root_password must not be empty; omit it for a certificate-only root."))
	}
	p.Enable, _ = steps.Bool(steps.Attr(args, "enable"), true)

	roleNames := map[string]bool{"root": true}
	if rv := steps.Attr(args, "roles"); rv.IsKnown() {
		for _, r := range elements(rv) {
			name, _ := steps.Str(steps.Attr(r, "name"))
			ro := role{Name: name}
			switch {
			case name == "":
				diags = append(diags, steps.Errorf("Invalid role", "Every role needs a name."))
			case name == "root":
				diags = append(diags, steps.Errorf("Invalid role", "The root role is built in; do not list it."))
			case roleNames[name]:
				diags = append(diags, steps.Errorf("Duplicate role", "The role %s is listed twice.", name))
			}
			roleNames[name] = true
			if pv := steps.Attr(r, "permissions"); pv.IsKnown() {
				for _, pe := range elements(pv) {
					perm, pdiags := parsePermission(name, pe)
					diags = append(diags, pdiags...)
					ro.Permissions = append(ro.Permissions, perm)
				}
			}
			p.Roles = append(p.Roles, ro)
		}
	}
	userNames := map[string]bool{}
	if uv := steps.Attr(args, "users"); uv.IsKnown() {
		for _, u := range elements(uv) {
			name, _ := steps.Str(steps.Attr(u, "name"))
			us := user{Name: name}
			switch {
			case name == "":
				diags = append(diags, steps.Errorf("Invalid user", "Every user needs a name."))
			case name == "root":
				diags = append(diags, steps.Errorf("Invalid user", "Do not list root among users; root_password sets up root."))
			case userNames[name]:
				diags = append(diags, steps.Errorf("Duplicate user", "The user %s is listed twice.", name))
			}
			userNames[name] = true
			pw := steps.Attr(u, "password")
			us.Password, _ = steps.Str(pw)
			us.NoPass = pw.IsNull()
			if steps.Known(pw) && us.Password == "" {
				diags = append(diags, steps.Errorf("Empty password",
					"User %s has an empty password, which etcd would accept as a real password; omit password for a certificate-only user.", name))
			}
			if rs, rok := steps.StrList(steps.Attr(u, "roles")); rok {
				us.Roles = rs
				for _, r := range rs {
					if !roleNames[r] && steps.Attr(args, "roles").IsWhollyKnown() {
						diags = append(diags, steps.Errorf("Unknown role", "User %s is granted the role %s, which is neither root nor in roles.", name, r))
					}
				}
			}
			p.Users = append(p.Users, us)
		}
	}
	return p, ok && !diags.HasErrors(), diags
}

func parsePermission(roleName string, v cty.Value) (p permission, diags hcl.Diagnostics) {
	p.Key, _ = steps.Str(steps.Attr(v, "key"))
	p.RangeEnd, _ = steps.Str(steps.Attr(v, "range_end"))
	p.Prefix, _ = steps.Bool(steps.Attr(v, "prefix"), false)
	access, aok := steps.Str(steps.Attr(v, "access"))
	p.Access = access
	if steps.Known(steps.Attr(v, "key")) && p.Key == "" {
		diags = append(diags, steps.Errorf("Invalid permission", "A permission of role %s has an empty key.", roleName))
	}
	if aok && access != "read" && access != "write" && access != "readwrite" {
		diags = append(diags, steps.Errorf("Invalid permission", "A permission of role %s has access %q; use \"read\", \"write\" or \"readwrite\".", roleName, access))
	}
	if p.Prefix && p.RangeEnd != "" {
		diags = append(diags, steps.Errorf("Invalid permission", "A permission of role %s sets both prefix and range_end; use one.", roleName))
	}
	if p.RangeEnd != "" && p.RangeEnd <= p.Key && p.RangeEnd != "\x00" {
		diags = append(diags, steps.Errorf("Invalid permission", "A permission of role %s has range_end %q not after key %q (the range is [key, range_end)).", roleName, p.RangeEnd, p.Key))
	}
	return p, diags
}

// Schema implements steps.Kind.
func (Auth) Schema() *steps.Schema { return authSchema }

// Plan implements steps.Kind.
func (Auth) Plan(_ context.Context, req steps.PlanRequest) steps.PlanResponse {
	_, _, diags := parseConn(steps.Attr(req.Args, "etcd"))
	_, _, adiags := parseAuth(req.Args)
	diags = append(diags, adiags...)
	ops := []string{"ensure user root (" + passwordMode(steps.Attr(req.Args, "root_password")) + ")", "grant role root to root"}
	rolesV, usersV := steps.Attr(req.Args, "roles"), steps.Attr(req.Args, "users")
	if !rolesV.IsKnown() {
		ops = append(ops, "ensure roles "+steps.Display(rolesV))
	}
	for _, r := range elements(rolesV) {
		name := steps.Display(steps.Attr(r, "name"))
		ops = append(ops, "ensure role "+name)
		for _, p := range elements(steps.Attr(r, "permissions")) {
			ops = append(ops, "grant "+name+" "+displayPermission(p))
		}
	}
	if !usersV.IsKnown() {
		ops = append(ops, "ensure users "+steps.Display(usersV))
	}
	var names []string
	for _, u := range elements(usersV) {
		name := steps.Display(steps.Attr(u, "name"))
		ops = append(ops, "ensure user "+name+" ("+passwordMode(steps.Attr(u, "password"))+")")
		roles := steps.Attr(u, "roles")
		if !roles.IsKnown() {
			ops = append(ops, "grant roles "+steps.Display(roles)+" to "+name)
		}
		for _, r := range elements(roles) {
			ops = append(ops, "grant role "+steps.Display(r)+" to "+name)
		}
		names = append(names, name)
	}
	enable, eok := steps.Bool(steps.Attr(req.Args, "enable"), true)
	summary := "ensure etcd RBAC users and roles"
	switch {
	case !eok:
		ops = append(ops, "enable auth: "+steps.Display(steps.Attr(req.Args, "enable")))
	case enable:
		ops = append(ops, "enable auth")
		summary = "ensure etcd RBAC users and roles and enable auth"
	}
	if len(names) > 0 {
		sort.Strings(names)
		summary += " (users root, " + strings.Join(names, ", ") + ")"
	}
	return steps.PlanResponse{
		Summary:     summary + " in " + displayConn(steps.Attr(req.Args, "etcd")),
		Request:     strings.Join(ops, "\n"),
		Diagnostics: diags,
	}
}

// passwordMode tells how a user authenticates, never showing the password.
func passwordMode(pw cty.Value) string {
	switch {
	case !pw.IsKnown():
		return "password " + steps.Display(pw)
	case pw.IsNull():
		return "certificate only"
	}
	return "password (sensitive)"
}

// displayPermission renders a permission for plans: "readwrite prefix
// /rokflow/", "read [/a, /b)" or "write /key".
func displayPermission(p cty.Value) string {
	access, key := steps.Display(steps.Attr(p, "access")), steps.Display(steps.Attr(p, "key"))
	if pre, _ := steps.Bool(steps.Attr(p, "prefix"), false); pre {
		return access + " prefix " + key
	}
	if end := steps.Attr(p, "range_end"); !end.IsNull() {
		return access + " [" + key + ", " + steps.Display(end) + ")"
	}
	return access + " " + key
}

// asType is the identity etcd.auth_check tests.
var asType = cty.ObjectWithOptionalAttrs(map[string]cty.Type{
	"cert_file": cty.String,
	"key_file":  cty.String,
	"user":      cty.String,
	"password":  cty.String,
	"key":       cty.String,
}, []string{"cert_file", "key_file", "user", "password", "key"})

var authCheckSchema = &steps.Schema{
	Name:    "etcd.auth_check",
	Summary: "Check that etcd refuses anonymous clients and allows a given certificate or user.",
	Description: "Proves that etcd authentication really is on. With the connection's endpoints and CA but " +
		"no credentials it reads anonymous_key, which must be refused: by RBAC (\"user name is empty\" or " +
		"\"permission denied\") or, with --client-cert-auth, by the TLS handshake itself (etcd clients " +
		"hang rather than fail then, so a timed-out anonymous read is confirmed with a direct TLS probe " +
		"before it counts as refused). Then it reads as.key (default anonymous_key) as the identity " +
		"`as` gives (a client certificate, or user and password; the connection's own when as is " +
		"omitted), which must be allowed. With require = true (the default) the step fails unless auth " +
		"is enabled, anonymous access refused and the identity allowed; the outputs say which check " +
		"failed and why. It changes nothing.",
	Effect:     steps.ReadOnly,
	NoDiscover: true,
	Target:     steps.TargetNone,
	Args: &schema.Block{Attributes: map[string]*schema.Attribute{
		"etcd": connArg,
		"anonymous_key": {
			Type:        cty.String,
			Required:    true,
			Description: "A key an anonymous client tries to read; the read must be refused.",
		},
		"as": {
			Type: asType,
			Description: "The identity that must be allowed: cert_file and key_file (a client certificate whose " +
				"CN is the user), or user and password (sensitive); key is what it reads (default anonymous_key). " +
				"Omit it to use the connection's own credentials.",
		},
		"require": {
			Type:        cty.Bool,
			Default:     cty.True,
			Description: "Fail the step unless all three checks pass.",
		},
	}},
	Outputs: map[string]*schema.Attribute{
		"auth_enabled":      {Type: cty.Bool, Description: "Whether etcd reports authentication enabled (AuthStatus; on etcd before 3.5, which lacks it, an Authenticate probe)."},
		"anonymous_refused": {Type: cty.Bool, Description: "Whether the anonymous read was refused."},
		"user_allowed":      {Type: cty.Bool, Description: "Whether the read as the given identity succeeded."},
		"anonymous_result":  {Type: cty.String, Description: "How the anonymous read ended: \"allowed\" or the refusal."},
		"user_result":       {Type: cty.String, Description: "How the identity's read ended: \"allowed\" or the error."},
	},
	Secrets: steps.Secrets{Credentials: []string{"etcd", "as"}},
}

// Schema implements steps.Kind.
func (AuthCheck) Schema() *steps.Schema { return authCheckSchema }

// checkAs validates the `as` argument's known parts.
func checkAs(v cty.Value) hcl.Diagnostics {
	if v.IsNull() {
		return nil
	}
	var diags hcl.Diagnostics
	cert, key, u, pw := steps.Attr(v, "cert_file"), steps.Attr(v, "key_file"), steps.Attr(v, "user"), steps.Attr(v, "password")
	if cert.IsKnown() && key.IsKnown() && cert.IsNull() != key.IsNull() {
		diags = append(diags, steps.Errorf("Incomplete client certificate", "The as argument needs both cert_file and key_file, or neither."))
	}
	if u.IsKnown() && pw.IsKnown() && u.IsNull() != pw.IsNull() {
		diags = append(diags, steps.Errorf("Incomplete etcd credentials", "The as argument needs both user and password, or neither."))
	}
	if v.IsWhollyKnown() && cert.IsNull() && u.IsNull() {
		diags = append(diags, steps.Errorf("No identity to check", "The as argument must give a client certificate (cert_file, key_file) or a user and password."))
	}
	return diags
}

// Plan implements steps.Kind.
func (AuthCheck) Plan(_ context.Context, req steps.PlanRequest) steps.PlanResponse {
	connV := steps.Attr(req.Args, "etcd")
	_, _, diags := parseConn(connV)
	as := steps.Attr(req.Args, "as")
	diags = append(diags, checkAs(as)...)
	anon := steps.Attr(req.Args, "anonymous_key")
	diags = append(diags, checkKey(anon)...)
	who, key := "the connection's identity", anon
	if !as.IsNull() {
		switch {
		case !steps.Attr(as, "user").IsNull():
			who = "user " + steps.Display(steps.Attr(as, "user"))
		case !steps.Attr(as, "cert_file").IsNull():
			who = "certificate " + steps.Display(steps.Attr(as, "cert_file"))
		}
		if k := steps.Attr(as, "key"); !k.IsNull() {
			key = k
		}
	}
	return steps.PlanResponse{
		Summary:     "check etcd auth: anonymous read of " + steps.Display(anon) + " refused, " + who + " allowed to read " + steps.Display(key),
		Request:     "auth status; anonymous GET " + steps.Display(anon) + "; GET " + steps.Display(key) + " as " + who,
		Diagnostics: diags,
	}
}
