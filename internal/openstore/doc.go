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
//     or environment files (OPENSTORE_CONTROLLER=…, and variables of daemon
//     options such as ROK_DAEMON_OPTS="--bind-http tcp://…"), RewriteUnit
//     for systemd unit files and drop-ins (ExecStart= command lines,
//     Environment=), RewriteArgs for argv slices. RewriteArgs is the one
//     owner of flag rewriting: RewriteEnv and RewriteUnit read the words
//     with package shellwords and hand them to it. Each keeps everything
//     it does not migrate byte for byte (quotes included), is idempotent,
//     reports what it changed as []Change and refuses, naming the line or
//     argument, whatever it cannot migrate safely.
//
// It is pure string handling: it does not read or write files, run
// commands, know which daemon runs where, or depend on cty/HCL; of rokflow
// it imports only sim/shellwords, a leaf package (the repository's one
// reader of POSIX shell words, which the simulator's nodes use too). Playbook
// functions built on it live in lang/funcs.
package openstore
