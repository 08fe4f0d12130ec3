package imagestreams

import (
	"strings"
	"time"

	imagev1 "github.com/openshift/api/image/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Shared fixtures of the package's tests.

const (
	internalRegistry = "image-registry.openshift-image-registry.svc:5000"
)

// digest builds a sha256 image name whose hex part starts with prefix (padded with zeros to 64 characters).
func digest(prefix string) string {
	return "sha256:" + prefix + strings.Repeat("0", 64-len(prefix))
}

func gen(g int64) *int64 { return &g }

// at is a fixed timestamp, so events built with it compare equal.
func at(minute int) metav1.Time {
	return metav1.NewTime(time.Date(2024, 1, 1, 12, minute, 0, 0, time.UTC))
}

func newStream(namespace, name string, generation int64) *imagev1.ImageStream {
	return &imagev1.ImageStream{ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name, Generation: generation}}
}

func fromRef(kind, name string) *corev1.ObjectReference {
	return &corev1.ObjectReference{Kind: kind, Name: name}
}

func tagRef(name, kind, from string) imagev1.TagReference {
	return imagev1.TagReference{
		Name:            name,
		From:            fromRef(kind, from),
		ReferencePolicy: imagev1.TagReferencePolicy{Type: imagev1.SourceTagReferencePolicy},
	}
}

func withGeneration(tag imagev1.TagReference, g *int64) imagev1.TagReference {
	tag.Generation = g
	return tag
}

func withNamespace(tag imagev1.TagReference, namespace string) imagev1.TagReference {
	from := *tag.From
	from.Namespace = namespace
	tag.From = &from
	return tag
}

func asReference(tag imagev1.TagReference) imagev1.TagReference {
	tag.Reference = true
	return tag
}

func event(ref, image string, generation int64, created metav1.Time) imagev1.TagEvent {
	return imagev1.TagEvent{Created: created, DockerImageReference: ref, Image: image, Generation: generation}
}

func history(tag string, items ...imagev1.TagEvent) imagev1.NamedTagEventList {
	return imagev1.NamedTagEventList{Tag: tag, Items: items}
}

func failedCondition(generation int64) imagev1.TagEventCondition {
	return imagev1.TagEventCondition{
		Type:       imagev1.ImportSuccess,
		Status:     corev1.ConditionFalse,
		Reason:     "NotFound",
		Message:    "not found",
		Generation: generation,
	}
}

// internalPullSpec is the internal registry's pull spec of an image of namespace/name.
func internalPullSpec(namespace, name, image string) string {
	return internalRegistry + "/" + namespace + "/" + name + "@" + image
}
