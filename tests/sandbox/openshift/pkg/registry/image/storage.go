// Package image stores images (cluster-scoped, named by their manifest digest, a name that is a path segment
// rather than a DNS subdomain), which imports create.
package image

import (
	"context"

	imagev1 "github.com/openshift/api/image/v1"
	"k8s.io/apimachinery/pkg/api/validation"
	"k8s.io/apimachinery/pkg/api/validation/path"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/apiserver/pkg/registry/generic"
	genericregistry "k8s.io/apiserver/pkg/registry/generic/registry"
	"k8s.io/apiserver/pkg/registry/rest"
	"k8s.io/apiserver/pkg/storage/names"

	"github.com/openshift-ops/images/tests/sandbox/openshift/pkg/apis/image"
)

type strategy struct {
	runtime.ObjectTyper
	names.NameGenerator
}

func (strategy) NamespaceScoped() bool                                            { return false }
func (strategy) AllowCreateOnUpdate(context.Context) bool                         { return false }
func (strategy) AllowUnconditionalUpdate(context.Context) bool                    { return false }
func (strategy) Canonicalize(runtime.Object)                                      {}
func (strategy) PrepareForCreate(context.Context, runtime.Object)                 {}
func (strategy) PrepareForUpdate(context.Context, runtime.Object, runtime.Object) {}
func (strategy) WarningsOnCreate(context.Context, runtime.Object) []string        { return nil }
func (strategy) WarningsOnUpdate(context.Context, runtime.Object, runtime.Object) []string {
	return nil
}

func (strategy) Validate(_ context.Context, obj runtime.Object) field.ErrorList {
	img := obj.(*imagev1.Image)
	errs := validation.ValidateObjectMeta(&img.ObjectMeta, false, path.ValidatePathSegmentName, field.NewPath("metadata"))
	if img.DockerImageReference == "" {
		errs = append(errs, field.Required(field.NewPath("dockerImageReference"), ""))
	}
	return errs
}

func (s strategy) ValidateUpdate(ctx context.Context, obj, old runtime.Object) field.ErrorList {
	errs := validation.ValidateObjectMetaUpdate(&obj.(*imagev1.Image).ObjectMeta, &old.(*imagev1.Image).ObjectMeta, field.NewPath("metadata"))
	return append(errs, s.Validate(ctx, obj)...)
}

// NewStorage builds the images store on etcd.
func NewStorage(optsGetter generic.RESTOptionsGetter) (*genericregistry.Store, error) {
	images := strategy{image.Scheme, names.SimpleNameGenerator}
	store := &genericregistry.Store{
		NewFunc:                   func() runtime.Object { return &imagev1.Image{} },
		NewListFunc:               func() runtime.Object { return &imagev1.ImageList{} },
		DefaultQualifiedResource:  image.Resource("images"),
		SingularQualifiedResource: image.Resource("image"),
		CreateStrategy:            images,
		UpdateStrategy:            images,
		DeleteStrategy:            images,
		TableConvertor:            rest.NewDefaultTableConvertor(image.Resource("images")),
	}
	if err := store.CompleteWithOptions(&generic.StoreOptions{RESTOptions: optsGetter}); err != nil {
		return nil, err
	}
	return store, nil
}
