package rok

import (
	"testing"

	"github.com/rokflow/rokflow/steps/stepstest"
)

// TestPlanWhollyUnknown: see stepstest.CheckPlanWhollyUnknown.
func TestPlanWhollyUnknown(t *testing.T) {
	stepstest.CheckPlanWhollyUnknown(t, Kinds())
}
