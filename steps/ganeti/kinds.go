package ganeti

import "github.com/rokflow/rokflow/steps"

// Kinds returns every kind of this package, for steps/builtin to register.
func Kinds() []steps.Kind {
	return []steps.Kind{
		Info{}, Nodes{}, Node{}, Instances{}, Instance{}, JobWait{},
		NodeEvacuate{}, NodeMigrate{}, InstanceMigrate{}, InstanceReinstall{},
		InstanceShutdown{}, InstanceStartup{}, NodeRole{},
	}
}
