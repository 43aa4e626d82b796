package kustomize

import (
	"testing"

	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// TestFormatScalar: a value newly written plain stays plain unless YAML
// would read it as something else than the same string.
func TestFormatScalar(t *testing.T) {
	t.Parallel()
	tests := []struct {
		value string
		style yaml.Style
		flow  bool
		want  string
	}{
		{"v1", 0, false, "v1"},
		{"1.4.1", 0, false, "1.4.1"},
		{"1234", 0, false, `"1234"`},
		{"1.0", 0, false, `"1.0"`},
		{"1e3", 0, false, `"1e3"`},
		{"0x1F", 0, false, `"0x1F"`},
		{"2024-01-01", 0, false, `"2024-01-01"`},
		{"true", 0, false, `"true"`},
		{"yes", 0, false, `"yes"`},
		{"off", 0, false, `"off"`},
		{"null", 0, false, `"null"`},
		{"1.25-alpine", 0, false, "1.25-alpine"},
		{"sha256:abc", 0, false, "sha256:abc"},
		{"localhost:5000/app", 0, false, "localhost:5000/app"},
		{"v1", yaml.DoubleQuotedStyle, false, `"v1"`},
		{"it's", yaml.SingleQuotedStyle, false, `'it''s'`},
		{"a,b", 0, true, `"a,b"`},
		{"a,b", 0, false, "a,b"},
	}
	for _, tc := range tests {
		if got := formatScalar(tc.value, tc.style, tc.flow, plainOK{}); got != tc.want {
			t.Errorf("formatScalar(%q, %v, flow %v) = %s; want %s", tc.value, tc.style, tc.flow, got, tc.want)
		}
	}
	cached := newPlainOK([]target{{name: "app", tag: op{kind: opSet, value: "1234"}}})
	if got := formatScalar("1234", 0, false, cached); got != `"1234"` {
		t.Errorf("with the cache, 1234 written as %s", got)
	}
}
