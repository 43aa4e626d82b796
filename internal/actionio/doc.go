// Package actionio is the GitHub Actions runner boundary of gitops-promote:
// it reads the INPUT_* variables into a config.Config, and writes outputs
// (GITHUB_OUTPUT, multi-line safe), the step summary (GITHUB_STEP_SUMMARY),
// masks, groups and the one error annotation of a failed run. It sits on
// github.com/sethvargo/go-githubactions with an injected getenv and writer, and
// never panics: the library panics when a file command cannot be written, so
// the file commands are written here, after checking the file exists, and
// workflow commands go through a writer that swallows write errors and reports
// them as returned errors instead.
package actionio
