package ssh

import (
	"os"
	"testing"
)

// TestMain keeps the tests from reading the ssh_config files of whoever
// runs them: a test that wants one names it in Config.ConfigFile.
func TestMain(m *testing.M) {
	os.Setenv(ConfigFileEnv, "none")
	os.Exit(m.Run())
}
