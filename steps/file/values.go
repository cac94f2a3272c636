package file

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"strings"

	udiff "github.com/aymanbagabas/go-udiff"
	"github.com/zclconf/go-cty/cty"

	"github.com/rokflow/rokflow/lang/marks"
	"github.com/rokflow/rokflow/steps"
)

// BackupSuffix is appended to a file's path to name its backup.
const BackupSuffix = ".rokflow-bak"

// rawValue returns v without any marks, however deep.
func rawValue(v cty.Value) cty.Value {
	raw, _ := v.UnmarkDeep()
	return raw
}

// diff returns the unified diff from old to new for path; with masked, the
// contents are shown as "(sensitive)". A nil old means the file is new.
func diff(path string, old, new []byte, masked bool) string {
	from := "a/" + strings.TrimPrefix(path, "/")
	to := "b/" + strings.TrimPrefix(path, "/")
	if old == nil {
		from = "/dev/null"
	}
	if !masked {
		return udiff.Unified(from, to, string(old), string(new))
	}
	if old == nil {
		return fmt.Sprintf("--- %s\n+++ %s\n@@ -0,0 +1 @@\n+%s\n", from, to, marks.Masked)
	}
	return fmt.Sprintf("--- %s\n+++ %s\n@@ -1 +1 @@\n-%s\n+%s\n", from, to, marks.Masked, marks.Masked)
}

// backup keeps the original contents of path in path.rokflow-bak unless a
// backup is already there: the first backup is the one worth keeping.
func backup(ctx context.Context, host steps.Host, path string, original []byte, mode fs.FileMode) error {
	bak := path + BackupSuffix
	_, _, err := host.ReadFile(ctx, bak)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, fs.ErrNotExist):
		return host.WriteFile(ctx, bak, original, mode)
	default:
		return err
	}
}

// isBinary reports whether data looks like a binary file, as git decides:
// a NUL byte in its first 8000 bytes.
func isBinary(data []byte) bool {
	if len(data) > 8000 {
		data = data[:8000]
	}
	for _, b := range data {
		if b == 0 {
			return true
		}
	}
	return false
}
