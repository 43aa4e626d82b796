package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path"
	"slices"

	"github.com/gitops-promote/gitops-promote/internal/config"
	"github.com/gitops-promote/gitops-promote/internal/kustomize"
	"github.com/gitops-promote/gitops-promote/internal/promote"
)

func editVerb() verb {
	return verb{name: "edit", summary: "set images in overlays of a local folder and print the diff", run: runEdit}
}

// rootError is a --root that cannot be opened: bad input.
type rootError struct{ err error }

func (e *rootError) Error() string  { return fmt.Sprintf("root: %v", e.err) }
func (e *rootError) Unwrap() error  { return e.err }
func (e *rootError) BadInput() bool { return true }

// runEdit edits the overlays under --root: the diff on stdout, the change
// table on stderr, the files written unless --dry-run. Nothing is written
// when anything is wrong.
func runEdit(_ context.Context, e *env, args []string) error {
	fs := flag.NewFlagSet("edit", flag.ContinueOnError)
	rootDir := fs.String("root", ".", "local folder of the config repository")
	lookup := config.RegisterFlags(fs, config.VerbEdit)
	if err := parseFlags(e, fs, args); err != nil {
		return err
	}
	cfg, err := config.Load(lookup, config.ForVerb(config.VerbEdit))
	if err != nil {
		return err
	}
	req, err := promote.Request(cfg)
	if err != nil {
		return err
	}
	root, err := os.OpenRoot(*rootDir)
	if err != nil {
		return &rootError{err: err}
	}
	defer root.Close()
	res, err := kustomize.Edit(root.FS(), req)
	if err != nil {
		return err
	}
	for _, w := range res.Warnings {
		fmt.Fprintf(e.stderr, "warning: %s\n", w)
	}
	if len(res.Files) == 0 {
		fmt.Fprintln(e.stderr, "nothing to change: the images are already set")
		return nil
	}
	var rendered []kustomize.ObjectDiff
	if cfg.ValidateOverlays {
		var overlays []string
		for _, f := range res.Files {
			if d := path.Dir(f.Path); !slices.Contains(overlays, d) {
				overlays = append(overlays, d)
			}
		}
		var vopts []kustomize.ValidatorOption
		if cfg.ValidateRemote {
			vopts = append(vopts, kustomize.WithRemote())
		}
		if !cfg.DryRun {
			if err := kustomize.NewValidator(vopts...).Validate(root.FS(), res.Files, overlays); err != nil {
				return err
			}
		} else {
			// A dry run shows the rendered change: the validation's builds and
			// one more of each overlay's files as they are.
			var skipped []error
			if rendered, skipped, err = kustomize.NewValidator(vopts...).RenderDiff(root.FS(), res.Files, overlays); err != nil {
				return err
			}
			for _, s := range skipped {
				fmt.Fprintf(e.stderr, "warning: %v\n", s)
			}
		}
	}
	if err := writeDiff(e.stdout, res.Files); err != nil {
		return err
	}
	fmt.Fprintln(e.stderr)
	if err := writeChangeTable(e.stderr, res.Changes); err != nil {
		return err
	}
	if cfg.DryRun {
		// On stderr: stdout stays a patch that git apply takes.
		if err := writeRendered(e.stderr, rendered); err != nil {
			return err
		}
		fmt.Fprintln(e.stderr, "\ndry run: nothing written")
		return nil
	}
	if err := kustomize.WriteFiles(root, res.Files); err != nil {
		return fmt.Errorf("writing the edited files under %q: %w", *rootDir, err)
	}
	fmt.Fprintf(e.stderr, "\nwrote %d %s\n", len(res.Files), plural(len(res.Files), "file"))
	return nil
}

func plural(n int, word string) string {
	if n == 1 {
		return word
	}
	return word + "s"
}
