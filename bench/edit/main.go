// Command edit-bench times the edit engine on a tree of overlays: Edit
// over (*os.Root).FS, then WriteFiles, as `gitops-promote edit` does. It
// prints one line: the number of files written, then the milliseconds
// taken in process in all, by Edit and by WriteFiles. bench/edit/run.sh
// drives it.
package main

import (
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/gitops-promote/gitops-promote/internal/image"
	"github.com/gitops-promote/gitops-promote/internal/kustomize"
)

func main() {
	root := flag.String("root", ".", "config repository root")
	overlays := flag.String("overlays", "", "overlay folder or glob")
	img := flag.String("image", "", "image argument")
	flag.Parse()
	if err := run(*root, *overlays, *img); err != nil {
		fmt.Fprintln(os.Stderr, "edit-bench:", err)
		os.Exit(1)
	}
}

func run(dir, overlays, arg string) error {
	start := time.Now()
	ref, err := image.Parse(arg)
	if err != nil {
		return err
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return err
	}
	defer root.Close()
	res, err := kustomize.Edit(root.FS(), kustomize.Request{Overlays: []string{overlays}, Images: []image.Ref{ref}})
	if err != nil {
		return err
	}
	edited := time.Now()
	if err := kustomize.WriteFiles(root, res.Files); err != nil {
		return err
	}
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	fmt.Printf("%d %.1f %.1f %.1f\n", len(res.Files), ms(time.Since(start)), ms(edited.Sub(start)), ms(time.Since(edited)))
	return nil
}
