package main

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// maxWord is the longest run of non-space text a message shows whole; a
// longer one (a 100 KB tag, a server's page) is cut in the middle.
const maxWord = 200

// cutLong shortens every run of non-space characters longer than maxWord
// to its start and end around "...(N bytes)...", so that a message stays
// readable whatever value it quotes.
func cutLong(s string) string {
	if len(s) <= maxWord {
		return s
	}
	var b strings.Builder
	for len(s) > 0 {
		i := strings.IndexFunc(s, unicode.IsSpace)
		if i < 0 {
			i = len(s)
		}
		b.WriteString(cutWord(s[:i]))
		s = s[i:]
		j := strings.IndexFunc(s, func(r rune) bool { return !unicode.IsSpace(r) })
		if j < 0 {
			j = len(s)
		}
		b.WriteString(s[:j])
		s = s[j:]
	}
	return b.String()
}

func cutWord(w string) string {
	if len(w) <= maxWord {
		return w
	}
	head, tail := maxWord*3/4, maxWord/4
	for head > 0 && !utf8.RuneStart(w[head]) {
		head--
	}
	start := len(w) - tail
	for start < len(w) && !utf8.RuneStart(w[start]) {
		start++
	}
	return fmt.Sprintf("%s...(%d bytes cut)...%s", w[:head], start-head, w[start:])
}
