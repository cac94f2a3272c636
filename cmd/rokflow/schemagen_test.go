package main

// The JSON Schemas of docs/schemas are generated from the Go types that
// encode each document (TestSchemasUpToDate writes them with -update):
// a struct's json tags give its properties (omitempty ones optional, the
// others required, no others allowed), the doc comments of its fields
// their descriptions, and the typed string constants of a named string
// type its enum. What the types cannot say (which fields an event of one
// type always has) is added here, beside the generator.

import (
	"encoding/json"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/rokflow/rokflow/cmd/rokflow/views"
	"github.com/rokflow/rokflow/internal/jsondoc"
)

// modulePath is this repository's module path; a package's directory is
// found from its import path.
const modulePath = "github.com/rokflow/rokflow"

// schemaBase is where the schemas are published, for their $id.
const schemaBase = "https://rokflow.dev/schemas/"

// goSource is what the Go source of the packages a schema reaches says
// of their types: field comments and typed constants.
type goSource struct {
	tb       testing.TB
	parsed   map[string]bool
	comments map[string]string   // "pkgpath.Type.Field" → doc comment
	typeDocs map[string]string   // "pkgpath.Type" → doc comment
	consts   map[string][]string // "pkgpath.Type" → string constants
}

func newGoSource(tb testing.TB) *goSource {
	return &goSource{tb: tb, parsed: map[string]bool{}, comments: map[string]string{}, typeDocs: map[string]string{}, consts: map[string][]string{}}
}

// load parses the package at import path pkg once.
func (g *goSource) load(pkg string) {
	if g.parsed[pkg] || !strings.HasPrefix(pkg, modulePath) {
		return
	}
	g.parsed[pkg] = true
	dir := filepath.Join("..", "..", strings.TrimPrefix(strings.TrimPrefix(pkg, modulePath), "/"))
	if pkg == "main" {
		dir = "."
	}
	fset := token.NewFileSet()
	pkgs, err := parser.ParseDir(fset, dir, func(fi fs.FileInfo) bool { return !strings.HasSuffix(fi.Name(), "_test.go") }, parser.ParseComments)
	if err != nil {
		g.tb.Fatalf("parsing %s: %v", dir, err)
	}
	for _, p := range pkgs {
		for _, f := range p.Files {
			for _, decl := range f.Decls {
				gd, ok := decl.(*ast.GenDecl)
				if !ok {
					continue
				}
				for _, spec := range gd.Specs {
					switch s := spec.(type) {
					case *ast.TypeSpec:
						doc := s.Doc
						if doc == nil && len(gd.Specs) == 1 {
							doc = gd.Doc
						}
						g.typeDocs[pkg+"."+s.Name.Name] = docText(doc)
						st, ok := s.Type.(*ast.StructType)
						if !ok {
							continue
						}
						for _, fld := range st.Fields.List {
							text := docText(fld.Doc)
							if text == "" {
								text = docText(fld.Comment)
							}
							for _, n := range fld.Names {
								g.comments[pkg+"."+s.Name.Name+"."+n.Name] = text
							}
						}
					case *ast.ValueSpec:
						id, ok := s.Type.(*ast.Ident)
						if gd.Tok != token.CONST || !ok {
							continue
						}
						for _, v := range s.Values {
							if lit, ok := v.(*ast.BasicLit); ok && lit.Kind == token.STRING {
								if text, err := strconv.Unquote(lit.Value); err == nil {
									g.consts[pkg+"."+id.Name] = append(g.consts[pkg+"."+id.Name], text)
								}
							}
						}
					}
				}
			}
		}
	}
}

func docText(c *ast.CommentGroup) string {
	if c == nil {
		return ""
	}
	return strings.Join(strings.Fields(c.Text()), " ")
}

// pkgOf is the import path the source of t is found under.
func pkgOf(t reflect.Type) string { return t.PkgPath() }

// schemaGen builds one document's schema.
type schemaGen struct {
	src  *goSource
	doc  jsondoc.Doc
	defs map[string]any
	name map[reflect.Type]string
}

// object is a JSON Schema object; encoding/json writes its keys sorted,
// so generated files are stable.
type object = map[string]any

// generateSchema returns the schema of documents of kind doc encoded from
// values of root's type.
func generateSchema(src *goSource, doc jsondoc.Doc, root reflect.Type, title string) object {
	g := &schemaGen{src: src, doc: doc, defs: map[string]any{}, name: map[reflect.Type]string{}}
	s := g.structSchema(root)
	s["$schema"] = "https://json-schema.org/draft/2020-12/schema"
	s["$id"] = schemaBase + doc.Schema
	s["title"] = title
	s["description"] = fmt.Sprintf("The %s, format %s (%s). Generated from the Go types; do not edit.", doc.Name, doc.Version, doc.Reference)
	if len(g.defs) > 0 {
		s["$defs"] = g.defs
	}
	return s
}

func (g *schemaGen) schema(t reflect.Type) object {
	switch t {
	case reflect.TypeOf(time.Time{}):
		return object{"type": "string", "format": "date-time"}
	case reflect.TypeOf(time.Duration(0)):
		return object{"type": "integer", "description": "nanoseconds"}
	case reflect.TypeOf(json.RawMessage{}):
		return object{}
	case reflect.TypeOf(jsondoc.Header{}):
		return g.header()
	}
	if t.Implements(reflect.TypeOf((*json.Marshaler)(nil)).Elem()) {
		// The only marshalers in documents write durations as text.
		return object{"type": "string", "description": "a duration such as 1m30s"}
	}
	switch t.Kind() {
	case reflect.Pointer:
		return g.schema(t.Elem())
	case reflect.String:
		s := object{"type": "string"}
		g.src.load(pkgOf(t))
		if values := g.src.consts[pkgOf(t)+"."+t.Name()]; t.Name() != "" && len(values) > 0 {
			sorted := append([]string(nil), values...)
			sort.Strings(sorted)
			s["enum"] = sorted
		}
		return s
	case reflect.Bool:
		return object{"type": "boolean"}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64, reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return object{"type": "integer"}
	case reflect.Float32, reflect.Float64:
		return object{"type": "number"}
	case reflect.Slice, reflect.Array:
		return object{"type": "array", "items": g.schema(t.Elem())}
	case reflect.Map:
		return object{"type": "object", "additionalProperties": g.schema(t.Elem())}
	case reflect.Interface:
		return object{}
	case reflect.Struct:
		return g.ref(t)
	}
	g.src.tb.Fatalf("the schema generator has no rule for %s", t)
	return nil
}

// header is the schema of format_version: any minor of this major.
func (g *schemaGen) header() object {
	return object{
		"type":        "string",
		"pattern":     fmt.Sprintf(`^%d\.(0|[1-9][0-9]*)$`, g.doc.Version.Major),
		"description": fmt.Sprintf("MAJOR.MINOR; this schema is of %s, and a later %d.x adds fields", g.doc.Version, g.doc.Version.Major),
	}
}

// ref puts a named struct in $defs and refers to it.
func (g *schemaGen) ref(t reflect.Type) object {
	name, ok := g.name[t]
	if !ok {
		name = defName(t)
		for taken := true; taken; {
			taken = false
			for other, n := range g.name {
				if n == name && other != t {
					name = filepath.Base(t.PkgPath()) + "_" + name
					taken = true
				}
			}
		}
		g.name[t] = name
		g.defs[name] = nil // taken before recursing: blocks nest blocks
		g.defs[name] = g.structSchema(t)
	}
	return object{"$ref": "#/$defs/" + name}
}

// defName names a struct's definition: blockJSON → block, jsonCase → case.
func defName(t reflect.Type) string {
	n := strings.TrimPrefix(strings.TrimSuffix(t.Name(), "JSON"), "json")
	if n == "" {
		n = t.Name()
	}
	r := []rune(n)
	r[0] = unicode.ToLower(r[0])
	return string(r)
}

// structSchema is a struct's object schema, embedded structs flattened as
// encoding/json does.
func (g *schemaGen) structSchema(t reflect.Type) object {
	props := object{}
	var required []string
	g.fields(t, props, &required)
	s := object{"type": "object", "properties": props, "additionalProperties": false}
	if len(required) > 0 {
		s["required"] = required
	}
	g.src.load(pkgOf(t))
	if d := g.src.typeDocs[pkgOf(t)+"."+t.Name()]; d != "" {
		s["description"] = d
	}
	return s
}

func (g *schemaGen) fields(t reflect.Type, props object, required *[]string) {
	g.src.load(pkgOf(t))
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		ft := f.Type
		if f.Anonymous && name == "" && ft != reflect.TypeOf(jsondoc.Header{}) {
			if ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct {
				g.fields(ft, props, required)
				continue
			}
		}
		if !f.IsExported() {
			continue
		}
		if f.Anonymous && ft == reflect.TypeOf(jsondoc.Header{}) {
			props["format_version"] = g.header()
			*required = append(*required, "format_version")
			continue
		}
		if name == "" {
			name = f.Name
		}
		s := g.schema(ft)
		if name == "format_version" {
			s = g.header()
		}
		if d := g.src.comments[pkgOf(t)+"."+t.Name()+"."+f.Name]; d != "" {
			if _, isRef := s["$ref"]; isRef {
				s = object{"$ref": s["$ref"], "description": d}
			} else {
				s["description"] = d
			}
		}
		props[name] = s
		if !strings.Contains(opts, "omitempty") && !strings.Contains(opts, "omitzero") {
			*required = append(*required, name)
		}
	}
}

// eventRules says which fields an event of each type always has, and the
// statuses it may carry: what the one Event struct cannot say.
var eventRules = map[string]object{
	"run_start":       {"required": []string{"run"}},
	"release":         {"required": []string{"run", "status", "summary"}, "properties": object{"status": object{"enum": []string{"nothing_to_do", "refused", "upgrade"}}}},
	"batch_start":     {"required": []string{"run", "group", "batch"}},
	"step_start":      {"required": []string{"run", "address", "kind", "attempt"}},
	"step_output":     {"required": []string{"run", "address", "stream", "line"}, "properties": object{"stream": object{"enum": []string{"stderr", "stdout"}}}},
	"output_withheld": {"required": []string{"run", "address", "lines", "summary"}},
	"step_end":        {"required": []string{"run", "address", "kind", "status"}, "properties": object{"status": object{"enum": []string{"cancelled", "failed", "retrying", "skipped", "succeeded"}}}},
	"gate_wait":       {"required": []string{"run", "address", "summary", "needed"}},
	"gate_approval":   {"required": []string{"run", "address", "by", "how", "approvals", "needed"}, "properties": object{"how": object{"enum": []string{"approve", "approve-flag", "auto-approve", "check", "prompt"}}}},
	"gate_end":        {"required": []string{"run", "address", "status", "summary"}, "properties": object{"status": object{"enum": []string{"approved", "declined", "interrupted", "timed_out"}}}},
	"group_stop":      {"required": []string{"run", "group", "summary"}},
	"undo_start":      {"required": []string{"run", "address"}},
	"undo_held":       {"required": []string{"run", "address", "summary"}},
	"undo_unmet":      {"required": []string{"run", "address", "error"}},
	"in_doubt":        {"required": []string{"run", "address"}},
	"stopping":        {"required": []string{"summary"}},
	"run_end":         {"required": []string{"run", "status", "counts"}, "properties": object{"status": object{"enum": []string{"failed", "paused", "stopped", "succeeded"}}}},
}

// eventSchema is the schema of one line of apply --json: the Event
// struct, and per type what its events always carry.
func eventSchema(src *goSource) object {
	s := generateSchema(src, jsondoc.Events, reflect.TypeOf(views.EventLine{}), "rokflow apply --json: one event line")
	types := make([]string, 0, len(eventRules))
	for typ := range eventRules {
		types = append(types, typ)
	}
	sort.Strings(types)
	var all []any
	for _, typ := range types {
		all = append(all, object{
			"if":   object{"properties": object{"type": object{"const": typ}}},
			"then": eventRules[typ],
		})
	}
	s["allOf"] = all
	return s
}
