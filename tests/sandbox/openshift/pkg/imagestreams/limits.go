package imagestreams

import (
	"fmt"
	"sort"

	imagev1 "github.com/openshift/api/image/v1"
	"github.com/openshift/library-go/pkg/image/imageutil"
	"github.com/openshift/library-go/pkg/image/reference"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	utilerrors "k8s.io/apimachinery/pkg/util/errors"
	"k8s.io/apimachinery/pkg/util/sets"
)

// MaxLimits folds the openshift.io/ImageStream limits of a namespace's LimitRanges into the lowest maximum of each
// resource (openshift.io/images, openshift.io/image-tags).
func MaxLimits(ranges []*corev1.LimitRange) corev1.ResourceList {
	var limits corev1.ResourceList
	for _, limitRange := range ranges {
		for _, item := range limitRange.Spec.Limits {
			if item.Type != imagev1.LimitTypeImageStream {
				continue
			}
			for _, name := range []corev1.ResourceName{imagev1.ResourceImageStreamImages, imagev1.ResourceImageStreamTags} {
				maximum, ok := item.Max[name]
				if !ok {
					continue
				}
				if current, exists := limits[name]; !exists || current.Cmp(maximum) > 0 {
					if limits == nil {
						limits = corev1.ResourceList{}
					}
					limits[name] = maximum
				}
			}
		}
	}
	return limits
}

// Usage counts what a stream holds: distinct images its spec tags reference (openshift.io/image-tags) and distinct
// images in its status (openshift.io/images).
func Usage(stream *imagev1.ImageStream) (corev1.ResourceList, sets.Set[string], sets.Set[string]) {
	specRefs, statusRefs := sets.New[string](), sets.New[string]()
	if stream != nil {
		for _, tag := range stream.Spec.Tags {
			if tag.From == nil {
				continue
			}
			if ref, err := specReference(stream.Namespace, tag.From.Kind, tag.From.Namespace, tag.From.Name); err == nil {
				specRefs.Insert(ref)
			}
		}
		for _, history := range stream.Status.Tags {
			for _, event := range history.Items {
				if event.Image != "" {
					statusRefs.Insert(event.Image)
				}
			}
		}
	}
	return corev1.ResourceList{
		imagev1.ResourceImageStreamTags:   *resource.NewQuantity(int64(specRefs.Len()), resource.DecimalSI),
		imagev1.ResourceImageStreamImages: *resource.NewQuantity(int64(statusRefs.Len()), resource.DecimalSI),
	}, specRefs, statusRefs
}

func specReference(namespace, kind, fromNamespace, name string) (string, error) {
	switch kind {
	case "ImageStreamImage", "DockerImage":
		ref, err := reference.Parse(name)
		if err != nil {
			return "", err
		}
		if kind == "ImageStreamImage" {
			if ref.Namespace == "" {
				ref.Namespace = fromNamespace
			}
			if ref.Namespace == "" {
				ref.Namespace = namespace
			}
			if ref.ID == "" {
				return "", fmt.Errorf("missing id in ImageStreamImage reference %q", name)
			}
		} else {
			ref = ref.DockerClientDefaults()
		}
		return ref.DaemonMinimal().Exact(), nil
	case "ImageStreamTag":
		stream, tag, err := imageutil.ParseImageStreamTagName(name)
		if err != nil {
			return "", err
		}
		if fromNamespace != "" {
			namespace = fromNamespace
		}
		return namespace + "/" + imageutil.JoinImageStreamTag(stream, tag), nil
	}
	return "", fmt.Errorf("unsupported object reference kind %s", kind)
}

// VerifyLimits refuses a write that grows a stream past its namespace's limits. A write that adds no reference
// passes even when the stream is already over them.
func VerifyLimits(limits corev1.ResourceList, old, stream *imagev1.ImageStream) error {
	if len(limits) == 0 {
		return nil
	}
	_, oldSpec, oldStatus := Usage(old)
	usage, newSpec, newStatus := Usage(stream)
	if newSpec.Len() <= oldSpec.Len() && newStatus.Len() <= oldStatus.Len() &&
		newSpec.Difference(oldSpec).Len() == 0 && newStatus.Difference(oldStatus).Len() == 0 {
		return nil
	}
	names := make([]string, 0, len(limits))
	for name := range limits {
		names = append(names, string(name))
	}
	sort.Strings(names)
	var errs []error
	for _, name := range names {
		limit := limits[corev1.ResourceName(name)]
		if used, ok := usage[corev1.ResourceName(name)]; ok && used.Cmp(limit) > 0 {
			errs = append(errs, fmt.Errorf("requested usage of %s exceeds the maximum limit per %s (%s > %s)",
				name, imagev1.LimitTypeImageStream, used.String(), limit.String()))
		}
	}
	return utilerrors.NewAggregate(errs)
}
