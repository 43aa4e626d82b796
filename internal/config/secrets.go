package config

import "strings"

// checkTokens refuses a token with white space inside: a token never holds
// any, and one with a newline or a space (a pasted line, two values) would
// reach the server only to be refused there, or worse split a header. The
// message never repeats the value.
func (c *Config) checkTokens(add func(error)) {
	for _, t := range []struct{ input, value string }{{InToken, c.Token}, {InArgoCDToken, c.ArgoCDToken}} {
		if i := strings.IndexFunc(t.value, isSpaceOrControl); i >= 0 {
			add(problem(t.input, "holds white space or a control character at position %d of %d; give the token alone, on one line (surrounding space is trimmed)", i+1, len(t.value)))
		}
	}
	if i := strings.IndexAny(c.ArgoCDPassword, "\r\n\x00"); i >= 0 {
		add(problem(InArgoCDPassword, "holds a line break or NUL at position %d; give the password on one line", i+1))
	}
}

func isSpaceOrControl(r rune) bool {
	return r <= ' ' || r == 0x7f || r == 0x85 || r == 0xa0 || r == 0x2028 || r == 0x2029 || (r >= 0x2000 && r <= 0x200b) || r == 0x3000 || r == 0xfeff
}
