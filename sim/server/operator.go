package server

import (
	"fmt"
	"strings"
	"time"

	"github.com/rokflow/rokflow/sim"
	"github.com/rokflow/rokflow/sim/internal/release"
)

// operatorTask is a BOOT disk swap the simulated field operator is
// doing: power off, replace the disk, power on.
type operatorTask struct {
	ID      int    `json:"id"`
	Node    string `json:"node"`
	Version string `json:"version"`
	// Phase is "power-off" (waiting to power the node off), "power-on"
	// (disk replaced, waiting to power on), "stuck" (the node does not come
	// back) or "done".
	Phase string    `json:"phase"`
	Due   time.Time `json:"due"`
	Why   string    `json:"why"`
}

// operatorNotices is called when a gate's check polls rok-base on a node:
// in demo mode the operator then swaps its BOOT disk if it is older than
// the upgrade under way, the lowest upgrade target newer than the node
// state of the member least far along. (So a node is never taken past the
// upgrade the other members are going through, when something polls a
// node already swapped.) The caller holds s.mu.
func (s *Server) operatorNotices(st *state, n *node) {
	if !st.Spec.AutoOperator || st.Spec.Platform != sim.PlatformAppliance || n.Kind != kindAppliance {
		return
	}
	target := st.nextTarget(st.oldestNodeState())
	if target == "" || release.CompareSeries(release.SeriesOf(n.Boot), release.SeriesOf(target)) >= 0 {
		return
	}
	for _, t := range st.Operator {
		if t.Node == n.Name && t.Phase != "done" {
			return
		}
	}
	s.scheduleSwap(st, n, release.BootVersion(target), "a gate is waiting for its new BOOT disk")
}

func (s *Server) scheduleSwap(st *state, n *node, version, why string) *operatorTask {
	t := &operatorTask{ID: st.NextTask, Node: n.Name, Version: version, Phase: "power-off",
		Due: time.Now().Add(st.Spec.OperatorDelay.D()), Why: why}
	st.NextTask++
	st.Operator = append(st.Operator, t)
	st.event(n.Name, "operator: BOOT disk swap to rok-base %s scheduled (%s)", version, why)
	kick(s.kickOperator)
	return t
}

// runOperator carries out the operator's tasks when they fall due.
func (s *Server) runOperator() {
	defer s.wg.Done()
	for {
		s.mu.Lock()
		next := s.advanceTasks(time.Now())
		s.mu.Unlock()
		wait := time.Hour
		if !next.IsZero() {
			wait = time.Until(next)
		}
		t := time.NewTimer(wait)
		select {
		case <-s.stopping:
			t.Stop()
			return
		case <-s.kickOperator:
		case <-t.C:
		}
		t.Stop()
	}
}

// advanceTasks performs what is due and returns when the next task falls
// due (zero when none). The caller holds s.mu.
func (s *Server) advanceTasks(now time.Time) time.Time {
	st := s.st
	var next time.Time
	changed := false
	for _, t := range st.Operator {
		if t.Phase == "done" {
			continue
		}
		n := st.node(t.Node)
		if n == nil {
			t.Phase = "done"
			continue
		}
		if t.Phase == "stuck" && !has(st.Spec.Faults.NoPowerOn, n.Name) {
			t.Phase, t.Due = "power-on", now
		}
		if t.Phase == "stuck" {
			continue
		}
		if t.Due.After(now) {
			if next.IsZero() || t.Due.Before(next) {
				next = t.Due
			}
			continue
		}
		changed = true
		switch t.Phase {
		case "power-off":
			s.powerOff(st, n, "operator: BOOT disk swap")
			s.replaceDisk(st, n, t.Version)
			t.Phase, t.Due = "power-on", now.Add(st.Spec.OperatorDelay.D())
			if next.IsZero() || t.Due.Before(next) {
				next = t.Due
			}
		case "power-on":
			if has(st.Spec.Faults.NoPowerOn, n.Name) {
				t.Phase = "stuck"
				st.event(n.Name, "operator: powered the node on, but it does not come back (fault no_power_on)")
				continue
			}
			s.powerOn(st, n, "operator: BOOT disk swap done")
			t.Phase = "done"
		}
	}
	if changed {
		s.flushEvents()
		_ = s.saveLocked()
	}
	return next
}

// replaceDisk puts a new BOOT disk into a powered-off appliance.
func (s *Server) replaceDisk(st *state, n *node, version string) {
	old := n.Boot
	n.Boot = version
	for _, p := range []string{"rok-base", "rok-common", "rok-gateway"} {
		n.Packages[p] = version
	}
	st.event(n.Name, "BOOT disk replaced: rok-base %s -> %s", old, version)
}

// Operator performs a field operator's action at once (or, for a swap
// without Wait, schedules it with the operator's delays).
func (s *Server) Operator(req sim.OperatorRequest) error {
	return s.update(func(st *state) error {
		if req.Action == sim.ActionRepair {
			if st.Cluster.Error == "" {
				return fmt.Errorf("the cluster is not in an error state")
			}
			st.event("", "operator: cluster repaired (was: %s)", st.Cluster.Error)
			st.Cluster.Error = ""
			st.Cluster.ByFailover = false
			st.elect()
			return nil
		}
		n := st.node(req.Node)
		if n == nil {
			return fmt.Errorf("no node %q", req.Node)
		}
		if n.Kind != kindAppliance {
			return fmt.Errorf("%s is a Ganeti host; the operator swaps the BOOT disks of Rok appliances", n.Name)
		}
		if n.Instance != "" {
			return fmt.Errorf("%s is a RokE appliance (Ganeti instance %s): power it and re-image it through the RAPI (instance shutdown, startup, reinstall)", n.Name, n.Instance)
		}
		newDisk := func() (string, error) {
			if req.Version != "" {
				_, err := release.Series(req.Version)
				return req.Version, err
			}
			t := st.nextTarget(release.SeriesOf(n.Boot))
			if t == "" {
				return "", fmt.Errorf("%s runs rok-base %s, and no upgrade target of the cluster (%s) is of a newer series: name the BOOT disk's version",
					n.Name, n.Boot, strings.Join(st.Spec.Upgrades, ", "))
			}
			return release.BootVersion(t), nil
		}
		switch req.Action {
		case sim.ActionPowerOff:
			if !n.On {
				return fmt.Errorf("%s is already powered off", n.Name)
			}
			s.powerOff(st, n, "operator")
		case sim.ActionPowerOn:
			if n.On {
				return fmt.Errorf("%s is already powered on", n.Name)
			}
			if has(st.Spec.Faults.NoPowerOn, n.Name) {
				st.event(n.Name, "operator: powered the node on, but it does not come back (fault no_power_on)")
				return fmt.Errorf("%s does not come back after power-off (fault no_power_on)", n.Name)
			}
			s.powerOn(st, n, "operator")
		case sim.ActionReplaceDisk:
			if n.On {
				return fmt.Errorf("%s is powered on: power it off before replacing its BOOT disk", n.Name)
			}
			v, err := newDisk()
			if err != nil {
				return err
			}
			s.replaceDisk(st, n, v)
		case sim.ActionSwap:
			version, err := newDisk()
			if err != nil {
				return err
			}
			if !req.Wait {
				s.scheduleSwap(st, n, version, "operator request")
				return nil
			}
			s.powerOff(st, n, "operator: BOOT disk swap")
			s.replaceDisk(st, n, version)
			if has(st.Spec.Faults.NoPowerOn, n.Name) {
				t := s.scheduleSwap(st, n, version, "operator request")
				t.Phase = "stuck"
				st.event(n.Name, "operator: powered the node on, but it does not come back (fault no_power_on)")
				return nil
			}
			s.powerOn(st, n, "operator: BOOT disk swap done")
		default:
			return fmt.Errorf("unknown operator action %q (use %s, %s, %s, %s or %s)", req.Action,
				sim.ActionSwap, sim.ActionPowerOff, sim.ActionPowerOn, sim.ActionReplaceDisk, sim.ActionRepair)
		}
		return nil
	})
}

// SetFaults replaces the injected faults.
func (s *Server) SetFaults(f sim.Faults) error {
	return s.update(func(st *state) error {
		st.Spec.Faults = f
		st.event("", "faults set: %s", f.String())
		kick(s.kickOperator)
		kick(s.kickJobs)
		return nil
	})
}

// Faults returns the injected faults.
func (s *Server) Faults() sim.Faults {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.st.Spec.Faults
}
