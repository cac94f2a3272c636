package main

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	goruntime "runtime"
	"strings"
	"time"

	"github.com/rokflow/rokflow/internal/debuglog"
)

// The environment variables of the debug log: ROKFLOW_LOG is the level
// (error, warn, info or debug; unset or off for none), ROKFLOW_LOG_PATH a
// file to append to instead of stderr.
const (
	logEnv     = "ROKFLOW_LOG"
	logPathEnv = "ROKFLOW_LOG_PATH"
)

// logLevels are the levels ROKFLOW_LOG takes.
var logLevels = map[string]slog.Level{
	"error": slog.LevelError,
	"warn":  slog.LevelWarn,
	"info":  slog.LevelInfo,
	"debug": slog.LevelDebug,
}

// openLog makes the debug log the environment asks for: nil when it asks
// for none. An unknown level logs at debug, after a warning, as someone
// who set the variable wants to see more rather than nothing. The closer
// closes the log file, if any.
func openLog(env Env) (*slog.Logger, io.Closer, error) {
	getenv := env.Getenv
	if getenv == nil {
		return nil, nil, nil
	}
	name := strings.ToLower(strings.TrimSpace(getenv(logEnv)))
	if name == "" || name == "off" {
		return nil, nil, nil
	}
	level, ok := logLevels[name]
	if name == "warning" {
		level, ok = slog.LevelWarn, true
	}
	if !ok {
		fmt.Fprintf(env.Stderr, "rokflow: warning: %s=%s is not a level (error, warn, info or debug); logging at debug\n", logEnv, getenv(logEnv))
		level = slog.LevelDebug
	}
	var w io.Writer = env.Stderr
	var closer io.Closer
	if path := getenv(logPathEnv); path != "" {
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
		if err != nil {
			return nil, nil, fmt.Errorf("cannot open the log file %s=%s: %s", logPathEnv, path, pathErrReason(err))
		}
		w, closer = f, f
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: level})), closer, nil
}

// startLog opens the debug log for the command (a kong command path, such
// as "plan <path>": its arguments' values are not logged, as they may be
// secrets), gives it to the engine through a.Ctx, and returns what logs
// the exit and closes the log.
func (a *App) startLog(command string) (func(code int), error) {
	log, closer, err := openLog(a.Env)
	if err != nil || log == nil {
		return func(int) {}, err
	}
	a.Ctx = debuglog.With(a.Ctx, log)
	start := time.Now()
	wd, _ := os.Getwd()
	log.Info("rokflow", "version", Version, "go", goruntime.Version(), "command", command, "dir", wd, "pid", os.Getpid())
	return func(code int) {
		log.Info("exit", "code", code, "elapsed", time.Since(start))
		if closer != nil {
			closer.Close()
		}
	}, nil
}
