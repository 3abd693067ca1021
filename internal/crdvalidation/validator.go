// Package crdvalidation validates custom resources offline with the code the
// API server runs for them: the CRD's structural schema, pruning of unknown
// fields (reported, as strict field validation does), defaulting, OpenAPI
// schema validation, list-type invariants and the x-kubernetes-validations
// CEL rules, all from k8s.io/apiextensions-apiserver. It reads no cluster.
package crdvalidation

import (
	"context"
	"fmt"
	"io/fs"
	"slices"
	"strings"

	apiextensionsinternal "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	structuralschema "k8s.io/apiextensions-apiserver/pkg/apiserver/schema"
	structuraldefaulting "k8s.io/apiextensions-apiserver/pkg/apiserver/schema/defaulting"
	schemaobjectmeta "k8s.io/apiextensions-apiserver/pkg/apiserver/schema/objectmeta"
	structuralpruning "k8s.io/apiextensions-apiserver/pkg/apiserver/schema/pruning"
	apiservervalidation "k8s.io/apiextensions-apiserver/pkg/apiserver/validation"
	"k8s.io/apiextensions-apiserver/pkg/registry/customresource"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apiserver/pkg/endpoints/request"
	"k8s.io/apiserver/pkg/registry/rest"
	"sigs.k8s.io/yaml"
)

// Validator validates the custom resources of a set of CRDs, one served
// version each.
type Validator struct {
	kinds map[schema.GroupVersionKind]*version
}

// version is what the API server builds for one served version of a CRD.
type version struct {
	structural *structuralschema.Structural
	strategy   rest.RESTCreateStrategy
}

// New reads every *.yaml file of crds (each one CustomResourceDefinition, as
// controller-gen writes them) and prepares a validator for each served version.
func New(crds fs.FS) (*Validator, error) {
	files, err := fs.Glob(crds, "*/*.yaml")
	if err != nil {
		return nil, err
	}
	top, err := fs.Glob(crds, "*.yaml")
	if err != nil {
		return nil, err
	}
	files = append(top, files...)
	if len(files) == 0 {
		return nil, fmt.Errorf("no CustomResourceDefinition found")
	}
	v := &Validator{kinds: map[schema.GroupVersionKind]*version{}}
	for _, file := range files {
		data, err := fs.ReadFile(crds, file)
		if err != nil {
			return nil, err
		}
		crd := &apiextensionsv1.CustomResourceDefinition{}
		if err := yaml.UnmarshalStrict(data, crd); err != nil {
			return nil, fmt.Errorf("%s: %w", file, err)
		}
		apiextensionsv1.SetObjectDefaults_CustomResourceDefinition(crd)
		if err := v.add(crd); err != nil {
			return nil, fmt.Errorf("%s: %w", file, err)
		}
	}
	return v, nil
}

// add builds the structural schema, schema validator and strategy of every
// served version of crd, as the API server's CRD handler does
// (apiextensions-apiserver/pkg/apiserver/customresource_handler.go).
func (v *Validator) add(crd *apiextensionsv1.CustomResourceDefinition) error {
	for _, ver := range crd.Spec.Versions {
		if !ver.Served || ver.Schema == nil {
			continue
		}
		internal := &apiextensionsinternal.CustomResourceValidation{}
		if err := apiextensionsv1.Convert_v1_CustomResourceValidation_To_apiextensions_CustomResourceValidation(ver.Schema, internal, nil); err != nil {
			return err
		}
		structural, err := structuralschema.NewStructural(internal.OpenAPIV3Schema)
		if err != nil {
			return fmt.Errorf("version %s: the schema is not structural: %w", ver.Name, err)
		}
		structural = structural.DeepCopy()
		if err := structuraldefaulting.PruneDefaults(structural); err != nil {
			return err
		}
		schemaValidator, _, err := apiservervalidation.NewSchemaValidator(internal.OpenAPIV3Schema)
		if err != nil {
			return err
		}
		var status *apiextensionsinternal.CustomResourceSubresourceStatus
		var statusValidator apiservervalidation.SchemaValidator
		if ver.Subresources != nil && ver.Subresources.Status != nil {
			status = &apiextensionsinternal.CustomResourceSubresourceStatus{}
			if statusSchema, ok := internal.OpenAPIV3Schema.Properties["status"]; ok {
				if statusValidator, _, err = apiservervalidation.NewSchemaValidator(&statusSchema); err != nil {
					return err
				}
			}
		}
		gvk := schema.GroupVersionKind{Group: crd.Spec.Group, Version: ver.Name, Kind: crd.Spec.Names.Kind}
		v.kinds[gvk] = &version{
			structural: structural,
			strategy: customresource.NewStrategy(
				runtime.NewScheme(),
				crd.Spec.Scope == apiextensionsv1.NamespaceScoped,
				gvk, schemaValidator, statusValidator, structural, status, nil, ver.SelectableFields,
			),
		}
	}
	return nil
}

// Handles reports whether gvk is a served version of one of the CRDs.
func (v *Validator) Handles(gvk schema.GroupVersionKind) bool {
	_, ok := v.kinds[gvk]
	return ok
}

// Validate runs on a copy of obj what a create with strict field validation
// (kubectl apply's default) runs in the API server: prune and coerce, refusing
// unknown fields; default; then the create strategy's validation. When the API
// server would accept obj, it returns the object as the server would store it
// (nulls pruned, defaults set, no status); else an error worded as the API
// server words it. obj must be of a kind Handles.
func (v *Validator) Validate(obj *unstructured.Unstructured) (*unstructured.Unstructured, error) {
	gvk := obj.GroupVersionKind()
	ver, ok := v.kinds[gvk]
	if !ok {
		// As kubectl apply says it when discovery has no such version.
		return nil, fmt.Errorf("no matches for kind %q in version %q: the CustomResourceDefinition built into this binary does not serve it", gvk.Kind, gvk.GroupVersion())
	}
	u := obj.DeepCopy()
	if unknown, err := coerce(u, ver.structural); err != nil {
		return nil, apierrors.NewBadRequest(fmt.Sprintf("%s in version %q cannot be handled as a %s: %v", gvk.Kind, gvk.Version, gvk.Kind, err))
	} else if len(unknown) > 0 {
		return nil, apierrors.NewBadRequest(fmt.Sprintf("%s in version %q cannot be handled as a %s: strict decoding error: %s",
			gvk.Kind, gvk.Version, gvk.Kind, unknownFieldsMessage(unknown)))
	}
	structuraldefaulting.Default(u.Object, ver.structural)

	ctx := request.WithNamespace(context.Background(), u.GetNamespace())
	ver.strategy.PrepareForCreate(ctx, u)
	if errs := rest.ValidateCreate(ctx, u, ver.strategy); len(errs) > 0 {
		return nil, apierrors.NewInvalid(gvk.GroupKind(), u.GetName(), errs)
	}
	return u, nil
}

// coerce is the API server's unstructuredSchemaCoercer with
// returnUnknownFieldPaths on: it prunes what the schema does not know, and
// returns the pruned paths, which strict decoding refuses.
func coerce(u *unstructured.Unstructured, s *structuralschema.Structural) ([]string, error) {
	kind, apiVersion := u.GetKind(), u.GetAPIVersion()
	objectMeta, foundObjectMeta, unknown, err := schemaobjectmeta.GetObjectMetaWithOptions(u.Object, schemaobjectmeta.ObjectMetaOptions{ReturnUnknownFieldPaths: true})
	if err != nil {
		return nil, err
	}
	unknown = append(unknown, structuralpruning.PruneWithOptions(u.Object, s, true, structuralschema.UnknownFieldPathOptions{TrackUnknownFieldPaths: true})...)
	structuraldefaulting.PruneNonNullableNullsWithoutDefaults(u.Object, s)
	coerceErr, paths := schemaobjectmeta.CoerceWithOptions(nil, u.Object, s, false, schemaobjectmeta.CoerceOptions{ReturnUnknownFieldPaths: true})
	if coerceErr != nil {
		return nil, coerceErr
	}
	unknown = append(unknown, paths...)
	u.SetKind(kind)
	u.SetAPIVersion(apiVersion)
	if foundObjectMeta {
		if err := schemaobjectmeta.SetObjectMeta(u.Object, objectMeta); err != nil {
			return nil, err
		}
	}
	return unknown, nil
}

// unknownFieldsMessage words unknown field paths as the API server's strict
// decoding does: `unknown field "a.b"`, comma-separated and sorted.
func unknownFieldsMessage(paths []string) string {
	paths = slices.Clone(paths)
	slices.Sort(paths)
	quoted := make([]string, len(paths))
	for i, p := range paths {
		quoted[i] = fmt.Sprintf("unknown field %q", p)
	}
	return strings.Join(quoted, ", ")
}
