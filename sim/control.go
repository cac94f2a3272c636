package sim

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"time"
)

// The control API: HTTP on 127.0.0.1, every request carrying the token
// from DIR/sim.json in the X-Rokflow-Sim-Token header.
//
//	GET  /status     Status as JSON
//	GET  /jobs       the Ganeti jobs, []Job
//	GET  /inflight   the commands the nodes run, []Command
//	GET  /faults     Faults
//	PUT  /faults     replace the Faults
//	POST /operator   an OperatorRequest
//	POST /stop       stop the simulator

// TokenHeader carries the control token of DIR/sim.json.
const TokenHeader = "X-Rokflow-Sim-Token"

// RuntimeFile says where a running simulator's control API is.
const RuntimeFile = "sim.json"

// Runtime is what a running simulator writes to DIR/sim.json (mode 0600):
// its process and how to reach its control API.
type Runtime struct {
	PID     int       `json:"pid"`
	Control string    `json:"control"`
	Token   string    `json:"token"`
	Started time.Time `json:"started"`
}

// ReadRuntime reads DIR/sim.json, which exists while a simulator runs.
func ReadRuntime(dir string) (*Runtime, error) {
	data, err := os.ReadFile(filepath.Join(dir, RuntimeFile))
	if err != nil {
		return nil, err
	}
	var rt Runtime
	if err := json.Unmarshal(data, &rt); err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(dir, RuntimeFile), err)
	}
	return &rt, nil
}

// Client talks to a running simulator's control API.
type Client struct {
	rt   Runtime
	http *http.Client
}

// Dial returns a client for the simulator running in dir.
func Dial(dir string) (*Client, error) {
	rt, err := ReadRuntime(dir)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("no simulator is running in %s (no %s)", dir, RuntimeFile)
		}
		return nil, err
	}
	return &Client{rt: *rt, http: &http.Client{Timeout: 60 * time.Second}}, nil
}

// PID is the simulator process's id.
func (c *Client) PID() int { return c.rt.PID }

func (c *Client) do(ctx context.Context, method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		data, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(data)
	}
	req, err := http.NewRequestWithContext(ctx, method, "http://"+c.rt.Control+path, body)
	if err != nil {
		return err
	}
	req.Header.Set(TokenHeader, c.rt.Token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("the simulator's control API at %s: %w", c.rt.Control, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		var e struct{ Error string }
		if json.Unmarshal(data, &e) == nil && e.Error != "" {
			return errors.New(e.Error)
		}
		return fmt.Errorf("%s %s: HTTP %d", method, path, resp.StatusCode)
	}
	if out != nil {
		return json.Unmarshal(data, out)
	}
	return nil
}

// Status returns the simulator's status.
func (c *Client) Status(ctx context.Context) (*Status, error) {
	var st Status
	return &st, c.do(ctx, http.MethodGet, "/status", nil, &st)
}

// Faults returns the injected faults.
func (c *Client) Faults(ctx context.Context) (Faults, error) {
	var f Faults
	return f, c.do(ctx, http.MethodGet, "/faults", nil, &f)
}

// SetFaults replaces the injected faults.
func (c *Client) SetFaults(ctx context.Context, f Faults) error {
	return c.do(ctx, http.MethodPut, "/faults", f, nil)
}

// Operator asks the field operator to act.
func (c *Client) Operator(ctx context.Context, req OperatorRequest) error {
	return c.do(ctx, http.MethodPost, "/operator", req, nil)
}

// Stop asks the simulator to stop; it returns before it has stopped.
func (c *Client) Stop(ctx context.Context) error {
	return c.do(ctx, http.MethodPost, "/stop", nil, nil)
}

// Jobs returns every Ganeti job the simulator received, in id order.
func (c *Client) Jobs(ctx context.Context) ([]Job, error) {
	var jobs []Job
	return jobs, c.do(ctx, http.MethodGet, "/jobs", nil, &jobs)
}

// InFlight returns the commands the nodes are running, by process id.
func (c *Client) InFlight(ctx context.Context) ([]Command, error) {
	var cmds []Command
	return cmds, c.do(ctx, http.MethodGet, "/inflight", nil, &cmds)
}
