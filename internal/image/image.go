package image

import (
	"fmt"
	"regexp"
	"strings"
)

// Keep written for a part of an argument keeps the value stored in the
// kustomization file.
const Keep = "*"

// Forms lists the accepted argument forms, as shown in error messages.
const Forms = `name:tag, name@digest, name:tag@digest, name=newName, name=newName:tag, ` +
	`name=newName@digest or name=newName:tag@digest ("*" for a part keeps the stored value)`

// maxNameLength is the longest repository name a registry accepts
// (distribution's NameTotalLengthMax).
const maxNameLength = 255

var (
	// pathComponent is distribution's lower-case path component.
	pathComponent = regexp.MustCompile(`^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$`)
	// domainComponent is one label of a registry host, lower-case here.
	domainComponent = regexp.MustCompile(`^(?:[a-z0-9]|[a-z0-9][a-z0-9-]*[a-z0-9])$`)
	port            = regexp.MustCompile(`^[0-9]{1,5}$`)
	tagPattern      = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$`)
	algorithm       = regexp.MustCompile(`^[a-z0-9]+(?:[.+_-][a-z0-9]+)*$`)
	lowerHex        = regexp.MustCompile(`^[a-f0-9]{32,}$`)
)

// hexLength is the length of the encoded part for the algorithms whose
// length is known.
var hexLength = map[string]int{"sha256": 64, "sha384": 96, "sha512": 128}

// Ref is one parsed image argument.
type Ref struct {
	// Name is matched against images[].name in a kustomization.
	Name string
	// NewName is "" when not given, Keep to keep the stored one.
	NewName string
	// Tag is "" when not given, Keep to keep the stored one.
	Tag string
	// Digest is "" when not given, Keep to keep the stored one; otherwise
	// "algorithm:hex", e.g. "sha256:<64 hex>".
	Digest string
}

// String returns the canonical argument form of r, which Parse accepts
// and maps back to r.
func (r Ref) String() string {
	var b strings.Builder
	b.WriteString(r.Name)
	if r.NewName != "" {
		b.WriteString("=")
		b.WriteString(r.NewName)
	}
	if r.Tag != "" {
		b.WriteString(":")
		b.WriteString(r.Tag)
	}
	if r.Digest != "" {
		b.WriteString("@")
		b.WriteString(r.Digest)
	}
	return b.String()
}

// ParseError reports an image argument that is not valid. It is the
// person's input that is wrong: BadInput reports true.
type ParseError struct {
	// Arg is the argument as given.
	Arg string
	// Part names the part that is wrong: "name", "new name", "tag",
	// "digest" or "argument".
	Part string
	// Reason says what is wrong with it.
	Reason string
}

// Error returns one line naming the argument, the wrong part and the
// accepted forms.
func (e *ParseError) Error() string {
	return fmt.Sprintf("image %q: %s %s; use %s", e.Arg, e.Part, e.Reason, Forms)
}

// BadInput reports that the error is the person's input: always true.
func (e *ParseError) BadInput() bool { return true }

// Parse parses one image argument in one of kustomize's seven forms.
// Surrounding white space is ignored. The error is a *ParseError.
func Parse(arg string) (Ref, error) {
	s := strings.TrimSpace(arg)
	fail := func(part, reason string) (Ref, error) {
		return Ref{}, &ParseError{Arg: arg, Part: part, Reason: reason}
	}
	if s == "" {
		return fail("argument", "is empty")
	}
	key, value, hasKey := strings.Cut(s, "=")
	if !hasKey {
		value = s
	}
	if hasKey {
		if key == "" {
			return fail("name", `is empty before "="`)
		}
		if value == "" {
			return fail("new name", `is empty after "="`)
		}
	}
	name, tag, digest, err := split(value)
	if err != nil {
		err.Arg = arg
		if hasKey && err.Part == "name" {
			err.Part = "new name"
		}
		return Ref{}, err
	}
	var r Ref
	if hasKey {
		if err := checkName(key, false); err != "" {
			return fail("name", err)
		}
		if err := checkName(name, true); err != "" {
			return fail("new name", err)
		}
		r = Ref{Name: key, NewName: name, Tag: tag, Digest: digest}
	} else {
		if tag == "" && digest == "" {
			return fail("argument", "has no tag, digest or new name")
		}
		if err := checkName(name, false); err != "" {
			return fail("name", err)
		}
		r = Ref{Name: name, Tag: tag, Digest: digest}
	}
	if r.Tag != "" && r.Tag != Keep && !tagPattern.MatchString(r.Tag) {
		return fail("tag", fmt.Sprintf("%q is not [A-Za-z0-9_][A-Za-z0-9._-]{0,127}", r.Tag))
	}
	if r.Digest != "" && r.Digest != Keep {
		if reason := checkDigest(r.Digest); reason != "" {
			return fail("digest", reason)
		}
	}
	return r, nil
}

// ParseName parses a bare image name, as used to limit a promote-from
// copy to some images. The error is a *ParseError.
func ParseName(arg string) (string, error) {
	s := strings.TrimSpace(arg)
	if s == "" {
		return "", &ParseError{Arg: arg, Part: "name", Reason: "is empty"}
	}
	if reason := checkName(s, false); reason != "" {
		return "", &ParseError{Arg: arg, Part: "name", Reason: reason}
	}
	return s, nil
}

// split separates name, tag and digest as kustomize's image.Split does: a
// ':' before the first '/' belongs to the registry host. Empty tag or
// digest after its separator is an error.
func split(value string) (name, tag, digest string, err *ParseError) {
	rest := value
	if at := strings.Index(rest, "@"); at >= 0 {
		rest, digest = rest[:at], rest[at+1:]
		if digest == "" {
			return "", "", "", &ParseError{Part: "digest", Reason: `is empty after "@"`}
		}
	}
	searchFrom := max(strings.Index(rest, "/"), 0)
	if colon := strings.LastIndex(rest[searchFrom:], ":"); colon >= 0 {
		colon += searchFrom
		rest, tag = rest[:colon], rest[colon+1:]
		if tag == "" {
			return "", "", "", &ParseError{Part: "tag", Reason: `is empty after ":"`}
		}
	}
	if rest == "" {
		return "", "", "", &ParseError{Part: "name", Reason: "is empty"}
	}
	return rest, tag, digest, nil
}

// checkName returns why name is not a valid reference name, or "".
// keepOK allows Keep (for a new name).
func checkName(name string, keepOK bool) string {
	if name == Keep {
		if keepOK {
			return ""
		}
		return `cannot be "*": name the image to set`
	}
	if len(name) > maxNameLength {
		return fmt.Sprintf("%q is longer than %d characters", name, maxNameLength)
	}
	if i := strings.IndexAny(name, `*[]()?+{}|^$\ `); i >= 0 {
		return fmt.Sprintf("%q holds %q, which is not allowed in an image name", name, name[i:i+1])
	}
	if name != strings.ToLower(name) {
		return fmt.Sprintf("%q is not lower-case", name)
	}
	components := strings.Split(name, "/")
	first := 0
	if len(components) > 1 && looksLikeHost(components[0]) {
		if reason := checkHost(components[0]); reason != "" {
			return fmt.Sprintf("%q: registry %s", name, reason)
		}
		first = 1
	}
	for _, c := range components[first:] {
		if !pathComponent.MatchString(c) {
			return fmt.Sprintf("%q: path component %q is not lower-case letters and digits separated by '.', '_', '__' or '-'", name, c)
		}
	}
	return ""
}

// looksLikeHost reports whether the first component of a name is a
// registry host, by docker's rule: it holds '.' or ':' or is localhost.
func looksLikeHost(c string) bool {
	return strings.ContainsAny(c, ".:") || c == "localhost"
}

func checkHost(host string) string {
	h, p, hasPort := strings.Cut(host, ":")
	if hasPort && !port.MatchString(p) {
		return fmt.Sprintf("port %q is not a number", p)
	}
	for _, label := range strings.Split(h, ".") {
		if !domainComponent.MatchString(label) {
			return fmt.Sprintf("host %q is not a valid host name", h)
		}
	}
	return ""
}

func checkDigest(d string) string {
	alg, hex, ok := strings.Cut(d, ":")
	if !ok || !algorithm.MatchString(alg) {
		return fmt.Sprintf("%q is not algorithm:hex (sha256:<64 hex digits>)", d)
	}
	if want, known := hexLength[alg]; known && (len(hex) != want || !lowerHex.MatchString(hex)) {
		return fmt.Sprintf("%q: %s needs %d lower-case hex digits", d, alg, want)
	}
	if !lowerHex.MatchString(hex) {
		return fmt.Sprintf("%q: the part after %q is not lower-case hex of 32 digits or more", d, alg+":")
	}
	return ""
}
