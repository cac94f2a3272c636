package connect_test

import (
	"os"
	"testing"

	"github.com/rokflow/rokflow/steps/transport/ssh"
)

// TestMain keeps the tests from reading the ssh_config files of whoever
// runs them: a test that wants one names it in the connection.
func TestMain(m *testing.M) {
	os.Setenv(ssh.ConfigFileEnv, "none")
	os.Exit(m.Run())
}
