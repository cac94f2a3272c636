package main

import (
	udiff "github.com/aymanbagabas/go-udiff"

	"github.com/rokflow/rokflow/lang"
)

// lineDiff is a unified diff of a file's old and new text.
func lineDiff(name, before, after string) string {
	return udiff.Unified("a/"+name, "b/"+name, before, after)
}

func nearest(given string, names []string) string { return lang.Nearest(given, names) }
