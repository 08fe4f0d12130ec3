package imagestreams

import (
	"context"
	"errors"
	"fmt"
	"strings"

	imagev1 "github.com/openshift/api/image/v1"
	"github.com/openshift/library-go/pkg/image/reference"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// StreamGetter reads another image stream (a NotFound API error when it does not exist).
type StreamGetter func(ctx context.Context, namespace, name string) (*imagev1.ImageStream, error)

// ParseFromReference splits an ImageStreamTag or ImageStreamImage source into stream and tag (or image ID); a bare
// tag or ID names the stream itself.
func ParseFromReference(stream *imagev1.ImageStream, kind, name string) (string, string, error) {
	separator, part := "", ""
	switch kind {
	case "ImageStreamTag":
		separator, part = ":", "tag"
	case "ImageStreamImage":
		separator, part = "@", "id"
	default:
		return "", "", fmt.Errorf("invalid from.kind %q - only ImageStreamTag and ImageStreamImage are allowed", kind)
	}
	parts := strings.Split(name, separator)
	switch len(parts) {
	case 1:
		return stream.Name, name, nil
	case 2:
		return parts[0], parts[1], nil
	}
	return "", "", fmt.Errorf("invalid from.name %q - it must be of the form <%s> or <stream>%s<%s>", name, part, separator, part)
}

// ResolveChangedTags writes, for every spec tag that is new or changed, the status event it resolves to right
// away: a DockerImage reference tag points at its pull spec; an ImageStreamTag or ImageStreamImage source is copied
// from the source stream (read with get when it is another stream); a tag of another stream in the internal
// registry is pointed at this stream, so that pulls go through it. DockerImage tags that are imported are left to
// the import controller. Tracking tags are FollowChangedHistories' job.
func ResolveChangedTags(ctx context.Context, old, stream *imagev1.ImageStream, getStream StreamGetter, internalRegistry string) field.ErrorList {
	var errs field.ErrorList
	for i := range stream.Spec.Tags {
		tag := stream.Spec.Tags[i]
		if old != nil {
			if previous, ok := SpecTag(old, tag.Name); ok && !TagRefChanged(previous, tag, stream.Namespace) {
				continue
			}
		}
		if tag.From == nil {
			continue
		}
		generation := stream.Generation
		tag.Generation = &generation
		fromPath := field.NewPath("spec", "tags").Key(tag.Name).Child("from")

		if tag.From.Kind == "DockerImage" && tag.From.Name != "" {
			if tag.Reference {
				stream.Spec.Tags[i] = tag
				AddTagEvent(stream, tag.Name, imagev1.TagEvent{
					Created:              metav1.Now(),
					DockerImageReference: tag.From.Name,
					Generation:           generation,
				})
			}
			continue
		}

		sourceName, tagOrID, err := ParseFromReference(stream, tag.From.Kind, tag.From.Name)
		if err != nil {
			errs = append(errs, field.Invalid(fromPath.Child("name"), tag.From.Name, "must be of the form <tag>, <repo>:<tag>, <id>, or <repo>@<id>"))
			continue
		}
		source := stream
		sourceNamespace := tag.From.Namespace
		if sourceNamespace == "" {
			sourceNamespace = stream.Namespace
		}
		if sourceNamespace != stream.Namespace || sourceName != stream.Name {
			found, err := getStream(ctx, sourceNamespace, sourceName)
			if err != nil {
				if apierrors.IsNotFound(err) {
					errs = append(errs, field.NotFound(fromPath.Child("name"), tag.From.Name))
				} else {
					errs = append(errs, field.Invalid(fromPath.Child("name"), tag.From.Name, fmt.Sprintf("unable to retrieve image stream: %v", err)))
				}
				continue
			}
			source = found
		}

		var event *imagev1.TagEvent
		if tag.From.Kind == "ImageStreamImage" {
			event, err = ResolveImageID(source, tagOrID)
		} else {
			event = LatestEvent(source, tagOrID)
		}
		if err != nil {
			errs = append(errs, field.Invalid(fromPath.Child("name"), tag.From.Name, "error generating tag event: "+describeResolveError(err)))
			continue
		}
		if event == nil {
			continue // a source tag with no image yet is accepted; nothing to copy
		}
		event.Generation = generation
		if !tag.Reference && internalRegistry != "" {
			if ref, err := reference.Parse(event.DockerImageReference); err == nil &&
				ref.Registry == internalRegistry && ref.Namespace == source.Namespace && ref.Name == source.Name {
				ref.Namespace, ref.Name = stream.Namespace, stream.Name
				event.DockerImageReference = ref.Exact()
			}
		}
		stream.Spec.Tags[i] = tag
		AddTagEvent(stream, tag.Name, *event)
	}
	return errs
}

// describeResolveError words a failed image ID lookup as OpenShift's server does (a NotFound or Conflict status
// message).
func describeResolveError(err error) string {
	var notFound NotFoundError
	var ambiguous AmbiguousError
	switch {
	case errors.As(err, &notFound):
		return fmt.Sprintf("imagestreamimage.image.openshift.io %q not found", notFound.ID)
	case errors.As(err, &ambiguous):
		return fmt.Sprintf("Operation cannot be fulfilled on imagestreamimage.image.openshift.io %q: %v", ambiguous.ID, err)
	}
	return err.Error()
}

// FollowChangedHistories updates the tracking tags of every history whose current event differs from old's (every
// history when old is nil).
//
// OpenShift's server runs this on creates and on writes of spec and status together (imports), but not on a spec
// update: there the new stream shares the stored stream's status map, so no history ever looks changed. A tag that
// a spec update points elsewhere is therefore followed by its tracking tags only at the next import or create; the
// sandbox does the same.
func FollowChangedHistories(stream, old *imagev1.ImageStream) {
	for _, history := range append([]imagev1.NamedTagEventList(nil), stream.Status.Tags...) {
		if len(history.Items) == 0 {
			continue
		}
		if old != nil {
			previous, _ := StatusTag(old, history.Tag)
			if len(previous.Items) > 0 && previous.Items[0] == history.Items[0] {
				continue
			}
		}
		current, _ := StatusTag(stream, history.Tag)
		UpdateTrackingTags(stream, history.Tag, current.Items[0])
	}
}
