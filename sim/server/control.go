package server

import (
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"strconv"
	"time"

	"github.com/rokflow/rokflow/sim"
)

// startControl serves the control API (package sim's Client is its
// client, and says what it holds).
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
	mux.HandleFunc("GET /jobs", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, s.Jobs())
	})
	mux.HandleFunc("GET /inflight", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, s.InFlight())
	})
	mux.HandleFunc("GET /faults", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, s.Faults())
	})
	mux.HandleFunc("PUT /faults", func(w http.ResponseWriter, r *http.Request) {
		var f sim.Faults
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
		var req sim.OperatorRequest
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
			if subtle.ConstantTimeCompare([]byte(r.Header.Get(sim.TokenHeader)), []byte(s.token)) != 1 {
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
