package config

import (
	"flag"
	"slices"
	"strings"
)

// flagValue records every value given to one flag, for [Lookup].
type flagValue struct {
	kind   Kind
	values []string
}

func (f *flagValue) String() string {
	if f == nil {
		return ""
	}
	return strings.Join(f.values, "\n")
}

func (f *flagValue) Set(v string) error {
	f.values = append(f.values, v)
	return nil
}

// IsBoolFlag lets a bool input be given as a bare --flag (meaning true).
func (f *flagValue) IsBoolFlag() bool { return f.kind == KindBool }

// RegisterFlags defines one flag per input of verb on fs (flag name = input
// name; list inputs repeat and also take newline-separated values) and returns
// the Lookup that reads what was parsed. Call fs.Parse before using it.
func RegisterFlags(fs *flag.FlagSet, verb Verb) Lookup {
	values := map[string]*flagValue{}
	for _, s := range Specs() {
		if !slices.Contains(s.Verbs, verb) {
			continue
		}
		v := &flagValue{kind: s.Kind}
		values[s.Name] = v
		usage := s.Usage
		if s.Default != "" {
			usage += " (default " + s.Default + ")"
		}
		fs.Var(v, s.Name, usage)
	}
	return func(name string) []string {
		if v, ok := values[name]; ok {
			return v.values
		}
		return nil
	}
}
