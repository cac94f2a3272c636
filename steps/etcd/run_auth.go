package etcd

import (
	"context"
	"errors"
	"slices"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/rokflow/rokflow/steps"
)

// authRun holds one etcd.auth run: its client and what it changed.
type authRun struct {
	c            conn
	cli          *clientv3.Client
	createdUsers []string
	createdRoles []string
	changed      bool
}

// do runs one call bounded by the request timeout.
func (r *authRun) do(ctx context.Context, f func(context.Context) error) error {
	cctx, cancel := r.c.call(ctx)
	defer cancel()
	return f(cctx)
}

// Run implements steps.Kind.
func (Auth) Run(ctx context.Context, req steps.RunRequest) steps.RunResponse {
	p, ok, diags := parseAuth(req.Args)
	if !ok {
		if !diags.HasErrors() {
			diags = append(diags, steps.Errorf("Arguments not known", "Kind %s needs wholly known arguments.", authSchema.Name))
		}
		return steps.RunResponse{Diagnostics: diags}
	}
	c, cli, cdiags := connect(ctx, authSchema.Name, req.Args)
	diags = append(diags, cdiags...)
	if cli == nil {
		return steps.RunResponse{Diagnostics: diags}
	}
	r := &authRun{c: c, cli: cli}
	defer func() {
		if r.cli != nil {
			r.cli.Close()
		}
	}()

	wasEnabled, err := c.authEnabled(ctx, r.cli)
	if err != nil {
		return steps.RunResponse{Diagnostics: append(diags, c.callError("Cannot read the etcd auth status", "AuthStatus", err))}
	}
	if wasEnabled && c.User == "" && c.CertFile == "" && p.RootPassword != "" {
		// Anonymous calls are refused once auth is on; act as root.
		r.cli.Close()
		rc := c
		rc.User, rc.Password = "root", p.RootPassword
		r.c = rc
		if r.cli, err = rc.dial(ctx); err != nil {
			return steps.RunResponse{Diagnostics: append(diags, rc.callError("Cannot connect to etcd as root", "Authenticating as root", err))}
		}
	}

	if d := r.ensure(ctx, p); d != nil {
		if wasEnabled && (errors.Is(d.err, rpctypes.ErrUserEmpty) || errors.Is(d.err, rpctypes.ErrPermissionDenied)) {
			d.diag.Detail += " Auth is already enabled, so the step must act as root: give the connection a client certificate with CN root, or set root_password."
		}
		return steps.RunResponse{Diagnostics: append(diags, d.diag)}
	}
	enabled := wasEnabled
	if p.Enable && !wasEnabled {
		if err := r.do(ctx, func(cctx context.Context) error { _, err := r.cli.AuthEnable(cctx); return err }); err != nil {
			return steps.RunResponse{Diagnostics: append(diags, r.c.callError("Cannot enable etcd auth", "AuthEnable", err))}
		}
		enabled, r.changed = true, true
	}
	return steps.RunResponse{Outputs: cty.ObjectVal(map[string]cty.Value{
		"auth_enabled":  cty.BoolVal(enabled),
		"was_enabled":   cty.BoolVal(wasEnabled),
		"created_users": stringList(r.createdUsers),
		"created_roles": stringList(r.createdRoles),
		"changed":       cty.BoolVal(r.changed),
	}), Diagnostics: diags}
}

// authFailure is a failed ensure call with its cause.
type authFailure struct {
	diag *hcl.Diagnostic
	err  error
}

func (r *authRun) fail(summary, what string, err error) *authFailure {
	return &authFailure{diag: r.c.callError(summary, what, err), err: err}
}

// ensure creates root, the roles and the users and grants what is missing.
func (r *authRun) ensure(ctx context.Context, p authPlan) *authFailure {
	if f := r.ensureUser(ctx, user{Name: "root", Password: p.RootPassword, NoPass: p.RootPassword == "", Roles: []string{"root"}}); f != nil {
		return f
	}
	for _, ro := range p.Roles {
		if f := r.ensureRole(ctx, ro); f != nil {
			return f
		}
	}
	for _, u := range p.Users {
		if f := r.ensureUser(ctx, u); f != nil {
			return f
		}
	}
	return nil
}

func (r *authRun) ensureRole(ctx context.Context, ro role) *authFailure {
	var have *clientv3.AuthRoleGetResponse
	err := r.do(ctx, func(cctx context.Context) (err error) {
		have, err = r.cli.RoleGet(cctx, ro.Name)
		return err
	})
	switch {
	case errors.Is(err, rpctypes.ErrRoleNotFound):
		err = r.do(ctx, func(cctx context.Context) error { _, err := r.cli.RoleAdd(cctx, ro.Name); return err })
		if err != nil && !errors.Is(err, rpctypes.ErrRoleAlreadyExist) {
			return r.fail("Cannot create etcd role", "Creating role "+ro.Name, err)
		}
		if err == nil {
			r.createdRoles = append(r.createdRoles, ro.Name)
			r.changed = true
		}
		have = &clientv3.AuthRoleGetResponse{}
	case err != nil:
		return r.fail("Cannot read etcd role", "Reading role "+ro.Name, err)
	}
	for _, perm := range ro.Permissions {
		rangeEnd := perm.RangeEnd
		if perm.Prefix {
			rangeEnd = clientv3.GetPrefixRangeEnd(perm.Key)
		}
		pt := permType(perm.Access)
		granted := false
		for _, h := range have.Perm {
			if string(h.Key) == perm.Key && string(h.RangeEnd) == rangeEnd && clientv3.PermissionType(h.PermType) == pt {
				granted = true
			}
		}
		if granted {
			continue
		}
		err := r.do(ctx, func(cctx context.Context) error {
			_, err := r.cli.RoleGrantPermission(cctx, ro.Name, perm.Key, rangeEnd, pt)
			return err
		})
		if err != nil {
			return r.fail("Cannot grant etcd permission", "Granting "+perm.Access+" on "+perm.Key+" to role "+ro.Name, err)
		}
		r.changed = true
	}
	return nil
}

func permType(access string) clientv3.PermissionType {
	switch access {
	case "read":
		return clientv3.PermissionType(clientv3.PermRead)
	case "write":
		return clientv3.PermissionType(clientv3.PermWrite)
	}
	return clientv3.PermissionType(clientv3.PermReadWrite)
}

func (r *authRun) ensureUser(ctx context.Context, u user) *authFailure {
	var have *clientv3.AuthUserGetResponse
	err := r.do(ctx, func(cctx context.Context) (err error) {
		have, err = r.cli.UserGet(cctx, u.Name)
		return err
	})
	switch {
	case errors.Is(err, rpctypes.ErrUserNotFound):
		err = r.do(ctx, func(cctx context.Context) error {
			_, err := r.cli.UserAddWithOptions(cctx, u.Name, u.Password, &clientv3.UserAddOptions{NoPassword: u.NoPass})
			return err
		})
		if err != nil && !errors.Is(err, rpctypes.ErrUserAlreadyExist) {
			return r.fail("Cannot create etcd user", "Creating user "+u.Name, err)
		}
		if err == nil {
			r.createdUsers = append(r.createdUsers, u.Name)
			r.changed = true
		}
		have = &clientv3.AuthUserGetResponse{}
	case err != nil:
		return r.fail("Cannot read etcd user", "Reading user "+u.Name, err)
	}
	for _, ro := range u.Roles {
		if slices.Contains(have.Roles, ro) {
			continue
		}
		err := r.do(ctx, func(cctx context.Context) error { _, err := r.cli.UserGrantRole(cctx, u.Name, ro); return err })
		if err != nil {
			return r.fail("Cannot grant etcd role", "Granting role "+ro+" to user "+u.Name, err)
		}
		r.changed = true
	}
	return nil
}

func stringList(ss []string) cty.Value {
	if len(ss) == 0 {
		return cty.ListValEmpty(cty.String)
	}
	vs := make([]cty.Value, len(ss))
	for i, s := range ss {
		vs[i] = cty.StringVal(s)
	}
	return cty.ListVal(vs)
}

// Run implements steps.Kind.
func (AuthCheck) Run(ctx context.Context, req steps.RunRequest) steps.RunResponse {
	c, ok, diags := parseConn(steps.Attr(req.Args, "etcd"))
	as := steps.Attr(req.Args, "as")
	diags = append(diags, checkAs(as)...)
	diags = append(diags, checkKey(steps.Attr(req.Args, "anonymous_key"))...)
	if !ok || diags.HasErrors() {
		return steps.RunResponse{Diagnostics: diags}
	}
	anonKey, _ := steps.Str(steps.Attr(req.Args, "anonymous_key"))
	userKey := anonKey
	id := c
	if !as.IsNull() {
		id = c.withoutIdentity()
		id.CertFile, _ = steps.Str(steps.Attr(as, "cert_file"))
		id.KeyFile, _ = steps.Str(steps.Attr(as, "key_file"))
		id.User, _ = steps.Str(steps.Attr(as, "user"))
		id.Password, _ = steps.Str(steps.Attr(as, "password"))
		if k, ok := steps.Str(steps.Attr(as, "key")); ok {
			userKey = k
		}
	}
	anon := c.withoutIdentity()

	// The identity's read, and the auth status through the same client.
	authEnabled, statusKnown := false, false
	userAllowed, userResult := false, ""
	if cli, err := id.dial(ctx); err != nil {
		userResult = err.Error()
	} else {
		if en, err := id.authEnabled(ctx, cli); err == nil {
			authEnabled, statusKnown = en, true
		}
		cctx, cancel := id.call(ctx)
		if _, err := cli.Get(cctx, userKey); err != nil {
			userResult = id.callError("", "Reading "+userKey+" as "+id.identity(), err).Detail
		} else {
			userAllowed, userResult = true, "allowed"
		}
		cancel()
		cli.Close()
	}

	anonRefused, anonResult, anonDiag := anon.anonymousRead(ctx, anonKey)
	if anonDiag != nil {
		return steps.RunResponse{Diagnostics: append(diags, anonDiag)}
	}
	if !statusKnown {
		if anonRefused {
			// Refused anonymously, so auth (RBAC or TLS client auth) is on.
			authEnabled = true
		} else if cli, err := anon.dial(ctx); err == nil {
			authEnabled, _ = anon.authEnabled(ctx, cli)
			cli.Close()
		}
	}
	out := cty.ObjectVal(map[string]cty.Value{
		"auth_enabled":      cty.BoolVal(authEnabled),
		"anonymous_refused": cty.BoolVal(anonRefused),
		"user_allowed":      cty.BoolVal(userAllowed),
		"anonymous_result":  cty.StringVal(anonResult),
		"user_result":       cty.StringVal(userResult),
	})
	if require, _ := steps.Bool(steps.Attr(req.Args, "require"), true); require {
		var failed []string
		if !authEnabled {
			failed = append(failed, "etcd reports auth disabled")
		}
		if !anonRefused {
			failed = append(failed, "an anonymous client could read "+anonKey)
		}
		if !userAllowed {
			failed = append(failed, id.identity()+" could not read "+userKey+": "+userResult)
		}
		if len(failed) > 0 {
			d := steps.Errorf("etcd auth check failed", "%s.", strings.Join(failed, "; "))
			return steps.RunResponse{Outputs: out, Diagnostics: append(diags, d)}
		}
	}
	return steps.RunResponse{Outputs: out, Diagnostics: diags}
}

// anonymousRead tries to read key with no credentials and says whether, and
// how, it was refused. A timeout is confirmed as a TLS refusal by a probe; a
// timeout the probe cannot explain is an error, not a pass.
func (c conn) anonymousRead(ctx context.Context, key string) (refused bool, result string, diag *hcl.Diagnostic) {
	// A server that demands client certificates makes an anonymous gRPC
	// call hang until its timeout rather than fail; a TLS handshake
	// without a certificate answers at once, so ask that first.
	if refusedTLS, reason, perr := c.probeTLS(ctx); perr == nil && refusedTLS {
		return true, "refused by TLS: " + reason, nil
	}
	cli, err := c.dial(ctx)
	if err == nil {
		cctx, cancel := c.call(ctx)
		_, err = cli.Get(cctx, key)
		cancel()
		cli.Close()
	}
	switch {
	case err == nil:
		return false, "allowed", nil
	case errors.Is(err, rpctypes.ErrUserEmpty), errors.Is(err, rpctypes.ErrPermissionDenied):
		return true, "refused: " + err.Error(), nil
	case isCertRefusal(err):
		return true, "refused by TLS: " + err.Error(), nil
	}
	refusedTLS, reason, perr := c.probeTLS(ctx)
	if refusedTLS {
		return true, "refused by TLS: " + reason, nil
	}
	d := c.callError("Cannot tell whether etcd refuses anonymous clients", "Reading "+key+" anonymously", err)
	if perr != nil {
		d.Detail += " A direct TLS probe could not explain it: " + perr.Error() + "."
	}
	return false, "", d
}
