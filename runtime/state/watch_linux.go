//go:build linux

package state

import (
	"golang.org/x/sys/unix"
)

// watchDir tells of changes to the files of dir through inotify: a value
// on the channel for each batch of events. Where inotify cannot be had,
// the channel is nil and the caller's polling alone notices changes.
func watchDir(dir string) (<-chan struct{}, func()) {
	fd, err := unix.InotifyInit1(unix.IN_CLOEXEC | unix.IN_NONBLOCK)
	if err != nil {
		return nil, func() {}
	}
	if _, err := unix.InotifyAddWatch(fd, dir, unix.IN_MODIFY|unix.IN_CLOSE_WRITE|unix.IN_CREATE|unix.IN_MOVED_TO); err != nil {
		unix.Close(fd)
		return nil, func() {}
	}
	ch := make(chan struct{}, 1)
	done := make(chan struct{})
	go func() {
		defer unix.Close(fd)
		buf := make([]byte, 4096)
		fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
		for {
			select {
			case <-done:
				return
			default:
			}
			// A short poll, so that stop is seen without closing the
			// descriptor under a blocked read.
			n, err := unix.Poll(fds, 100)
			if err != nil && err != unix.EINTR {
				return
			}
			if n <= 0 {
				continue
			}
			for {
				if _, err := unix.Read(fd, buf); err != nil {
					break
				}
			}
			select {
			case ch <- struct{}{}:
			default:
			}
		}
	}()
	return ch, func() { close(done) }
}
