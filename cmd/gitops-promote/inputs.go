package main

import (
	"errors"
	"strings"

	"github.com/gitops-promote/gitops-promote/internal/argocd"
	"github.com/gitops-promote/gitops-promote/internal/config"
	"github.com/gitops-promote/gitops-promote/internal/promote"
)

// inputProblems joins what config found (cfgErr) with the input checks only
// other packages can make: the image grammar (promote.Request) and the Argo
// CD server and credentials (argocd.New), so one run names every problem,
// one line each. A check is skipped where config already named its inputs,
// so no problem is reported twice. Nothing is contacted.
func inputProblems(cfg *config.Config, cfgErr error) error {
	if cfg == nil {
		return cfgErr
	}
	named := map[string]bool{}
	var ie *config.InputError
	for _, e := range flatten(cfgErr) {
		if errors.As(e, &ie) {
			named[ie.Input] = true
		}
	}
	errs := []error{cfgErr}
	if cfg.Verb == config.VerbRun && !named[config.InImages] && !named[config.InPromoteFrom] {
		if _, err := promote.Request(cfg); err != nil {
			errs = append(errs, err)
		}
	}
	argoNamed := false
	for in := range named {
		argoNamed = argoNamed || strings.HasPrefix(in, "argocd-")
	}
	if cfg.ArgoCDServer != "" && !argoNamed {
		if err := checkArgoCD(cfg); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// checkArgoCD builds the Argo CD client to learn what it refuses in the
// inputs; only bad input counts here.
func checkArgoCD(cfg *config.Config) error {
	opts, err := argoOptions(cfg, nil, nil)
	if err == nil {
		_, err = argocd.New(cfg.ArgoCDServer, opts...)
	}
	var bad interface{ BadInput() bool }
	if err != nil && errors.As(err, &bad) && bad.BadInput() {
		return err
	}
	return nil
}

// flatten lists the leaves of a tree of joined errors, in order.
func flatten(err error) []error {
	if err == nil {
		return nil
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok { //nolint:errorlint // walking the tree of joined errors itself
		var out []error
		for _, e := range j.Unwrap() {
			out = append(out, flatten(e)...)
		}
		return out
	}
	return []error{err}
}
