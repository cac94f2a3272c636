package rok

import (
	"fmt"
	"strings"
)

// unifiedDiff returns a unified diff (3 lines of context) turning old into
// new, labelled with path, or "" when they are equal. Lines are compared
// whole, line endings included, so a CRLF change shows.
func unifiedDiff(path, old, new string) string {
	if old == new {
		return ""
	}
	a, b := diffLines(old), diffLines(new)
	ops := lcsOps(a, b)
	const context = 3

	var out strings.Builder
	fmt.Fprintf(&out, "--- %s\n+++ %s\n", path, path)
	// Walk the edit script and cut it into hunks around the changes.
	i := 0
	for i < len(ops) {
		if ops[i].kind == ' ' {
			i++
			continue
		}
		start := max(i-context, 0)
		end := i
		for end < len(ops) {
			if ops[end].kind != ' ' {
				end++
				continue
			}
			run := end
			for run < len(ops) && ops[run].kind == ' ' {
				run++
			}
			if run == len(ops) || run-end > 2*context {
				end = min(end+context, len(ops))
				break
			}
			end = run
		}
		writeHunk(&out, ops[start:end])
		i = end
	}
	return out.String()
}

type diffOp struct {
	kind       byte // ' ', '-', '+'
	text       string
	aLine, bLn int // 1-based line in a (for ' ' and '-') and in b (for ' ' and '+')
}

func writeHunk(out *strings.Builder, ops []diffOp) {
	aStart, bStart, aCount, bCount := 0, 0, 0, 0
	for _, op := range ops {
		if op.kind != '+' {
			if aCount == 0 {
				aStart = op.aLine
			}
			aCount++
		}
		if op.kind != '-' {
			if bCount == 0 {
				bStart = op.bLn
			}
			bCount++
		}
	}
	if aCount == 0 {
		aStart = ops[0].aLine - 1
	}
	if bCount == 0 {
		bStart = ops[0].bLn - 1
	}
	fmt.Fprintf(out, "@@ -%s +%s @@\n", hunkRange(aStart, aCount), hunkRange(bStart, bCount))
	for _, op := range ops {
		text := op.text
		noEOL := !strings.HasSuffix(text, "\n")
		out.WriteByte(op.kind)
		out.WriteString(strings.TrimSuffix(text, "\n"))
		out.WriteByte('\n')
		if noEOL {
			out.WriteString("\\ No newline at end of file\n")
		}
	}
}

func hunkRange(start, count int) string {
	if count == 1 {
		return fmt.Sprint(start)
	}
	return fmt.Sprintf("%d,%d", start, count)
}

func diffLines(s string) []string {
	if s == "" {
		return nil
	}
	lines := strings.SplitAfter(s, "\n")
	if lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	return lines
}

// lcsOps returns an edit script from a longest common subsequence. Common
// prefix and suffix are stripped first, so the quadratic table only covers
// the changed middle, which is small for configuration rewrites.
func lcsOps(a, b []string) []diffOp {
	pre := 0
	for pre < len(a) && pre < len(b) && a[pre] == b[pre] {
		pre++
	}
	suf := 0
	for suf < len(a)-pre && suf < len(b)-pre && a[len(a)-1-suf] == b[len(b)-1-suf] {
		suf++
	}
	am, bm := a[pre:len(a)-suf], b[pre:len(b)-suf]
	n, m := len(am), len(bm)
	// l[i][j] is the LCS length of am[i:] and bm[j:].
	l := make([][]int, n+1)
	for i := range l {
		l[i] = make([]int, m+1)
	}
	for i := n - 1; i >= 0; i-- {
		for j := m - 1; j >= 0; j-- {
			if am[i] == bm[j] {
				l[i][j] = l[i+1][j+1] + 1
			} else {
				l[i][j] = max(l[i+1][j], l[i][j+1])
			}
		}
	}
	var ops []diffOp
	ai, bi := 1, 1
	same := func(t string) {
		ops = append(ops, diffOp{kind: ' ', text: t, aLine: ai, bLn: bi})
		ai++
		bi++
	}
	for k := 0; k < pre; k++ {
		same(a[k])
	}
	i, j := 0, 0
	for i < n || j < m {
		switch {
		case i < n && j < m && am[i] == bm[j]:
			same(am[i])
			i++
			j++
		case i < n && (j == m || l[i+1][j] >= l[i][j+1]):
			ops = append(ops, diffOp{kind: '-', text: am[i], aLine: ai, bLn: bi})
			ai++
			i++
		default:
			ops = append(ops, diffOp{kind: '+', text: bm[j], aLine: ai, bLn: bi})
			bi++
			j++
		}
	}
	for k := len(a) - suf; k < len(a); k++ {
		same(a[k])
	}
	return ops
}
