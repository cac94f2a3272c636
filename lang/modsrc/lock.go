package modsrc

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/hashicorp/hcl/v2/hclwrite"
	"github.com/zclconf/go-cty/cty"

	"github.com/rokflow/rokflow/internal/atomicfile"
)

// Lock is the lock file: for each git package (repository and ref) the
// playbook's modules come from, the commit its ref resolved to and the
// hash of the checkout's files.
type Lock struct {
	// Exists says whether the file was there to read.
	Exists  bool
	entries map[string]*LockEntry
}

// LockEntry pins one package.
type LockEntry struct {
	Package string // Source.Package(): git::REPO?ref=REF
	Commit  string // the full hash the ref resolved to
	Hash    string // HashTree of the checkout: "h1:" and base64
}

// Entry returns the entry for a package, or nil.
func (l *Lock) Entry(pkg string) *LockEntry {
	if l == nil {
		return nil
	}
	return l.entries[pkg]
}

// Entries returns the entries in package order.
func (l *Lock) Entries() []*LockEntry {
	if l == nil {
		return nil
	}
	out := make([]*LockEntry, 0, len(l.entries))
	for _, e := range l.entries {
		out = append(out, e)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Package < out[j].Package })
	return out
}

// Set adds or replaces an entry.
func (l *Lock) Set(e *LockEntry) {
	if l.entries == nil {
		l.entries = map[string]*LockEntry{}
	}
	l.entries[e.Package] = e
}

var lockSchema = &hcl.BodySchema{Blocks: []hcl.BlockHeaderSchema{{Type: "source", LabelNames: []string{"package"}}}}

var entrySchema = &hcl.BodySchema{Attributes: []hcl.AttributeSchema{
	{Name: "commit", Required: true},
	{Name: "hash", Required: true},
}}

// ReadLock reads the lock file at p. A missing file is an empty lock.
func ReadLock(p string) (*Lock, error) {
	src, err := os.ReadFile(p)
	if errors.Is(err, fs.ErrNotExist) {
		return &Lock{}, nil
	}
	if err != nil {
		return nil, err
	}
	name := filepath.Base(p)
	file, diags := hclsyntax.ParseConfig(src, name, hcl.InitialPos)
	if diags.HasErrors() {
		return nil, lockDiags(diags)
	}
	content, diags := file.Body.Content(lockSchema)
	if diags.HasErrors() {
		return nil, lockDiags(diags)
	}
	l := &Lock{Exists: true, entries: map[string]*LockEntry{}}
	for _, b := range content.Blocks {
		e, ds := decodeEntry(b)
		diags = append(diags, ds...)
		if e == nil {
			continue
		}
		if _, dup := l.entries[e.Package]; dup {
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "duplicate entry", Subject: b.LabelRanges[0].Ptr()})
			continue
		}
		l.entries[e.Package] = e
	}
	if diags.HasErrors() {
		return nil, lockDiags(diags)
	}
	return l, nil
}

func decodeEntry(b *hcl.Block) (*LockEntry, hcl.Diagnostics) {
	content, diags := b.Body.Content(entrySchema)
	if diags.HasErrors() {
		return nil, diags
	}
	e := &LockEntry{Package: b.Labels[0]}
	str := func(name string) string {
		attr := content.Attributes[name]
		v, ds := attr.Expr.Value(nil)
		diags = append(diags, ds...)
		if ds.HasErrors() || v.IsNull() || v.Type() != cty.String {
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: name + " must be a string", Subject: attr.Expr.Range().Ptr()})
			return ""
		}
		return v.AsString()
	}
	e.Commit, e.Hash = str("commit"), str("hash")
	if diags.HasErrors() {
		return nil, diags
	}
	src, err := Parse(e.Package)
	switch {
	case err != nil || src.Subdir != "" || src.Package() != e.Package:
		diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "not a git package (git::REPO?ref=REF)", Subject: b.LabelRanges[0].Ptr()})
	case !isFullHash(e.Commit):
		diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "commit must be a full hash", Subject: content.Attributes["commit"].Expr.Range().Ptr()})
	case src.IsCommit() && src.Ref != e.Commit:
		diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "commit differs from the commit the package names", Subject: content.Attributes["commit"].Expr.Range().Ptr()})
	case !strings.HasPrefix(e.Hash, "h1:"):
		diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: `hash must start with "h1:"`, Subject: content.Attributes["hash"].Expr.Range().Ptr()})
	}
	return e, diags
}

// lockDiags turns the lock file's diagnostics into one error: the file is
// rokflow's, and is mended by writing it again, not line by line.
func lockDiags(diags hcl.Diagnostics) error {
	var msgs []string
	for _, d := range diags {
		if d.Severity != hcl.DiagError {
			continue
		}
		m := d.Summary
		if d.Detail != "" {
			m += ": " + d.Detail
		}
		if d.Subject != nil {
			m = fmt.Sprintf("%s:%d: %s", d.Subject.Filename, d.Subject.Start.Line, m)
		}
		msgs = append(msgs, strings.TrimSuffix(m, "."))
	}
	return fmt.Errorf("%s", strings.Join(msgs, "; "))
}

const lockHeader = `# The commit and file hash of each git repository this playbook's modules
# come from, one block per repository and ref. Written by "rokflow modules
# get"; validate, plan and apply check the fetched modules against it.
# Keep it with the playbook under version control.
`

// Format renders the lock file: the header, then one block per entry in
// package order, so that the same lock is always the same bytes.
func (l *Lock) Format() []byte {
	f := hclwrite.NewEmptyFile()
	body := f.Body()
	for _, e := range l.Entries() {
		body.AppendNewline()
		b := body.AppendNewBlock("source", []string{e.Package}).Body()
		b.SetAttributeValue("commit", cty.StringVal(e.Commit))
		b.SetAttributeValue("hash", cty.StringVal(e.Hash))
	}
	return append([]byte(lockHeader), hclwrite.Format(f.Bytes())...)
}

// WriteLock writes l to p, atomically, unless p already holds the same
// bytes; it reports whether it wrote.
func WriteLock(p string, l *Lock) (bool, error) {
	out := l.Format()
	if old, err := os.ReadFile(p); err == nil && bytes.Equal(old, out) {
		return false, nil
	}
	return true, atomicfile.Write(p, out, 0o644)
}
