package main

import (
	"os"
	"path/filepath"
	"strings"

	udiff "github.com/aymanbagabas/go-udiff"

	"github.com/rokflow/rokflow/lang"
)

// lineDiff is a unified diff of a file's old and new text, both headers
// naming the file as it is found from here (as gofmt -d does: a path, not
// git's a/ and b/, which name no file).
func lineDiff(name, before, after string) string {
	name = relPath(name)
	return udiff.Unified(name, name, before, after)
}

// relPath shows a path relative to the working directory when it is below
// it, as people typed it.
func relPath(p string) string {
	wd, err := os.Getwd()
	if err != nil {
		return p
	}
	if rel, err := filepath.Rel(wd, p); err == nil && !strings.HasPrefix(rel, "..") {
		return rel
	}
	return p
}

func nearest(given string, names []string) string { return lang.Nearest(given, names) }
