// Package crd embeds the generated CustomResourceDefinitions of config/crd/bases,
// so that kubectl-labelgroup validates manifests against exactly the schema and
// CEL rules `make manifests` last wrote: a regenerated CRD is picked up by the
// next build, with nothing to copy by hand. (go:embed cannot reach a parent
// directory, hence this package next to the files.)
package crd

import "embed"

// Bases holds bases/*.yaml, one CustomResourceDefinition per file.
//
//go:embed bases/*.yaml
var Bases embed.FS
