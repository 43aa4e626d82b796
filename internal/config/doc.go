// Package config holds every input of gitops-promote (the names of DESIGN.md's
// interface contract), their defaults in one place, the parsing of their
// string forms and the validation that reports every problem at once.
//
// The same table of inputs serves the CLI (a flag.FlagSet whose flag names are
// the input names) and the GitHub Actions runner (INPUT_* variables, read by
// internal/actionio through a [Lookup]). The package uses the standard library
// only; image references are validated by internal/image in the layers that may
// import it.
package config
