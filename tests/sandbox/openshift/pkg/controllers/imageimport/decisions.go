package imageimport

import (
	imagev1 "github.com/openshift/api/image/v1"
	"github.com/openshift/library-go/pkg/image/imageutil"
	imageref "github.com/openshift/library-go/pkg/image/reference"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// tagImportable: the tag points at an external image (DockerImage) that is to be imported, not merely referenced.
func tagImportable(tag imagev1.TagReference) bool {
	return tag.From != nil && tag.From.Kind == "DockerImage" && !tag.Reference
}

// tagNeedsImport: an importable tag whose generation is newer than the last one the status shows for it. A tag
// without a generation (not yet defaulted by the API server) counts as needing import only if asked.
func tagNeedsImport(stream *imagev1.ImageStream, tag imagev1.TagReference, whenNoGeneration bool) bool {
	if !tagImportable(tag) {
		return false
	}
	if tag.Generation == nil {
		return whenNoGeneration
	}
	return *tag.Generation > observedTagGeneration(stream, tag.Name)
}

// observedTagGeneration is the newest generation the status records for the tag, from its latest event or its
// ImportSuccess condition (a failed import counts as observed: it is not retried until the tag changes).
func observedTagGeneration(stream *imagev1.ImageStream, tag string) int64 {
	events, ok := imageutil.StatusHasTag(stream, tag)
	if !ok {
		return 0
	}
	var observed int64
	if len(events.Items) > 0 {
		observed = max(observed, events.Items[0].Generation)
	}
	for _, condition := range events.Conditions {
		if condition.Type == imagev1.ImportSuccess {
			observed = max(observed, condition.Generation)
			break
		}
	}
	return observed
}

// needsImport says whether the stream has anything to import, and whether that is only some tags (partial)
// rather than the whole spec.dockerImageRepository as well. Streams never checked (no
// openshift.io/image.dockerRepositoryCheck annotation) import their repository, or failing that, every
// importable tag.
func needsImport(stream *imagev1.ImageStream) (needed, partial bool) {
	if stream.Annotations[imagev1.DockerImageRepositoryCheckAnnotation] == "" {
		if stream.Spec.DockerImageRepository != "" {
			return true, false
		}
		for _, tag := range stream.Spec.Tags {
			if tagImportable(tag) {
				return true, true
			}
		}
	}
	for _, tag := range stream.Spec.Tags {
		if tagNeedsImport(stream, tag, false) {
			return true, true
		}
	}
	return false, false
}

// buildImport is the ImageStreamImport to post for the stream, or nil when nothing needs importing. It carries the
// stream's resourceVersion and UID (the import applies to that stream as it was seen), one image per tag to
// import (all importable tags unless partial) with the tag's importPolicy and referencePolicy, and for a full
// import the stream's dockerImageRepository.
func buildImport(stream *imagev1.ImageStream) *imagev1.ImageStreamImport {
	needed, partial := needsImport(stream)
	if !needed {
		return nil
	}
	isi := &imagev1.ImageStreamImport{
		ObjectMeta: metav1.ObjectMeta{
			Name:            stream.Name,
			Namespace:       stream.Namespace,
			ResourceVersion: stream.ResourceVersion,
			UID:             stream.UID,
		},
		Spec: imagev1.ImageStreamImportSpec{Import: true},
	}
	for _, tag := range stream.Spec.Tags {
		if !tagImportable(tag) || (partial && !tagNeedsImport(stream, tag, true)) {
			continue
		}
		isi.Spec.Images = append(isi.Spec.Images, imagev1.ImageImportSpec{
			From:            corev1.ObjectReference{Kind: "DockerImage", Name: tag.From.Name},
			To:              &corev1.LocalObjectReference{Name: tag.Name},
			ImportPolicy:    tag.ImportPolicy,
			ReferencePolicy: tag.ReferencePolicy,
		})
	}
	if repository := stream.Spec.DockerImageRepository; !partial && repository != "" {
		isi.Spec.Repository = &imagev1.RepositoryImportSpec{
			From:         corev1.ObjectReference{Kind: "DockerImage", Name: repository},
			ImportPolicy: imagev1.TagImportPolicy{Insecure: stream.Annotations[imagev1.InsecureRepositoryAnnotation] == "true"},
		}
	}
	if isi.Spec.Repository == nil && len(isi.Spec.Images) == 0 {
		return nil
	}
	return isi
}

// scheduledTag: an importable tag with importPolicy.scheduled, except one pinned to a digest that has already
// been imported at its current generation (a digest cannot change, so it is only retried until it succeeds). A
// tag whose from cannot be parsed is skipped.
func scheduledTag(stream *imagev1.ImageStream, tag imagev1.TagReference) bool {
	if !tagImportable(tag) || !tag.ImportPolicy.Scheduled {
		return false
	}
	ref, err := imageref.Parse(tag.From.Name)
	if err != nil && tag.From.Name != "" {
		return false
	}
	return ref.ID == "" || !tagImported(stream, tag)
}

// tagImported: the tag's latest status event is from its current generation.
func tagImported(stream *imagev1.ImageStream, tag imagev1.TagReference) bool {
	events, ok := imageutil.StatusHasTag(stream, tag.Name)
	if !ok || tag.Generation == nil || len(events.Items) == 0 {
		return false
	}
	return events.Items[0].Generation == *tag.Generation
}

// needsScheduling: the stream has at least one tag to re-import periodically.
func needsScheduling(stream *imagev1.ImageStream) bool {
	for _, tag := range stream.Spec.Tags {
		if scheduledTag(stream, tag) {
			return true
		}
	}
	return false
}

// markScheduledTagsForImport bumps the generation of the stream's scheduled tags past anything observed, in
// place (pass a copy), so that buildImport picks exactly those tags.
func markScheduledTagsForImport(stream *imagev1.ImageStream) {
	next := stream.Generation + 1
	for i, tag := range stream.Spec.Tags {
		if scheduledTag(stream, tag) {
			generation := next
			stream.Spec.Tags[i].Generation = &generation
		}
	}
}
