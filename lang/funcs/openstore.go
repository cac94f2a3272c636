package funcs

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/rokflow/rokflow/internal/openstore"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/function"
)

// EndpointType is the object openstore_endpoint returns:
//
//	role          string  "master", "slave", or "" when the text has no role=
//	role_explicit bool    whether the text has a role= prefix
//	scheme        string  "http", or "tcp" for a legacy (pre-0.11) endpoint
//	host          string  host name or IP address; IPv6 without brackets
//	port          number  1-65535
//	url           string  "scheme://host:port", IPv6 in brackets, no role
//	legacy        bool    scheme == "tcp"
var EndpointType = cty.Object(map[string]cty.Type{
	"role":          cty.String,
	"role_explicit": cty.Bool,
	"scheme":        cty.String,
	"host":          cty.String,
	"port":          cty.Number,
	"url":           cty.String,
	"legacy":        cty.Bool,
})

const badEndpoint = "not a valid OpenStore endpoint"

func parseEndpoint(i int, s string) (openstore.Endpoint, error) {
	e, err := openstore.Parse(s)
	if err != nil {
		return e, newArgError(i, err, badEndpoint)
	}
	return e, nil
}

// OpenstoreEndpointFunc is openstore_endpoint(text): it parses an OpenStore
// endpoint, "[role=master|slave,]http://HOST:PORT" (v0.11) or
// "tcp://HOST:PORT" (legacy), and returns an EndpointType object. The role
// is "" when none is written, because the default depends on the flag the
// endpoint is given to (-C: slave, -L: master).
var OpenstoreEndpointFunc = newFunc(
	"Parses an OpenStore endpoint ([role=master|slave,]http://HOST:PORT, or legacy tcp://HOST:PORT) into an object with role, role_explicit, scheme, host, port, url and legacy.",
	[]function.Parameter{strParam("text", "The endpoint text.")},
	EndpointType,
	func(args []cty.Value) (cty.Value, error) {
		e, err := parseEndpoint(0, args[0].AsString())
		if err != nil {
			return cty.NilVal, err
		}
		port, _ := strconv.Atoi(e.Port) // Parse guarantees 1-65535
		return cty.ObjectVal(map[string]cty.Value{
			"role":          cty.StringVal(string(e.Role)),
			"role_explicit": cty.BoolVal(e.RoleExplicit),
			"scheme":        cty.StringVal(e.Scheme),
			"host":          cty.StringVal(e.Host),
			"port":          cty.NumberIntVal(int64(port)),
			"url":           cty.StringVal(e.URL()),
			"legacy":        cty.BoolVal(e.IsLegacy()),
		}), nil
	},
)

// OpenstoreFormatFunc is openstore_format(role, url): it builds the
// canonical v0.11 endpoint text "role=ROLE,URL". role is "master", "slave",
// or "" for no role prefix (the flag's default applies). url is
// "http://HOST:PORT" without a role; a legacy "tcp://" url is accepted only
// with role "" (roles need v0.11; use openstore_migrate first). So
// openstore_format(e.role, e.url) gives back the text e was parsed from, and
// openstore_format("slave", openstore_migrate("tcp://h:1")) is
// "role=slave,http://h:1".
var OpenstoreFormatFunc = newFunc(
	`Builds the OpenStore endpoint text "role=ROLE,URL" from a role ("master", "slave", or "" for none) and an http:// URL.`,
	[]function.Parameter{
		strParam("role", `"master", "slave", or "" to write no role.`),
		strParam("url", "The endpoint URL, http://HOST:PORT."),
	},
	cty.String,
	func(args []cty.Value) (cty.Value, error) {
		role := openstore.Role(args[0].AsString())
		if role != "" && !role.Valid() {
			return cty.NilVal, argErrorf(0, "not a valid OpenStore role", "unknown OpenStore role %q (want %q, %q, or \"\" for none)", role, openstore.RoleMaster, openstore.RoleSlave)
		}
		e, err := parseEndpoint(1, args[1].AsString())
		if err != nil {
			return cty.NilVal, err
		}
		if e.RoleExplicit {
			return cty.NilVal, argErrorf(1, "the URL must not carry a role", "the URL %q already carries a role; pass the role as the first argument and the URL without it (e.g. %q)", args[1].AsString(), e.URL())
		}
		if e.IsLegacy() && role != "" {
			return cty.NilVal, argErrorf(1, "legacy tcp:// URLs cannot carry a role", "legacy tcp:// URL %q cannot carry a role; convert it with openstore_migrate first", args[1].AsString())
		}
		return cty.StringVal(openstore.Format(e.WithRole(role))), nil
	},
)

// OpenstoreMigrateFunc is openstore_migrate(text): it turns a legacy
// "tcp://HOST:PORT" endpoint into "http://HOST:PORT" — only the scheme
// changes, no role is added, as the v0.11 note does for environment
// variables. A v0.11 endpoint is returned unchanged, so the function is
// idempotent. Invalid text is an error.
var OpenstoreMigrateFunc = newFunc(
	"Converts a legacy tcp://HOST:PORT OpenStore endpoint to http://HOST:PORT; v0.11 endpoints are returned unchanged.",
	[]function.Parameter{strParam("text", "The endpoint text.")},
	cty.String,
	func(args []cty.Value) (cty.Value, error) {
		e, err := parseEndpoint(0, args[0].AsString())
		if err != nil {
			return cty.NilVal, err
		}
		return cty.StringVal(openstore.Format(e.Migrate())), nil
	},
)

// OpenstoreRewriteConfigFunc is openstore_rewrite_config(text): the whole
// text of /etc/rok/daemons.conf migrated to v0.11 (openstore.RewriteConfig:
// openstore-controller -> connect, bind-http -> controller-listen, roles
// written out, everything else kept byte for byte; idempotent). An error
// lists every line that cannot be migrated safely.
var OpenstoreRewriteConfigFunc = newFunc(
	"Migrates the text of /etc/rok/daemons.conf to v0.11 OpenStore endpoints.",
	[]function.Parameter{strParam("text", "The daemons.conf text.")},
	cty.String,
	func(args []cty.Value) (cty.Value, error) {
		out, _, err := openstore.RewriteConfig(args[0].AsString())
		if err != nil {
			return cty.NilVal, newArgError(0, err, "cannot migrate "+lineList(err))
		}
		return cty.StringVal(out), nil
	},
)

// OpenstoreRewriteEnvFunc is openstore_rewrite_env(text): a shell or
// environment file with every NAME=tcp://HOST:PORT assignment switched to
// http:// (openstore.RewriteEnv; quotes, export and comments kept;
// idempotent). An error lists every line that cannot be migrated safely.
var OpenstoreRewriteEnvFunc = newFunc(
	"Migrates NAME=tcp://HOST:PORT assignments in a shell/environment file to http://.",
	[]function.Parameter{strParam("text", "The file text.")},
	cty.String,
	func(args []cty.Value) (cty.Value, error) {
		out, _, err := openstore.RewriteEnv(args[0].AsString())
		if err != nil {
			return cty.NilVal, newArgError(0, err, "cannot migrate "+lineList(err))
		}
		return cty.StringVal(out), nil
	},
)

// lineList names the lines of a rewriter's refusals without their content,
// e.g. "lines 3, 7".
func lineList(err error) string {
	var lines []string
	errs := []error{err}
	var joined interface{ Unwrap() []error }
	if errors.As(err, &joined) {
		errs = joined.Unwrap()
	}
	for _, e := range errs {
		var le *openstore.LineError
		if errors.As(e, &le) {
			lines = append(lines, strconv.Itoa(le.Line))
		}
	}
	switch len(lines) {
	case 0:
		return "the text"
	case 1:
		return "line " + lines[0]
	}
	return fmt.Sprintf("lines %s", strings.Join(lines, ", "))
}
