package manual

import (
	"context"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/zclconf/go-cty/cty"

	"github.com/rokflow/rokflow/steps"
	"github.com/rokflow/rokflow/steps/stepstest"
	"github.com/rokflow/rokflow/steps/transport/local"
)

func TestConformance(t *testing.T) {
	stepstest.CheckKind(t, New())
	if s := New().Schema(); !s.Gate || s.Effect != steps.Idempotent {
		t.Errorf("manual: Gate %v, Effect %v", s.Gate, s.Effect)
	}
}

func TestPlan(t *testing.T) {
	vars := map[string]cty.Value{"node": stepstest.Unknown(cty.String, "step.master"), "ip": stepstest.Secret("10.9.9.9")}
	tests := map[string]struct {
		src              string
		wantSummary      string
		wantInstructions string
		wantCommand      []string
		wantError        string
	}{
		"operator only": {
			src:              `instructions = "Power off n1 and replace its BOOT disk."`,
			wantSummary:      "gate: wait for an operator",
			wantInstructions: "Power off n1 and replace its BOOT disk.",
		},
		"with a check": {
			src: `instructions = "Power off ${var.node} and replace its BOOT disk."
				check {
					command = ["rok-cluster-ctl", "member-list"]
					expect_stdout = "v0\\.11"
				}`,
			wantSummary:      `gate: wait for an operator, or until rok-cluster-ctl member-list succeeds with output matching "v0\\.11", every 5s for at most 2h`,
			wantInstructions: "(known after step.master)",
			wantCommand:      []string{"rok-cluster-ctl", "member-list"},
		},
		"sensitive instructions": {
			src:              `instructions = var.ip`,
			wantSummary:      "gate: wait for an operator",
			wantInstructions: "(sensitive)",
		},
		"bad check timeout": {
			src: `instructions = "x"
				check {
					command = ["true"]
					timeout = "forever"
				}`,
			wantError: "Invalid timeout",
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			args := stepstest.Args(t, New(), tc.src, vars)
			resp := New().Plan(context.Background(), steps.PlanRequest{Args: args})
			if tc.wantError != "" {
				if !resp.Diagnostics.HasErrors() || resp.Diagnostics[0].Summary != tc.wantError {
					t.Fatalf("diagnostics = %v, want %q", resp.Diagnostics, tc.wantError)
				}
				return
			}
			if resp.Diagnostics.HasErrors() {
				t.Fatal(resp.Diagnostics.Error())
			}
			if resp.Summary != tc.wantSummary {
				t.Errorf("Summary = %q\nwant      %q", resp.Summary, tc.wantSummary)
			}
			if resp.Instructions != tc.wantInstructions {
				t.Errorf("Instructions = %q, want %q", resp.Instructions, tc.wantInstructions)
			}
			if !reflect.DeepEqual(resp.Command, tc.wantCommand) {
				t.Errorf("Command = %q, want %q", resp.Command, tc.wantCommand)
			}
		})
	}
}

func TestRun(t *testing.T) {
	at := time.Date(2026, 3, 1, 12, 0, 0, 0, time.FixedZone("CET", 3600))
	tests := map[string]struct {
		src        string
		wantBy     string
		wantError  string
		wantDetail string
	}{
		"without a check the gate needs an approval": {
			src:        `instructions = "Swap the disk."`,
			wantError:  "Gate needs an approval",
			wantDetail: "rokflow approve",
		},
		"a passing check completes the gate": {
			// The node "comes back" on the second attempt.
			src: `instructions = "Swap the disk."
				check {
					command = ["sh", "-c", "if [ -e \"$1\" ]; then echo v0.11; else touch \"$1\"; exit 1; fi", "sh", var.flag]
					expect_stdout = "^v0\\.11$"
					interval = "1ms"
				}`,
			wantBy: `check: sh -c 'if [ -e "$1" ]; then echo v0.11; else touch "$1"; exit 1; fi' sh ` + "FLAG",
		},
		"a check that never passes fails after its timeout": {
			src: `instructions = "Swap the disk."
				check {
					command = ["false"]
					interval = "50ms"
					timeout = "300ms"
				}`,
			wantError:  "Check did not pass within 300ms",
			wantDetail: "exit status 1",
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			flag := filepath.Join(t.TempDir(), "back")
			args := stepstest.Args(t, New(), tc.src, map[string]cty.Value{"flag": cty.StringVal(flag)})
			m := &Manual{Now: func() time.Time { return at }}
			resp := m.Run(context.Background(), steps.RunRequest{Args: args, Host: local.New()})
			if tc.wantError != "" {
				if !resp.Diagnostics.HasErrors() || resp.Diagnostics[0].Summary != tc.wantError {
					t.Fatalf("diagnostics = %v, want %q", resp.Diagnostics, tc.wantError)
				}
				if !strings.Contains(resp.Diagnostics[0].Detail, tc.wantDetail) {
					t.Errorf("detail %q lacks %q", resp.Diagnostics[0].Detail, tc.wantDetail)
				}
				return
			}
			if resp.Diagnostics.HasErrors() {
				t.Fatal(resp.Diagnostics.Error())
			}
			if got, want := resp.Outputs.GetAttr("approved_by").AsString(), strings.ReplaceAll(tc.wantBy, "FLAG", flag); got != want {
				t.Errorf("approved_by = %q, want %q", got, want)
			}
			if got := resp.Outputs.GetAttr("approved_at").AsString(); got != "2026-03-01T11:00:00Z" {
				t.Errorf("approved_at = %q", got)
			}
		})
	}
}
