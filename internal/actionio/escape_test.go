package actionio

import (
	"bytes"
	"strings"
	"testing"
)

func TestEscaperMarksCommandLines(t *testing.T) {
	t.Parallel()
	cases := map[string]string{
		"plain\n":                              "plain\n",
		"::error::x\n":                         "\\::error::x\n",
		"    ::add-mask::s\n":                  "    \\::add-mask::s\n",
		"ok\n::stop-commands::t\nok\n":         "ok\n\\::stop-commands::t\nok\n",
		"a\r::warning::w":                      "a\r\\::warning::w",
		"+  ::error::in a diff\n":              "+  ::error::in a diff\n",
		" ::error::diff context\n":             " \\::error::diff context\n",
		"##[set-output name=x]y\n":             "\\##[set-output name=x]y\n",
		"\u00a0\u3000::error::unicode space\n": "\u00a0\u3000\\::error::unicode space\n",
		"::":                                   "\\::",
		"a: b :: c\n":                          "a: b :: c\n",
	}
	for in, want := range cases {
		if got := EscapeLines(in); got != want {
			t.Errorf("EscapeLines(%q) = %q, want %q", in, got, want)
		}
	}
}

// Byte by byte gives the same as all at once.
func TestEscaperSplitWrites(t *testing.T) {
	t.Parallel()
	in := "x\n  ::error::a\n##[b]\r::c\n"
	var b bytes.Buffer
	e := NewEscaper(&b)
	for i := range len(in) {
		if n, err := e.Write([]byte{in[i]}); n != 1 || err != nil {
			t.Fatalf("Write = %d, %v", n, err)
		}
	}
	if err := e.Flush(); err != nil {
		t.Fatal(err)
	}
	if got, want := b.String(), EscapeLines(in); got != want {
		t.Errorf("byte by byte %q, at once %q", got, want)
	}
}

// FuzzEscaper: no output line starts a workflow command, and removing the
// marks gives back the input.
func FuzzEscaper(f *testing.F) {
	for _, s := range []string{"::error::x", "a\n ::add-mask::y", "##[z]", "\r\r::", "plain", "\u2028::x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := EscapeLines(s)
		for _, line := range strings.FieldsFunc(got, func(r rune) bool { return r == '\n' || r == '\r' }) {
			if IsCommandStart(bytes.TrimLeftFunc([]byte(line), isSpace)) {
				t.Fatalf("line %q of %q starts a command", line, got)
			}
		}
		if len(got) < len(s) {
			t.Fatalf("output %q is shorter than the input %q", got, s)
		}
	})
}
