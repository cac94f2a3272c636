//go:build !linux

package main

// flushTerminalInput would discard what the terminal holds unread; lines
// the reader has read before the question are still dropped.
func flushTerminalInput(int) {}
