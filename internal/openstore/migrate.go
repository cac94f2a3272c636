package openstore

import (
	"fmt"
	"slices"
	"strings"
)

// ConfigRule says how one OpenStore endpoint option is migrated to v0.11. The
// same names are used as daemons.conf keys and, with two leading dashes, as
// command-line options.
type ConfigRule struct {
	// Key is the option name before migration.
	Key string
	// NewKey is the option name after migration; equal to Key when the
	// option keeps its name.
	NewKey string
	// Direction is how the daemon uses the endpoint.
	Direction Direction
	// Role is the role written (always explicitly) into a migrated value.
	Role Role
}

// Renamed reports whether the option itself is a pre-0.11 name.
func (r ConfigRule) Renamed() bool { return r.Key != r.NewKey }

// configRules is the key mapping, in the order documented on ConfigRules.
var configRules = []ConfigRule{
	{Key: "openstore-controller", NewKey: "connect", Direction: Connect, Role: RoleSlave},
	{Key: "openstore-master-connect", NewKey: "connect", Direction: Connect, Role: RoleMaster},
	{Key: "bind-http", NewKey: "controller-listen", Direction: Listen, Role: RoleSlave},
	{Key: "connect", NewKey: "connect", Direction: Connect, Role: RoleSlave},
	{Key: "listen", NewKey: "listen", Direction: Listen, Role: RoleMaster},
	{Key: "controller-listen", NewKey: "controller-listen", Direction: Listen, Role: RoleSlave},
}

// ConfigRules returns the option mapping used by MigrateOption,
// RewriteConfig and RewriteArgs (and through RewriteArgs by RewriteEnv and
// RewriteUnit):
//
//	old option                 new option          value written       combination
//	openstore-controller       connect             role=slave,http://  slave/connect
//	openstore-master-connect   connect             role=master,http:// master/connect
//	bind-http                  controller-listen   role=slave,http://  slave/listen
//	connect                    connect             role=slave,http://  slave/connect
//	listen                     listen              role=master,http:// master/listen
//	controller-listen          controller-listen   role=slave,http://  slave/listen
//
// A pre-0.11 endpoint has no role of its own (tcp:// cannot carry one), so
// the role comes from the option that holds it, and only from there: the
// same option means the same thing in daemons.conf, on a command line and
// in a variable of daemon options, where there is no section to go by, and
// one daemon may take both roles (the OpenStore daemon listens as master
// and may also connect as master). The rule, one option per combination:
//
//   - openstore-controller is how a daemon reached the OpenStore
//     controller, the master, so the daemon is a slave that connects
//     (rok.md 7.5);
//   - openstore-master-connect is how a daemon that is the OpenStore master
//     dialled a slave that listens (the External Controller): master
//     connects, "-C role=master,…" in v0.11. rok.md records no pre-0.11
//     option for this combination; this name is the one rokflow and its
//     simulator use for it;
//   - bind-http is the External Controller's listen address, which v0.11
//     replaced by controller-listen with the slave role (the v0.11 note);
//   - connect and listen holding tcp:// values keep their name and get
//     their flag's default role (-C: slave, -L: master; the note's
//     bracketed defaults), written out so that the meaning never depends
//     on defaults. The only pre-0.11 way to say master/connect is
//     openstore-master-connect and to say slave/listen is bind-http.
//
// A value that is already v0.11 (http://, with or without a role) under a
// current name is left alone. A pre-0.11 option whose value is already
// http:// (a sed run before) is still renamed and gets its role; one that
// carries a role is refused, since no pre-0.11 option ever took one.
func ConfigRules() []ConfigRule { return slices.Clone(configRules) }

func lookupRule(key string, foldCase bool) (ConfigRule, bool) {
	for _, r := range configRules {
		if r.Key == key || foldCase && strings.EqualFold(r.Key, key) {
			return r, true
		}
	}
	return ConfigRule{}, false
}

// hasLegacyScheme reports whether s mentions a tcp:// URL anywhere.
func hasLegacyScheme(s string) bool {
	return strings.Contains(strings.ToLower(s), SchemeTCP+"://")
}

// MigrateOption migrates one daemons.conf option (key = value, key being the
// long command-line option without dashes) according to ConfigRules. Keys
// are matched case-insensitively, as Python's configparser does; a key that
// keeps its name keeps its spelling, a renamed key is written in lower case.
//
// It returns changed == false and the inputs unchanged when nothing needs to
// be done: the key is not an endpoint option and its value mentions no
// tcp:// URL, or the option is current and its value already v0.11. It
// fails when it cannot migrate safely: the value of an endpoint option does
// not parse (including a tcp:// value with a role), a pre-0.11 option
// carries a role, or an unknown option holds a tcp:// value.
func MigrateOption(key, value string) (newKey, newValue string, changed bool, err error) {
	rule, ok := lookupRule(key, true)
	if !ok {
		if hasLegacyScheme(value) {
			return key, value, false, errUnknownLegacy(key)
		}
		return key, value, false, nil
	}
	newValue, changed, err = migrateValue(rule, key, value)
	if err != nil || !changed {
		return key, value, false, err
	}
	if rule.Renamed() {
		key = rule.NewKey
	}
	return key, newValue, true, nil
}

// migrateValue applies rule to value; key is only used in messages.
func migrateValue(rule ConfigRule, key, value string) (string, bool, error) {
	e, err := Parse(value)
	if err != nil {
		return "", false, fmt.Errorf("%s: %w", key, err)
	}
	if rule.Renamed() {
		if e.RoleExplicit {
			return "", false, fmt.Errorf("%s is a pre-0.11 option and never took a role, but its value %q has one; fix it by hand", key, value)
		}
	} else if !e.IsLegacy() {
		return value, false, nil
	}
	return Format(e.Migrate().WithRole(rule.Role)), true, nil
}

// errUnknownLegacy refuses a tcp:// value under an option ConfigRules does
// not know.
func errUnknownLegacy(key string) error {
	keys := make([]string, len(configRules))
	for i, r := range configRules {
		keys[i] = r.Key
	}
	return fmt.Errorf("option %q holds a tcp:// value but is not an OpenStore endpoint option (known: %s); migrate it by hand", key, strings.Join(keys, ", "))
}

// Change records one rewrite made by RewriteConfig, RewriteEnv,
// RewriteUnit or RewriteArgs.
type Change struct {
	// Line is the 1-based line number in the input text (RewriteConfig,
	// RewriteEnv, RewriteUnit; the first line of a continued one); 0 for
	// RewriteArgs.
	Line int
	// Arg is the 1-based position of the argument holding the option name
	// in its command line (RewriteArgs; RewriteUnit and RewriteEnv for an
	// option in an ExecStart= or in a variable of options); 0 otherwise.
	Arg int
	// Section is the INI or unit file section ("" before the first section
	// header; RewriteConfig and RewriteUnit).
	Section string
	// In names what holds the command line or variable inside the line:
	// the directive ("ExecStart", "Environment") or the variable of
	// daemon options ("ROK_DAEMON_OPTS"); "" when the line is the option
	// itself.
	In string
	// Key and NewKey are the option, variable or flag name before and after
	// (equal when not renamed). Flags include their dashes ("--bind-http").
	Key, NewKey string
	// Old and New are the value before and after (without shell quotes).
	Old, New string
}

// String renders c for logs, e.g.
// "line 3 [composerd.0]: openstore-controller = tcp://h:1 -> connect = role=slave,http://h:1",
// "argument 2: --bind-http = tcp://h:1 -> --controller-listen = role=slave,http://h:1" or
// "line 4 [Service] ExecStart argument 2: --bind-http = tcp://h:1 -> --controller-listen = role=slave,http://h:1".
func (c Change) String() string {
	var where []string
	if c.Line > 0 {
		where = append(where, fmt.Sprintf("line %d", c.Line))
	}
	if c.Section != "" {
		where = append(where, "["+c.Section+"]")
	}
	if c.In != "" {
		where = append(where, c.In)
	}
	if c.Arg > 0 {
		where = append(where, fmt.Sprintf("argument %d", c.Arg))
	}
	return fmt.Sprintf("%s: %s = %s -> %s = %s", strings.Join(where, " "), c.Key, c.Old, c.NewKey, c.New)
}

// LineError is a refusal tied to one line of the input text (or, for
// RewriteArgs, one argument position). The rewriters return every refusal
// they find, joined with errors.Join; use errors.As to get the first one.
type LineError struct {
	Line int
	Err  error
}

func (e *LineError) Error() string { return fmt.Sprintf("line %d: %v", e.Line, e.Err) }
func (e *LineError) Unwrap() error { return e.Err }

// ArgError is a refusal tied to one command-line argument (1-based position).
type ArgError struct {
	Arg int
	Err error
}

func (e *ArgError) Error() string { return fmt.Sprintf("argument %d: %v", e.Arg, e.Err) }
func (e *ArgError) Unwrap() error { return e.Err }
