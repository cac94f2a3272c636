package steps

import (
	"fmt"
	"sort"
)

// Registry maps kind names to kinds. It is built explicitly (see
// steps/builtin) so tests can build their own.
type Registry struct {
	kinds map[string]Kind
}

// NewRegistry returns a registry holding the given kinds. It returns an error
// if two kinds share a name or a kind's schema is incomplete.
func NewRegistry(kinds ...Kind) (*Registry, error) {
	r := &Registry{kinds: make(map[string]Kind, len(kinds))}
	for _, k := range kinds {
		s := k.Schema()
		if s == nil || s.Name == "" || s.Args == nil {
			return nil, fmt.Errorf("step kind %T has no name or argument schema", k)
		}
		if _, dup := r.kinds[s.Name]; dup {
			return nil, fmt.Errorf("step kind %q registered twice", s.Name)
		}
		r.kinds[s.Name] = k
	}
	return r, nil
}

// Lookup returns the kind with the given name.
func (r *Registry) Lookup(name string) (Kind, bool) {
	k, ok := r.kinds[name]
	return k, ok
}

// Names returns every kind name, sorted.
func (r *Registry) Names() []string {
	names := make([]string, 0, len(r.kinds))
	for n := range r.kinds {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}
