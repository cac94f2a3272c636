//go:build !linux

package state

// watchDir has no change notification here: the caller polls.
func watchDir(dir string) (<-chan struct{}, func()) { return nil, func() {} }
