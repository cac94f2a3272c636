package rok

import "github.com/rokflow/rokflow/steps"

// Kinds returns every kind of this package, for steps/builtin to register.
func Kinds() []steps.Kind {
	return []steps.Kind{
		MemberList{},
		ConfigGet{},
		ConfigSet{},
		UpgradeCluster{},
		UpgradeNode{},
		EnableEtcdAuth{},
		GatewayMigrate{},
		GatewayShowMigrations{},
		OpenStoreEndpoints{},
	}
}
