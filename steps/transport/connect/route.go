package connect

import (
	"fmt"
	"net"
	"strings"
)

// LocalTarget is the target of a step that names no host, and the name
// a playbook gives this machine.
const LocalTarget = "local"

// ThisMachine reports whether target names the machine rokflow runs on:
// "local", "localhost" or a loopback address (127.0.0.0/8, ::1). The
// machine's own host name is not one of them: it would make a plan depend
// on where it is made.
func ThisMachine(target string) bool {
	switch strings.ToLower(target) {
	case LocalTarget, "localhost":
		return true
	}
	// Only what may be an address is parsed: a step per node of a large
	// cluster asks this for every instance it plans.
	if target == "" || !(target[0] == '[' || strings.IndexByte(target, ':') >= 0 || target[0] >= '0' && target[0] <= '9') {
		return false
	}
	ip := net.ParseIP(strings.TrimSuffix(strings.TrimPrefix(target, "["), "]"))
	return ip != nil && ip.IsLoopback()
}

// Problem says why a target and a connection do not go together.
type Problem int

// The problems Route finds.
const (
	// NoConnection: the target is another host and the step names no
	// connection.
	NoConnection Problem = iota + 1
	// LocalTransport: the target is another host and the connection's
	// transport is "local".
	LocalTransport
	// NoHost: the connection's transport is "ssh" and the target is
	// "local" (or the step has no on), which names no host to reach.
	NoHost
	// BadTransport: the connection's transport is neither "ssh" nor
	// "local".
	BadTransport
)

// RouteError is a target that its connection does not reach.
type RouteError struct {
	Problem   Problem
	Target    string
	Transport Transport
}

// Summary is the diagnostic summary for the problem.
func (e *RouteError) Summary() string {
	switch e.Problem {
	case NoConnection:
		return "Remote target without a connection"
	case LocalTransport:
		return "Local connection for a remote target"
	case NoHost:
		return "SSH connection without a host"
	default:
		return "Invalid transport"
	}
}

// Detail says what is wrong and how to fix it.
func (e *RouteError) Detail() string {
	switch e.Problem {
	case NoConnection:
		return fmt.Sprintf("The step runs on %q, which is not this machine, but names no connection, so nothing says how to reach it. "+
			`Add connection = connection.NAME naming a connection block with transport = "ssh", or use on = "local" to run on this machine.`, e.Target)
	case LocalTransport:
		return fmt.Sprintf(`The step runs on %q, which is not this machine, but its connection has transport = "local". `+
			`Use a connection with transport = "ssh" to reach %q, or on = "local" to run on this machine.`, e.Target, e.Target)
	case NoHost:
		return `The step's connection has transport = "ssh" but the step runs on "local" (or has no on), which names no host to reach. ` +
			`Name the host with on, use on = "localhost" to reach this machine over SSH, or a connection with transport = "local".`
	default:
		return fmt.Sprintf("The connection's transport is %q. %s", e.Transport, transportDetail)
	}
}

func (e *RouteError) Error() string {
	return e.Summary() + ": " + e.Detail()
}

// Route decides how a step whose target is target reaches it through a
// connection with transport t ("" when the step names no connection). It
// is the one place that decides where a step runs: the core calls it while
// planning, with the values known then, and the Resolver again before
// anything runs.
func Route(target string, t Transport) (Transport, error) {
	switch t {
	case "":
		if ThisMachine(target) {
			return Local, nil
		}
		return "", &RouteError{Problem: NoConnection, Target: target}
	case Local:
		if ThisMachine(target) {
			return Local, nil
		}
		return "", &RouteError{Problem: LocalTransport, Target: target, Transport: t}
	case SSH:
		if target == "" || strings.EqualFold(target, LocalTarget) {
			return "", &RouteError{Problem: NoHost, Target: target, Transport: t}
		}
		return SSH, nil
	default:
		return "", &RouteError{Problem: BadTransport, Target: target, Transport: t}
	}
}
