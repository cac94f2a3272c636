package state

import (
	"bytes"
	"errors"
	"fmt"
	"hash/crc32"
	"strconv"
)

// A file journal line is "<crc> <json>\n": crc is the CRC-32C
// (Castagnoli) of json as 8 lower-case hex digits. A line is written by
// one write(2) and acknowledged only after an fsync, so a crash can leave
// a damaged end of file (a torn tail) but never a damaged line with good
// ones after it, unless something other than rokflow damaged the file.

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

const crcLen = 8

// appendLine appends the line for one encoded record to dst.
func appendLine(dst, rec []byte) []byte {
	dst = fmt.Appendf(dst, "%08x ", crc32.Checksum(rec, castagnoli))
	dst = append(dst, rec...)
	return append(dst, '\n')
}

// errDamaged marks a line that fails its checksum or its format: a torn
// tail if nothing good follows it.
var errDamaged = errors.New("damaged")

// parseLine checks a line (without its newline) and returns its JSON.
func parseLine(line []byte) ([]byte, error) {
	if len(line) < crcLen+2 || line[crcLen] != ' ' {
		return nil, fmt.Errorf("%w: not a \"<crc> <record>\" line", errDamaged)
	}
	want, err := strconv.ParseUint(string(line[:crcLen]), 16, 32)
	if err != nil {
		return nil, fmt.Errorf("%w: bad checksum field %q", errDamaged, line[:crcLen])
	}
	body := line[crcLen+1:]
	if got := crc32.Checksum(body, castagnoli); got != uint32(want) {
		return nil, fmt.Errorf("%w: checksum %08x does not match the record's %08x", errDamaged, want, got)
	}
	return body, nil
}

// scanJournal reads a journal file's content. It returns the records and
// the length of the good prefix: a torn tail (damaged lines, and a last
// line with no newline, with no good line after them) is left out, for
// Lock to truncate. A damaged line with a good one after it, a good line
// whose record is not valid, or a break in the sequence is a
// *CorruptError naming the line; a record of a newer schema is a
// *SchemaError.
func scanJournal(path string, data []byte) (recs []Record, good int64, err error) {
	var (
		tornAt   = -1 // offset of the first damaged line
		tornLine int
		tornWhy  error
	)
	off, line := 0, 0
	for off < len(data) {
		line++
		n := bytes.IndexByte(data[off:], '\n')
		if n < 0 {
			// A last line with no newline was never acknowledged (the
			// newline is part of the same write), whatever it holds.
			if tornAt < 0 {
				tornAt = off
			}
			break
		}
		body, perr := parseLine(data[off : off+n])
		switch {
		case perr != nil:
			if tornAt < 0 {
				tornAt, tornLine, tornWhy = off, line, perr
			}
		case tornAt >= 0:
			return nil, 0, &CorruptError{Where: path, Line: tornLine,
				Reason: tornWhy.Error() + ", and good records follow it (line " + strconv.Itoa(line) + "), so it is not a torn tail"}
		default:
			r, derr := decode(body)
			if derr != nil {
				var se *SchemaError
				if errors.As(derr, &se) {
					return nil, 0, derr
				}
				return nil, 0, &CorruptError{Where: path, Line: line, Reason: derr.Error()}
			}
			if want := uint64(len(recs)) + 1; r.Seq != want {
				return nil, 0, &CorruptError{Where: path, Line: line, Reason: fmt.Sprintf("record has seq %d, want %d", r.Seq, want)}
			}
			recs = append(recs, r)
		}
		off += n + 1
	}
	if tornAt < 0 {
		return recs, int64(len(data)), nil
	}
	return recs, int64(tornAt), nil
}

// scanApprovals reads the approvals file. Approvals are written without a
// lock by any number of processes, so a damaged line may sit between good
// ones (a writer died mid-line); it is skipped: a lost approval only keeps
// a run waiting at its gate, and it can be given again.
func scanApprovals(path string, data []byte) ([]Record, error) {
	var out []Record
	line := 0
	for len(data) > 0 {
		line++
		var raw []byte
		raw, data, _ = bytes.Cut(data, []byte{'\n'})
		body, err := parseLine(raw)
		if err != nil {
			continue
		}
		r, err := decode(body)
		if err != nil {
			var se *SchemaError
			if errors.As(err, &se) {
				return nil, err
			}
			return nil, &CorruptError{Where: path, Line: line, Reason: err.Error()}
		}
		r.Seq = 0
		out = append(out, r)
	}
	return out, nil
}
