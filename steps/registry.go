package steps

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Registry maps kind names to kinds. It is built explicitly (see
// steps/builtin) so tests can build their own.
type Registry struct {
	kinds map[string]Kind
}

// NewRegistry returns a registry holding the given kinds. It returns an error
// if two kinds share a name, a kind's schema is incomplete, or a kind
// declares an argument with the name of a step meta-argument (the step would
// take that argument for itself and the kind would never see it).
func NewRegistry(kinds ...Kind) (*Registry, error) {
	r := &Registry{kinds: make(map[string]Kind, len(kinds))}
	for _, k := range kinds {
		s := k.Schema()
		if s == nil || s.Name == "" || s.Args == nil {
			return nil, fmt.Errorf("step kind %T has no name or argument schema", k)
		}
		if clashes := s.Args.MetaArgumentClashes(); len(clashes) > 0 {
			return nil, fmt.Errorf("step kind %q declares %s, which every step has for itself (a step meta-argument): a playbook's value would never reach the kind; rename the argument",
				s.Name, quotedList(clashes))
		}
		if s.DefaultTimeout != "" {
			if d, err := time.ParseDuration(s.DefaultTimeout); err != nil || d <= 0 {
				return nil, fmt.Errorf("step kind %q has a DefaultTimeout %q that is not a positive duration", s.Name, s.DefaultTimeout)
			}
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

func quotedList(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = strconv.Quote(n)
	}
	return strings.Join(q, ", ")
}
