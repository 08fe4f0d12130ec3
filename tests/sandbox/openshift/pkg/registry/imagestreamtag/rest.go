// Package imagestreamtag serves imagestreamtags: a read-only view of one tag of a stream and its image, and the
// delete that removes a tag's spec and history in one write.
package imagestreamtag

import (
	"context"
	"fmt"

	imagev1 "github.com/openshift/api/image/v1"
	"github.com/openshift/library-go/pkg/image/imageutil"
	"github.com/openshift/library-go/pkg/image/reference"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metainternalversion "k8s.io/apimachinery/pkg/apis/meta/internalversion"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apiserver/pkg/registry/rest"

	"github.com/openshift-ops/images/tests/sandbox/openshift/pkg/apis/image"
	"github.com/openshift-ops/images/tests/sandbox/openshift/pkg/imagestreams"
)

// Streams is what the tag view reads through.
type Streams interface {
	rest.Getter
	rest.Lister
}

// REST serves imagestreamtags.
type REST struct {
	Streams Streams
	// Writer updates spec and status together (a delete removes both).
	Writer rest.Updater
	Images rest.Getter
	rest.TableConvertor
}

var (
	_ rest.Getter               = &REST{}
	_ rest.Lister               = &REST{}
	_ rest.GracefulDeleter      = &REST{}
	_ rest.Scoper               = &REST{}
	_ rest.Storage              = &REST{}
	_ rest.SingularNameProvider = &REST{}
)

// NewREST serves tags of the streams in streams, written through writer, with the images in images.
func NewREST(streams Streams, writer rest.Updater, images rest.Getter) *REST {
	return &REST{Streams: streams, Writer: writer, Images: images, TableConvertor: rest.NewDefaultTableConvertor(image.Resource("imagestreamtags"))}
}

func (r *REST) New() runtime.Object     { return &imagev1.ImageStreamTag{} }
func (r *REST) NewList() runtime.Object { return &imagev1.ImageStreamTagList{} }
func (r *REST) Destroy()                {}
func (r *REST) NamespaceScoped() bool   { return true }
func (r *REST) GetSingularName() string { return "imagestreamtag" }

func splitName(id string) (string, string, error) {
	stream, tag, ok := imageutil.SplitImageStreamTag(id)
	if !ok {
		return "", "", apierrors.NewBadRequest("ImageStreamTags must be retrieved with <name>:<tag>")
	}
	return stream, tag, nil
}

func (r *REST) stream(ctx context.Context, name string) (*imagev1.ImageStream, error) {
	obj, err := r.Streams.Get(ctx, name, &metav1.GetOptions{})
	if err != nil {
		return nil, err
	}
	return obj.(*imagev1.ImageStream), nil
}

// Get returns the tag with its current image; NotFound while the tag has no image in status.
func (r *REST) Get(ctx context.Context, id string, _ *metav1.GetOptions) (runtime.Object, error) {
	streamName, tag, err := splitName(id)
	if err != nil {
		return nil, err
	}
	stream, err := r.stream(ctx, streamName)
	if err != nil {
		return nil, err
	}
	event := imagestreams.LatestEvent(stream, tag)
	if event == nil || event.Image == "" {
		return nil, apierrors.NewNotFound(image.Resource("imagestreamtags"), id)
	}
	obj, err := r.Images.Get(ctx, event.Image, &metav1.GetOptions{})
	if err != nil {
		return nil, err
	}
	return NewTag(stream, tag, obj.(*imagev1.Image)), nil
}

// List returns a tag for every tag of every stream that has an image.
func (r *REST) List(ctx context.Context, options *metainternalversion.ListOptions) (runtime.Object, error) {
	obj, err := r.Streams.List(ctx, options)
	if err != nil {
		return nil, err
	}
	list := &imagev1.ImageStreamTagList{}
	for i := range obj.(*imagev1.ImageStreamList).Items {
		stream := &obj.(*imagev1.ImageStreamList).Items[i]
		for _, history := range stream.Status.Tags {
			event := imagestreams.LatestEvent(stream, history.Tag)
			if event == nil || event.Image == "" {
				continue
			}
			found, err := r.Images.Get(ctx, event.Image, &metav1.GetOptions{})
			if err != nil {
				continue
			}
			list.Items = append(list.Items, *NewTag(stream, history.Tag, found.(*imagev1.Image)))
		}
	}
	return list, nil
}

// NewTag builds the tag view: the spec tag, its current image (manifest and config text left out, the pull spec
// resolved through the reference policy), the tag's conditions and annotations.
func NewTag(stream *imagev1.ImageStream, tag string, img *imagev1.Image) *imagev1.ImageStreamTag {
	event := imagestreams.LatestEvent(stream, tag)
	history, _ := imagestreams.StatusTag(stream, tag)
	view := &imagev1.ImageStreamTag{
		ObjectMeta: metav1.ObjectMeta{
			Namespace:         stream.Namespace,
			Name:              imageutil.JoinImageStreamTag(stream.Name, tag),
			CreationTimestamp: event.Created,
			Annotations:       map[string]string{},
			Labels:            stream.Labels,
			ResourceVersion:   stream.ResourceVersion,
			UID:               stream.UID,
		},
		Generation:   event.Generation,
		Conditions:   history.Conditions,
		LookupPolicy: stream.Spec.LookupPolicy,
	}
	copied := img.DeepCopy()
	copied.TypeMeta = metav1.TypeMeta{} // embedded: OpenShift's answer has no kind of its own there
	if spec, ok := imagestreams.SpecTag(stream, tag); ok {
		specCopy := *spec.DeepCopy()
		view.Tag = &specCopy
		if len(spec.Annotations) > 0 && copied.Annotations == nil {
			copied.Annotations = map[string]string{}
		}
		for key, value := range spec.Annotations {
			view.Annotations[key] = value
			copied.Annotations[key] = value
		}
	}
	copied.DockerImageManifest = ""
	copied.DockerImageConfig = ""
	copied.DockerImageReference = PullSpecFor(stream, tag, *event)
	view.Image = *copied
	return view
}

// PullSpecFor is where an event's image is pulled from: through the internal registry for a Local reference
// policy (when the event has an image), else from its source.
func PullSpecFor(stream *imagev1.ImageStream, tag string, event imagev1.TagEvent) string {
	spec, ok := imagestreams.SpecTag(stream, tag)
	if !ok || spec.ReferencePolicy.Type != imagev1.LocalTagReferencePolicy {
		return event.DockerImageReference
	}
	local := stream.Status.DockerImageRepository
	if local == "" || event.Image == "" {
		return event.DockerImageReference
	}
	ref, err := reference.Parse(local)
	if err != nil {
		return event.DockerImageReference
	}
	ref.Tag, ref.ID = "", event.Image
	return ref.Exact()
}

// Delete removes the tag from spec and status in one write; NotFound when the stream has neither.
func (r *REST) Delete(ctx context.Context, id string, _ rest.ValidateObjectFunc, options *metav1.DeleteOptions) (runtime.Object, bool, error) {
	streamName, tag, err := splitName(id)
	if err != nil {
		return nil, false, err
	}
	for attempt := 0; attempt < 10; attempt++ {
		stream, err := r.stream(ctx, streamName)
		if err != nil {
			return nil, false, err
		}
		if options != nil && options.Preconditions != nil && options.Preconditions.UID != nil && *options.Preconditions.UID != stream.UID {
			return nil, false, apierrors.NewConflict(image.Resource("imagestreamtags"), id, fmt.Errorf("the UID precondition was not met"))
		}
		removedStatus := imagestreams.RemoveStatusTag(stream, tag)
		removedSpec := imagestreams.RemoveSpecTag(stream, tag)
		if !removedStatus && !removedSpec {
			return nil, false, apierrors.NewNotFound(image.Resource("imagestreamtags"), id)
		}
		updateOptions := &metav1.UpdateOptions{}
		if options != nil {
			updateOptions.DryRun = options.DryRun
		}
		_, _, err = r.Writer.Update(ctx, stream.Name, rest.DefaultUpdatedObjectInfo(stream),
			rest.ValidateAllObjectFunc, rest.ValidateAllObjectUpdateFunc, false, updateOptions)
		if apierrors.IsConflict(err) {
			continue
		}
		if err != nil && !apierrors.IsNotFound(err) {
			return nil, false, err
		}
		return &metav1.Status{Status: metav1.StatusSuccess}, true, nil
	}
	return nil, false, apierrors.NewServerTimeout(image.Resource("imagestreamtags"), "delete", 2)
}
