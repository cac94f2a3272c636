package main

import (
	"context"
	"fmt"

	"github.com/zclconf/go-cty/cty"

	"github.com/rokflow/rokflow/runtime"
	"github.com/rokflow/rokflow/steps"
	"github.com/rokflow/rokflow/steps/transport/local"
)

// hosts resolves step targets to transports. A step with no connection, or
// a connection whose transport is "local", runs on this machine.
func (a *App) hosts() runtime.HostResolver {
	return func(ctx context.Context, target string, conn cty.Value) (steps.Host, error) {
		transport := "local"
		if !conn.IsNull() && conn.Type().IsObjectType() && conn.Type().HasAttribute("transport") {
			t, _ := conn.GetAttr("transport").Unmark()
			if t.IsKnown() && !t.IsNull() && t.Type() == cty.String {
				transport = t.AsString()
			}
		}
		switch transport {
		case "local":
			return local.New(), nil
		default:
			return nil, fmt.Errorf("the %q transport is not available in this build", transport)
		}
	}
}
