// Package image parses and validates the image arguments of gitops-promote.
//
// An argument takes one of kustomize's seven forms:
//
//	name:tag
//	name@digest
//	name:tag@digest
//	name=newName
//	name=newName:tag
//	name=newName@digest
//	name=newName:tag@digest
//
// The argument is split on its first '='; a registry port before the first
// '/' stays part of the name (localhost:5000/app:1). A part written as "*"
// ([Keep]) keeps the value stored in the kustomization file.
//
// Validation is stricter than kustomize's (which validates nothing): names
// are lower-case reference path components with an optional registry host
// and port, tags match [A-Za-z0-9_][A-Za-z0-9._-]{0,127}, digests are
// algorithm:hex (sha256 with 64 hex digits, sha512 with 128). Names never
// hold regexp metacharacters other than '.', because kustomize matches
// images[].name as a regular expression.
package image
