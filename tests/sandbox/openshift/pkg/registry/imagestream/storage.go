package imagestream

import (
	"context"

	imagev1 "github.com/openshift/api/image/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	genericapirequest "k8s.io/apiserver/pkg/endpoints/request"
	"k8s.io/apiserver/pkg/registry/generic"
	genericregistry "k8s.io/apiserver/pkg/registry/generic/registry"
	"k8s.io/apiserver/pkg/registry/rest"
	"sigs.k8s.io/structured-merge-diff/v6/fieldpath"

	"github.com/openshift-ops/images/tests/sandbox/openshift/pkg/apis/image"
)

// Storage is the REST storage of imagestreams, imagestreams/status, and the spec-and-status store imports use.
type Storage struct {
	Streams  *genericregistry.Store
	Status   *StatusREST
	Internal *genericregistry.Store
	Strategy *Strategy
}

// NewStorage builds the stores on etcd.
func NewStorage(optsGetter generic.RESTOptionsGetter, strategy *Strategy) (*Storage, error) {
	store := &genericregistry.Store{
		NewFunc:                   func() runtime.Object { return &imagev1.ImageStream{} },
		NewListFunc:               func() runtime.Object { return &imagev1.ImageStreamList{} },
		DefaultQualifiedResource:  image.Resource("imagestreams"),
		SingularQualifiedResource: image.Resource("imagestream"),
		CreateStrategy:            strategy,
		UpdateStrategy:            strategy,
		DeleteStrategy:            strategy,
		ResetFieldsStrategy:       strategy,
		Decorator:                 strategy.Decorate,
		TableConvertor:            rest.NewDefaultTableConvertor(image.Resource("imagestreams")),
	}
	if err := store.CompleteWithOptions(&generic.StoreOptions{RESTOptions: optsGetter}); err != nil {
		return nil, err
	}
	strategy.GetStream = func(ctx context.Context, namespace, name string) (*imagev1.ImageStream, error) {
		obj, err := store.Get(genericapirequest.WithNamespace(ctx, namespace), name, &metav1.GetOptions{})
		if err != nil {
			return nil, err
		}
		return obj.(*imagev1.ImageStream), nil
	}

	status := *store
	statusStrategy := StatusStrategy{strategy}
	status.UpdateStrategy = statusStrategy
	status.ResetFieldsStrategy = statusStrategy

	internal := *store
	internalStrategy := InternalStrategy{strategy}
	internal.CreateStrategy = internalStrategy
	internal.UpdateStrategy = internalStrategy

	return &Storage{Streams: store, Status: &StatusREST{store: &status}, Internal: &internal, Strategy: strategy}, nil
}

// StatusREST serves imagestreams/status: get and update.
type StatusREST struct{ store *genericregistry.Store }

var _ rest.Patcher = &StatusREST{}

// New returns an empty image stream.
func (r *StatusREST) New() runtime.Object { return &imagev1.ImageStream{} }

// Destroy releases nothing of its own: the main store owns the storage.
func (r *StatusREST) Destroy() {}

// Get reads the stream.
func (r *StatusREST) Get(ctx context.Context, name string, options *metav1.GetOptions) (runtime.Object, error) {
	return r.store.Get(ctx, name, options)
}

// Update writes the status only.
func (r *StatusREST) Update(ctx context.Context, name string, objInfo rest.UpdatedObjectInfo, createValidation rest.ValidateObjectFunc, updateValidation rest.ValidateObjectUpdateFunc, forceAllowCreate bool, options *metav1.UpdateOptions) (runtime.Object, bool, error) {
	return r.store.Update(ctx, name, objInfo, createValidation, updateValidation, false, options)
}

// GetResetFields says what a status write leaves alone.
func (r *StatusREST) GetResetFields() map[fieldpath.APIVersion]*fieldpath.Set {
	return r.store.GetResetFields()
}
