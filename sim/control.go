package sim

import (
	"bytes"
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"time"
)

// The control API: HTTP on 127.0.0.1, every request carrying the token
// from DIR/sim.json in the X-Rokflow-Sim-Token header.
//
//	GET  /status     Status as JSON
//	GET  /faults     Faults
//	PUT  /faults     replace the Faults
//	POST /operator   an OperatorRequest
//	POST /stop       stop the simulator
const tokenHeader = "X-Rokflow-Sim-Token"

func (s *Server) startControl() error {
	l, err := listen(&s.st.Ports.Control, "control API")
	if err != nil {
		return err
	}
	s.token = randomToken(16)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /status", func(w http.ResponseWriter, r *http.Request) {
		st := s.Status()
		writeJSON(w, http.StatusOK, &st)
	})
	mux.HandleFunc("GET /faults", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, s.Faults())
	})
	mux.HandleFunc("PUT /faults", func(w http.ResponseWriter, r *http.Request) {
		var f Faults
		if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&f); err != nil {
			writeError(w, http.StatusBadRequest, fmt.Errorf("the body is not a Faults document: %w", err))
			return
		}
		if err := s.SetFaults(f); err != nil {
			writeError(w, http.StatusInternalServerError, err)
			return
		}
		writeJSON(w, http.StatusOK, s.Faults())
	})
	mux.HandleFunc("POST /operator", func(w http.ResponseWriter, r *http.Request) {
		var req OperatorRequest
		if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&req); err != nil {
			writeError(w, http.StatusBadRequest, fmt.Errorf("the body is not an operator request: %w", err))
			return
		}
		if err := s.Operator(req); err != nil {
			writeError(w, http.StatusConflict, err)
			return
		}
		writeJSON(w, http.StatusOK, map[string]string{"result": "ok"})
	})
	mux.HandleFunc("POST /stop", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]int{"pid": os.Getpid()})
		s.requestStop()
	})
	s.control = &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if subtle.ConstantTimeCompare([]byte(r.Header.Get(tokenHeader)), []byte(s.token)) != 1 {
				writeError(w, http.StatusUnauthorized, errors.New("missing or wrong control token (see sim.json)"))
				return
			}
			mux.ServeHTTP(w, r)
		}),
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          log.New(io.Discard, "", 0),
	}
	go func() { _ = s.control.Serve(l) }()
	return nil
}

func (s *Server) controlAddr() string {
	return net.JoinHostPort("127.0.0.1", strconv.Itoa(s.st.Ports.Control))
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, status int, err error) {
	writeJSON(w, status, map[string]string{"error": err.Error()})
}

// ReadRuntime reads DIR/sim.json, which exists while a simulator runs.
func ReadRuntime(dir string) (*Runtime, error) {
	data, err := os.ReadFile(filepath.Join(dir, runtimeFile))
	if err != nil {
		return nil, err
	}
	var rt Runtime
	if err := json.Unmarshal(data, &rt); err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(dir, runtimeFile), err)
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
			return nil, fmt.Errorf("no simulator is running in %s (no %s)", dir, runtimeFile)
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
	req.Header.Set(tokenHeader, c.rt.Token)
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
