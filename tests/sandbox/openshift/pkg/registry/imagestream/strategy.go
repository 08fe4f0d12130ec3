// Package imagestream stores image streams in etcd with OpenShift's write semantics: spec tags sorted and
// generation-stamped, tags resolved inside the write, cross-namespace sources checked against the caller's
// rights, the namespace's image stream limits and the cluster's registry allowlist enforced.
package imagestream

import (
	"context"
	"fmt"

	imagev1 "github.com/openshift/api/image/v1"
	"github.com/openshift/library-go/pkg/authorization/authorizationutil"
	authorizationv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/apiserver/pkg/authentication/user"
	genericapirequest "k8s.io/apiserver/pkg/endpoints/request"
	"k8s.io/apiserver/pkg/storage/names"
	authorizationclient "k8s.io/client-go/kubernetes/typed/authorization/v1"
	"sigs.k8s.io/structured-merge-diff/v6/fieldpath"

	"github.com/openshift-ops/images/tests/sandbox/openshift/pkg/apis/image"
	"github.com/openshift-ops/images/tests/sandbox/openshift/pkg/imagestreams"
)

// Policy is what the strategy reads from the cluster on each write.
type Policy interface {
	// Allowlist is images.config.openshift.io/cluster's allowedRegistriesForImport (nil: every registry).
	Allowlist(ctx context.Context) (*imagestreams.Allowlist, error)
	// Limits are the namespace's openshift.io/ImageStream maxima.
	Limits(namespace string) (corev1.ResourceList, error)
}

// Strategy is the spec write path (create and update).
type Strategy struct {
	runtime.ObjectTyper
	names.NameGenerator
	InternalRegistry string
	Reviews          authorizationclient.SubjectAccessReviewInterface
	Policy           Policy
	// GetStream reads another stream for tag resolution; set once the store exists.
	GetStream imagestreams.StreamGetter
}

// NewStrategy returns the spec strategy.
func NewStrategy(internalRegistry string, reviews authorizationclient.SubjectAccessReviewInterface, policy Policy) *Strategy {
	return &Strategy{
		ObjectTyper:      image.Scheme,
		NameGenerator:    names.SimpleNameGenerator,
		InternalRegistry: internalRegistry,
		Reviews:          reviews,
		Policy:           policy,
	}
}

func (*Strategy) NamespaceScoped() bool                         { return true }
func (*Strategy) AllowCreateOnUpdate(context.Context) bool      { return false }
func (*Strategy) AllowUnconditionalUpdate(context.Context) bool { return false }
func (*Strategy) Canonicalize(runtime.Object)                   {}

func (*Strategy) WarningsOnCreate(context.Context, runtime.Object) []string { return nil }

func (*Strategy) WarningsOnUpdate(context.Context, runtime.Object, runtime.Object) []string {
	return nil
}

// GetResetFields: a spec write never sets status.
func (*Strategy) GetResetFields() map[fieldpath.APIVersion]*fieldpath.Set {
	return map[fieldpath.APIVersion]*fieldpath.Set{
		"image.openshift.io/v1": fieldpath.NewSet(fieldpath.MakePathOrDie("status")),
	}
}

// Repository is the stream's pull spec in the internal registry.
func (s *Strategy) Repository(stream *imagev1.ImageStream) string {
	if s.InternalRegistry == "" {
		return stream.Spec.DockerImageRepository
	}
	namespace := stream.Namespace
	if namespace == "" {
		namespace = metav1.NamespaceDefault
	}
	return s.InternalRegistry + "/" + namespace + "/" + stream.Name
}

// Decorate fills status.dockerImageRepository on every read, as it depends on the cluster, not on what is stored.
func (s *Strategy) Decorate(obj runtime.Object) {
	switch typed := obj.(type) {
	case *imagev1.ImageStream:
		typed.Status.DockerImageRepository = s.Repository(typed)
	case *imagev1.ImageStreamList:
		for i := range typed.Items {
			typed.Items[i].Status.DockerImageRepository = s.Repository(&typed.Items[i])
		}
	}
}

// normalize makes the lists look as OpenShift's server returns its maps.
func normalize(stream *imagev1.ImageStream) {
	stream.Spec.Tags = imagestreams.NormalizeSpecTags(stream.Spec.Tags)
	stream.Status.Tags = imagestreams.NormalizeStatusTags(stream.Status.Tags)
}

// PrepareForCreate drops any status the client sent and stamps generation 1 on the stream and every spec tag.
func (s *Strategy) PrepareForCreate(_ context.Context, obj runtime.Object) {
	stream := obj.(*imagev1.ImageStream)
	stream.Status = imagev1.ImageStreamStatus{DockerImageRepository: s.Repository(stream)}
	stream.Spec.Tags = imagestreams.NormalizeSpecTags(stream.Spec.Tags)
	stream.Generation = 1
	for i := range stream.Spec.Tags {
		one := int64(1)
		stream.Spec.Tags[i].Generation = &one
	}
}

// Validate resolves the new stream's tags (it must run inside the write: OpenShift's does it in validation) and
// checks it.
func (s *Strategy) Validate(ctx context.Context, obj runtime.Object) field.ErrorList {
	stream := obj.(*imagev1.ImageStream)
	errs := s.resolveAndVerify(ctx, nil, stream, true)
	allow, err := s.Policy.Allowlist(ctx)
	if err != nil {
		return append(errs, field.InternalError(field.NewPath(""), err))
	}
	errs = append(errs, imagestreams.Validate(stream, allow)...)
	normalize(stream)
	return errs
}

// PrepareForUpdate keeps status and tag generations, and moves the stream's generation when the spec changed.
func (s *Strategy) PrepareForUpdate(_ context.Context, obj, old runtime.Object) {
	s.prepareForUpdate(obj.(*imagev1.ImageStream), old.(*imagev1.ImageStream), true)
}

func (s *Strategy) prepareForUpdate(stream, old *imagev1.ImageStream, keepStatus bool) {
	stream.Spec.Tags = imagestreams.NormalizeSpecTags(stream.Spec.Tags)
	stream.Generation = old.Generation
	if keepStatus {
		stream.Status = *old.Status.DeepCopy()
	}
	stream.Status.Tags = imagestreams.NormalizeStatusTags(stream.Status.Tags)
	stream.Status.DockerImageRepository = s.Repository(stream)
	imagestreams.KeepSpecTagGenerations(stream, old)
	if !apiequality.Semantic.DeepEqual(old.Spec, stream.Spec) || stream.Generation == 0 {
		stream.Generation = old.Generation + 1
	}
	imagestreams.StampSpecTagGenerations(stream, old)
}

// ValidateUpdate resolves changed tags and checks the stream; references the old stream held stay allowed.
func (s *Strategy) ValidateUpdate(ctx context.Context, obj, old runtime.Object) field.ErrorList {
	return s.validateUpdate(ctx, obj, old, false)
}

func (s *Strategy) validateUpdate(ctx context.Context, obj, old runtime.Object, followTracking bool) field.ErrorList {
	stream, previous := obj.(*imagev1.ImageStream), old.(*imagev1.ImageStream)
	errs := s.resolveAndVerify(ctx, previous, stream, followTracking)
	allow, err := s.Policy.Allowlist(ctx)
	if err != nil {
		return append(errs, field.InternalError(field.NewPath(""), err))
	}
	errs = append(errs, imagestreams.ValidateUpdate(stream, previous, allow)...)
	normalize(stream)
	return errs
}

// resolveAndVerify runs the cross-namespace check, resolves changed tags and checks the namespace's limits. Like
// OpenShift's, it reports their failures as one internal error wrapping the API error (a 422 whose message holds
// the cause).
func (s *Strategy) resolveAndVerify(ctx context.Context, old, stream *imagev1.ImageStream, followTracking bool) field.ErrorList {
	caller, ok := genericapirequest.UserFrom(ctx)
	if !ok {
		return field.ErrorList{field.InternalError(field.NewPath(""), apierrors.NewForbidden(schema.GroupResource{Resource: "imagestreams"}, stream.Name, fmt.Errorf("no user context available")))}
	}
	errs := s.verifyTagSources(ctx, old, stream, caller)
	errs = append(errs, imagestreams.ResolveChangedTags(ctx, old, stream, s.GetStream, s.InternalRegistry)...)
	if followTracking {
		imagestreams.FollowChangedHistories(stream, old)
	}
	if len(errs) > 0 {
		// OpenShift names the kind "imagestreams", with no group, in this message.
		return field.ErrorList{field.InternalError(field.NewPath(""), apierrors.NewInvalid(schema.GroupKind{Kind: "imagestreams"}, stream.Name, errs))}
	}
	if err := s.verifyLimits(ctx, old, stream); err != nil {
		return field.ErrorList{field.InternalError(field.NewPath(""), err)}
	}
	return nil
}

func (s *Strategy) verifyLimits(ctx context.Context, old, stream *imagev1.ImageStream) error {
	namespace, ok := genericapirequest.NamespaceFrom(ctx)
	if !ok {
		namespace = stream.Namespace
	}
	limits, err := s.Policy.Limits(namespace)
	if err != nil {
		return err
	}
	if err := imagestreams.VerifyLimits(limits, old, stream); err != nil {
		return apierrors.NewForbidden(image.Resource("ImageStream"), stream.Name, err)
	}
	return nil
}

// verifyTagSources checks, for every new or changed tag whose source is in another namespace, that the caller may
// get imagestreams/layers of the source stream there (a SubjectAccessReview as the caller, one per stream).
func (s *Strategy) verifyTagSources(ctx context.Context, old, stream *imagev1.ImageStream, caller user.Info) field.ErrorList {
	var errs field.ErrorList
	type source struct{ namespace, stream string }
	tagsBySource := map[source][]string{}
	var order []source
	for _, tag := range stream.Spec.Tags {
		from := tag.From
		if from == nil || from.Namespace == "" || from.Namespace == stream.Namespace {
			continue
		}
		if old != nil {
			if previous, ok := imagestreams.SpecTag(old, tag.Name); ok && !imagestreams.TagRefChanged(previous, tag, stream.Namespace) {
				continue
			}
		}
		streamName, _, err := imagestreams.ParseFromReference(stream, from.Kind, from.Name)
		if err != nil {
			errs = append(errs, field.Invalid(field.NewPath("spec", "tags").Key(tag.Name).Child("from", "name"), from.Name,
				"must be of the form <tag>, <repo>:<tag>, <id>, or <repo>@<id>"))
			continue
		}
		key := source{from.Namespace, streamName}
		if _, seen := tagsBySource[key]; !seen {
			order = append(order, key)
		}
		tagsBySource[key] = append(tagsBySource[key], tag.Name)
	}
	for _, key := range order {
		review := authorizationutil.AddUserToSAR(caller, &authorizationv1.SubjectAccessReview{
			Spec: authorizationv1.SubjectAccessReviewSpec{ResourceAttributes: &authorizationv1.ResourceAttributes{
				Namespace:   key.namespace,
				Verb:        "get",
				Group:       image.GroupName,
				Resource:    "imagestreams",
				Subresource: "layers",
				Name:        key.stream,
			}},
		})
		answer, err := s.Reviews.Create(ctx, review, metav1.CreateOptions{})
		if err == nil && answer != nil && answer.Status.Allowed {
			continue
		}
		message := key.namespace + "/" + key.stream
		if answer != nil {
			message += fmt.Sprintf(": %q %q", answer.Status.Reason, answer.Status.EvaluationError)
		}
		if err != nil {
			message += fmt.Sprintf("- %v", err)
		}
		for _, tag := range tagsBySource[key] {
			errs = append(errs, field.Forbidden(field.NewPath("spec", "tags").Key(tag).Child("from"), message))
		}
	}
	return errs
}

// StatusStrategy is the status write path: the spec stays as stored.
type StatusStrategy struct{ *Strategy }

// GetResetFields: a status write never sets spec.
func (StatusStrategy) GetResetFields() map[fieldpath.APIVersion]*fieldpath.Set {
	return map[fieldpath.APIVersion]*fieldpath.Set{
		"image.openshift.io/v1": fieldpath.NewSet(fieldpath.MakePathOrDie("spec")),
	}
}

// PrepareForUpdate keeps the stored spec and stamps generations on new status events.
func (s StatusStrategy) PrepareForUpdate(_ context.Context, obj, old runtime.Object) {
	stream, previous := obj.(*imagev1.ImageStream), old.(*imagev1.ImageStream)
	stream.Spec.Tags = previous.Spec.Tags
	stream.Spec.DockerImageRepository = previous.Spec.DockerImageRepository
	stream.Status.Tags = imagestreams.NormalizeStatusTags(stream.Status.Tags)
	stream.Status.DockerImageRepository = s.Repository(stream)
	imagestreams.StampStatusGenerations(stream, previous)
}

// ValidateUpdate checks limits and the new status references.
func (s StatusStrategy) ValidateUpdate(ctx context.Context, obj, old runtime.Object) field.ErrorList {
	stream, previous := obj.(*imagev1.ImageStream), old.(*imagev1.ImageStream)
	var errs field.ErrorList
	if err := s.verifyLimits(ctx, previous, stream); err != nil {
		errs = append(errs, field.Forbidden(field.NewPath("imageStream"), err.Error()))
	}
	allow, err := s.Policy.Allowlist(ctx)
	if err != nil {
		return append(errs, field.InternalError(field.NewPath(""), err))
	}
	return append(errs, imagestreams.ValidateStatusUpdate(stream, previous, allow)...)
}

// InternalStrategy writes spec and status together (imports): generations as a spec write, status as given.
type InternalStrategy struct{ *Strategy }

// PrepareForCreate keeps the status the import computed.
func (s InternalStrategy) PrepareForCreate(_ context.Context, obj runtime.Object) {
	stream := obj.(*imagev1.ImageStream)
	stream.Status.DockerImageRepository = s.Repository(stream)
	stream.Spec.Tags = imagestreams.NormalizeSpecTags(stream.Spec.Tags)
	stream.Status.Tags = imagestreams.NormalizeStatusTags(stream.Status.Tags)
	stream.Generation = 1
	for i := range stream.Spec.Tags {
		one := int64(1)
		stream.Spec.Tags[i].Generation = &one
	}
}

// PrepareForUpdate is the spec write's, with the new status kept.
func (s InternalStrategy) PrepareForUpdate(_ context.Context, obj, old runtime.Object) {
	s.prepareForUpdate(obj.(*imagev1.ImageStream), old.(*imagev1.ImageStream), false)
}

// ValidateUpdate is the spec write's, and the tracking tags of changed histories follow.
func (s InternalStrategy) ValidateUpdate(ctx context.Context, obj, old runtime.Object) field.ErrorList {
	return s.validateUpdate(ctx, obj, old, true)
}
