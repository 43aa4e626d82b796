// Package kustomize sets container images in the kustomization files of
// overlays, keeping every byte of the file that is not a changed value, and
// builds the edited overlays in process with kustomize's krusty to check
// them before anything is written or landed.
//
// [Edit] reads through an [io/fs.FS] rooted at the config repository (a
// local folder through (*os.Root).FS, or a git tree in memory) and returns
// the new file contents without writing anything. It gives the same
// resulting images: entries as `kustomize edit set image` v5.8.0, except
// where gitops-promote decided otherwise:
//
//   - an argument without =newName keeps the stored newName, and
//     name=newName alone sets only newName;
//   - a tag without a digest removes the stored digest, and a digest
//     without a tag removes the stored tag (both given: both set);
//   - what is not a valid image reference is refused (package image);
//   - no apiVersion or kind is added, bases is left alone, and nothing else
//     in the file is touched: existing entries keep their order, a second
//     entry for the same image stays as it is (the first is the one set,
//     with a warning).
//
// The file is edited as bytes: the changed scalars are replaced where the
// YAML parser found them, new keys and entries are inserted as lines in the
// file's own indentation, list style, quoting and line endings. A
// numeric-looking value that is newly written is quoted ("1234").
//
// [Validate] runs a kustomize build of each overlay over a read-only
// filesys.FileSystem that reads lazily from the fs.FS, reads each file
// once for all builds, and sees the edited bytes; the builds run in
// parallel (GOMAXPROCS at a time) and failures come back in overlay order.
// A [Validator] does the same and remembers what each build read, so that
// validating again after a retry's re-edit builds only what changed. [WriteFiles] writes edits inside an [os.Root], never through a
// symlink, keeping the file mode.
package kustomize
