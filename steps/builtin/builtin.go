// Package builtin wires rokflow's built-in step kinds into a registry. It is
// the one place that lists them; nothing registers itself.
package builtin

import (
	"github.com/rokflow/rokflow/steps"
	"github.com/rokflow/rokflow/steps/etcd"
	"github.com/rokflow/rokflow/steps/exec"
	"github.com/rokflow/rokflow/steps/file"
	"github.com/rokflow/rokflow/steps/ganeti"
	"github.com/rokflow/rokflow/steps/httpreq"
	"github.com/rokflow/rokflow/steps/manual"
	"github.com/rokflow/rokflow/steps/pkg"
	"github.com/rokflow/rokflow/steps/rok"
	"github.com/rokflow/rokflow/steps/service"
	"github.com/rokflow/rokflow/steps/wait"
)

// Registry returns a registry of every built-in kind.
func Registry() (*steps.Registry, error) {
	kinds := []steps.Kind{
		exec.New(),
		exec.NewShell(),
		file.NewReplace(),
		file.NewWrite(),
		pkg.NewApt(),
		service.New(),
		httpreq.New(),
		httpreq.NewGet(),
		wait.New(),
		manual.New(),
	}
	kinds = append(kinds, rok.Kinds()...)
	kinds = append(kinds, etcd.Kinds()...)
	kinds = append(kinds, ganeti.Kinds()...)
	return steps.NewRegistry(kinds...)
}
