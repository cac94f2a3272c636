package file

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"strconv"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"

	"github.com/rokflow/rokflow/lang/marks"
	"github.com/rokflow/rokflow/lang/schema"
	"github.com/rokflow/rokflow/steps"
)

// Write is the `file.write` kind: it sets a file's whole contents, and
// optionally its mode, atomically.
type Write struct{}

var _ steps.Kind = (*Write)(nil)

// NewWrite returns the file.write kind.
func NewWrite() *Write { return &Write{} }

// defaultMode is the mode of a file file.write creates without a mode.
const defaultMode fs.FileMode = 0o644

var writeSchema = &steps.Schema{
	Name:    "file.write",
	Summary: "Write a file's whole contents atomically, with a backup.",
	Description: "Makes the file at `path` hold exactly `content`. The file is replaced atomically, keeping " +
		"its owner, and its mode unless `mode` is given; a new file gets `mode` or 0644. When an existing file " +
		"changes, its original is first kept in PATH" + BackupSuffix + " unless a backup is already there. " +
		"Running it again changes nothing. With a host to read from, the plan shows a unified diff; " +
		"sensitive content is shown as (sensitive), and so is the file's old content then.",
	Effect: steps.Idempotent,
	Target: steps.TargetHost,
	Args: &schema.Block{Attributes: map[string]*schema.Attribute{
		"path": {
			Type:        cty.String,
			Required:    true,
			Description: "The file to write; its directory must exist.",
		},
		"content": {
			Type:        cty.String,
			Required:    true,
			Description: "The file's new contents, exactly (add the final newline yourself).",
		},
		"mode": {
			Type:        cty.String,
			Description: `Permissions in octal, such as "0644" or "0600"; kept as they are when omitted (0644 for a new file).`,
		},
		"backup": {
			Type:        cty.Bool,
			Default:     cty.True,
			Description: "Keep the original of a changed file in PATH" + BackupSuffix + " (written once, before the first change).",
		},
	}},
	Outputs: map[string]*schema.Attribute{
		"changed": {Type: cty.Bool, Description: "Whether this run changed the file's contents or mode."},
	},
}

// Schema describes the file.write kind.
func (*Write) Schema() *steps.Schema { return writeSchema }

// Plan describes the write; with a host it reads the file and shows a diff.
func (*Write) Plan(ctx context.Context, req steps.PlanRequest) steps.PlanResponse {
	w, diags := newWrite(req.Args)
	what := "write " + steps.Display(req.Args.GetAttr("path"))
	if m := req.Args.GetAttr("mode"); !m.IsNull() {
		what += " with mode " + steps.Display(m)
	}
	if req.Host == nil || w == nil {
		return steps.PlanResponse{Summary: what, Diagnostics: diags}
	}
	st, err := w.state(ctx, req.Host)
	if err != nil {
		return steps.PlanResponse{Summary: what, Diagnostics: append(diags, readDiag(w.shown, req.Host, err))}
	}
	resp := steps.PlanResponse{Summary: what, Diagnostics: diags}
	switch {
	case st.old == nil:
		resp.Summary = fmt.Sprintf("create %s with mode %s", w.shown, octal(w.newMode(st)))
	case !st.contentChanges && !st.modeChanges:
		resp.Summary = "no change: " + w.shown + " is up to date"
	case st.modeChanges && !st.contentChanges:
		resp.Summary = fmt.Sprintf("change mode of %s from %s to %s", w.shown, octal(st.oldMode), octal(*w.mode))
	case st.modeChanges:
		resp.Summary = fmt.Sprintf("write %s and change its mode from %s to %s", w.shown, octal(st.oldMode), octal(*w.mode))
	}
	if st.old == nil || st.contentChanges {
		resp.Diff = diff(w.shown, st.old, w.content, w.masked)
	}
	return resp
}

// Run writes the file when its contents or mode differ.
func (*Write) Run(ctx context.Context, req steps.RunRequest) steps.RunResponse {
	w, diags := newWrite(req.Args)
	if diags.HasErrors() {
		return steps.RunResponse{Diagnostics: diags}
	}
	if req.Host == nil {
		return steps.RunResponse{Diagnostics: hcl.Diagnostics{steps.Error("No host to write the file on",
			"file.write writes a file on a host, but none was given; set `on` to a host the playbook declares.")}}
	}
	out := func(changed bool) cty.Value {
		return cty.ObjectVal(map[string]cty.Value{"changed": cty.BoolVal(changed)})
	}
	st, err := w.state(ctx, req.Host)
	if err != nil {
		return steps.RunResponse{Diagnostics: hcl.Diagnostics{readDiag(w.shown, req.Host, err)}}
	}
	if st.old != nil && !st.contentChanges && !st.modeChanges {
		return steps.RunResponse{Outputs: out(false)}
	}
	if st.old == nil || st.contentChanges {
		if st.old != nil && w.backup {
			if err := backup(ctx, req.Host, w.path, st.old, st.oldMode); err != nil {
				return steps.RunResponse{Diagnostics: hcl.Diagnostics{steps.Error("Cannot back up file",
					fmt.Sprintf("Writing the backup %s failed: %s. Make its directory writable, or set backup = false.", w.shown+BackupSuffix, err))}}
			}
		}
		if err := req.Host.WriteFile(ctx, w.path, w.content, w.newMode(st)); err != nil {
			return steps.RunResponse{Diagnostics: hcl.Diagnostics{steps.Error("Cannot write file",
				fmt.Sprintf("Writing %s on %s failed: %s. Check that its directory exists and is writable.", w.shown, req.Host.Name(), err))}}
		}
	}
	// WriteFile keeps an existing file's mode, so a new mode is set apart.
	if st.old != nil && st.modeChanges {
		res, err := req.Host.Exec(ctx, steps.Command{Argv: []string{"chmod", octal(*w.mode), "--", w.path}})
		if err == nil && res.ExitStatus != 0 {
			err = fmt.Errorf("chmod exited with status %d: %s", res.ExitStatus, strings.TrimSpace(string(res.Stderr)))
		}
		if err != nil {
			return steps.RunResponse{Outputs: out(st.contentChanges), Diagnostics: hcl.Diagnostics{steps.Error("Cannot change file mode",
				fmt.Sprintf("Setting the mode of %s to %s failed: %s. Check the file's owner, or leave mode out.", w.shown, octal(*w.mode), err))}}
		}
	}
	return steps.RunResponse{Outputs: out(true)}
}

// write is a validated file.write.
type write struct {
	path    string
	shown   string // path as it may be shown
	content []byte
	mode    *fs.FileMode
	backup  bool
	masked  bool
}

// fileState is what a write would change.
type fileState struct {
	old                         []byte // nil when the file does not exist
	oldMode                     fs.FileMode
	contentChanges, modeChanges bool
}

func (w *write) state(ctx context.Context, host steps.Host) (fileState, error) {
	old, mode, err := host.ReadFile(ctx, w.path)
	if errors.Is(err, fs.ErrNotExist) {
		return fileState{}, nil
	}
	if err != nil {
		return fileState{}, err
	}
	if old == nil {
		old = []byte{}
	}
	return fileState{
		old:            old,
		oldMode:        mode,
		contentChanges: !bytes.Equal(old, w.content),
		modeChanges:    w.mode != nil && *w.mode != mode,
	}, nil
}

func (w *write) newMode(st fileState) fs.FileMode {
	switch {
	case w.mode != nil:
		return *w.mode
	case st.old != nil:
		return st.oldMode
	}
	return defaultMode
}

// newWrite validates the arguments; it returns nil while any is unknown or
// invalid.
func newWrite(args cty.Value) (*write, hcl.Diagnostics) {
	var diags hcl.Diagnostics
	w := &write{}
	pv, cv, mv := args.GetAttr("path"), args.GetAttr("content"), args.GetAttr("mode")
	if p, ok := steps.KnownValue(pv); ok {
		w.path = p.AsString()
		if w.path == "" {
			diags = append(diags, steps.Error("Empty path", "path must name the file to write."))
		}
	} else if pv.IsKnown() {
		diags = append(diags, steps.Error("Null path", "path must name the file to write."))
	}
	if c, ok := steps.KnownValue(cv); ok {
		w.content = []byte(c.AsString())
	} else if cv.IsKnown() {
		diags = append(diags, steps.Error("Null content", `content must be a string; use "" for an empty file.`))
	}
	if m, ok := steps.KnownValue(mv); ok {
		mode, err := parseMode(m.AsString())
		if err != nil {
			diags = append(diags, steps.Error("Invalid file mode",
				fmt.Sprintf("%s is not a file mode: %s. Write it in octal, such as \"0644\".", steps.Quoted(mv), err)))
		}
		w.mode = &mode
	}
	b, bok := steps.KnownValue(args.GetAttr("backup"))
	if diags.HasErrors() || !pv.IsKnown() || !cv.IsKnown() || !mv.IsKnown() || !bok {
		return nil, diags
	}
	w.backup = b.True()
	w.shown = steps.Display(pv)
	w.masked = cv.HasMark(marks.Sensitive)
	return w, diags
}

// parseMode parses an octal mode such as "0644", "644", "0o4755".
func parseMode(s string) (fs.FileMode, error) {
	n, err := strconv.ParseUint(strings.TrimPrefix(strings.TrimPrefix(s, "0o"), "0O"), 8, 32)
	if err != nil || n > 0o7777 {
		return 0, errors.New("want 3 or 4 octal digits, at most 7777")
	}
	m := fs.FileMode(n & 0o777)
	if n&0o4000 != 0 {
		m |= fs.ModeSetuid
	}
	if n&0o2000 != 0 {
		m |= fs.ModeSetgid
	}
	if n&0o1000 != 0 {
		m |= fs.ModeSticky
	}
	return m, nil
}

// octal renders m as chmod takes it.
func octal(m fs.FileMode) string {
	n := uint32(m.Perm())
	if m&fs.ModeSetuid != 0 {
		n |= 0o4000
	}
	if m&fs.ModeSetgid != 0 {
		n |= 0o2000
	}
	if m&fs.ModeSticky != 0 {
		n |= 0o1000
	}
	return fmt.Sprintf("%04o", n)
}

func readDiag(path string, host steps.Host, err error) *hcl.Diagnostic {
	return steps.Error("Cannot read file",
		fmt.Sprintf("Reading %s on %s failed: %s. Check that it is a readable regular file.", path, host.Name(), err))
}
