package state

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strconv"
	"strings"
	"sync"
)

// fileID identifies a file (device and inode), whatever path reached it.
type fileID struct{ dev, ino uint64 }

// held maps a lock file to the session of this process that holds it, so
// that BreakLock can fence a holder in this process (the kernel cannot
// tell two opens of one process apart by pid).
var held struct {
	sync.Mutex
	sessions map[fileID]*fileSession
}

func registerHeld(id fileID, s *fileSession) {
	held.Lock()
	defer held.Unlock()
	if held.sessions == nil {
		held.sessions = map[fileID]*fileSession{}
	}
	held.sessions[id] = s
}

func unregisterHeld(id fileID, s *fileSession) {
	held.Lock()
	defer held.Unlock()
	if held.sessions[id] == s {
		delete(held.sessions, id)
	}
}

func heldSession(id fileID) *fileSession {
	held.Lock()
	defer held.Unlock()
	return held.sessions[id]
}

// lockPID returns the process that holds a flock on the file id, read from
// Linux's /proc/locks, or 0 when it is not known (no such file, no entry).
func lockPID(id fileID) int {
	f, err := os.Open("/proc/locks")
	if err != nil {
		return 0
	}
	defer f.Close()
	major := (id.dev>>8)&0xfff | (id.dev>>32)&^0xfff
	minor := id.dev&0xff | (id.dev>>12)&^0xff
	want := fmt.Sprintf("%02x:%02x:%d", major, minor, id.ino)
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		// "1: FLOCK  ADVISORY  WRITE 325 fe:00:9978434 0 EOF"; waiters
		// have "->" after the number.
		fields := strings.Fields(sc.Text())
		if len(fields) < 6 || fields[1] != "FLOCK" || fields[5] != want {
			continue
		}
		if pid, err := strconv.Atoi(fields[4]); err == nil && pid > 0 {
			return pid
		}
	}
	return 0
}

// readHolder reads holder.json, or returns nil when there is none.
func readHolder(path string) (*Holder, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var h Holder
	if err := json.Unmarshal(b, &h); err != nil {
		// Only for display: a damaged file names nobody.
		return nil, nil
	}
	return &h, nil
}

// writeHolder replaces holder.json. It is for display only, so it is not
// fsynced: after a crash the lock is free whatever the file says.
func writeHolder(path string, h Holder) error {
	b, err := json.MarshalIndent(h, "", "  ")
	if err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, append(b, '\n'), 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// syncDir makes the creation of the files in dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// endsWithNewline reports whether the file's content ends with a newline (or is
// empty), so that an appender can start a fresh line after a torn one.
func endsWithNewline(f *os.File) (bool, error) {
	st, err := f.Stat()
	if err != nil || st.Size() == 0 {
		return true, err
	}
	var b [1]byte
	if _, err := f.ReadAt(b[:], st.Size()-1); err != nil {
		return false, err
	}
	return b[0] == '\n', nil
}

// readAll reads a file that may not exist yet.
func readAll(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	return b, err
}

// holderFromLock builds what is known of a lock holder: holder.json when
// it is the process /proc/locks names, else that process alone.
func holderFromLock(holderPath string, pid int) Holder {
	h, _ := readHolder(holderPath)
	host, _ := os.Hostname()
	switch {
	case h != nil && (pid == 0 || h.PID == pid):
		return *h
	case pid != 0:
		return Holder{PID: pid, Host: host}
	}
	return Holder{}
}
