// Package openstore parses, formats and migrates Rok OpenStore endpoints.
//
// Rok v0.11 changed how one end of an OpenStore control connection is
// written. Before, an endpoint was "tcp://HOST:PORT" and carried no role.
// From v0.11 it is "[role=master|slave,]http://HOST:PORT", given to -C
// (connect, default role slave) or -L (listen, default role master); the
// External Controller's --bind-http became --controller-listen with the
// slave role. The four combinations are:
//
//	-C role=master,http://1.2.3.4:8080     master, connect
//	-C [role=slave,]http://1.2.3.4:9090    slave, connect (default role)
//	-L [role=master,]http://1.2.3.4:9090   master, listen (default role)
//	-L role=slave,http://1.2.3.4:8080      slave, listen
//
// Before v0.11 the role was not written: it followed from the option
// (openstore-controller: slave connects; openstore-master-connect: master
// connects; bind-http: the External Controller, a slave, listens; listen:
// master listens). ConfigRules is that mapping, and the one place that
// decides a role.
//
// The package offers:
//   - Endpoint, Parse, Format and FormatFor: the endpoint syntax, with
//     Direction and RoleStyle deciding whether a default role is written;
//   - ConfigRules and MigrateOption: the option mapping (see ConfigRules);
//   - RewriteConfig for /etc/rok/daemons.conf (INI), RewriteEnv for shell
//     or environment files (OPENSTORE_CONTROLLER=…), RewriteArgs for argv
//     slices. Each keeps everything it does not migrate byte for byte, is
//     idempotent, reports what it changed as []Change and refuses, naming
//     the line or argument, whatever it cannot migrate safely.
//
// It is pure string handling: it does not read or write files, run
// commands, know which daemon runs where, or depend on cty/HCL. Playbook
// functions built on it live in lang/funcs.
package openstore
