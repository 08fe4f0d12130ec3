// Package image registers image.openshift.io/v1 for the sandbox's image API server.
//
// openshift/api ships external types only. The server keeps no internal types of its own: the v1 types are
// registered a second time under the internal version, so the apiserver's conversions are plain copies, and what
// OpenShift does in its internal-to-external conversion (tags kept in maps, listed sorted by name) is done by the
// strategies instead.
package image

import (
	imageapi "github.com/openshift/api/image"
	imagev1 "github.com/openshift/api/image/v1"
	"github.com/openshift/library-go/pkg/image/reference"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
)

// GroupName is the API group the server serves.
const GroupName = imageapi.GroupName

// DefaultImportMode is what an empty importPolicy.importMode becomes (images.config may change it on a cluster).
const DefaultImportMode = imagev1.ImportModeLegacy

var (
	// Scheme holds the image types, under v1 and under the internal version.
	Scheme = runtime.NewScheme()
	// Codecs encodes and decodes them.
	Codecs = serializer.NewCodecFactory(Scheme)
	// InternalGroupVersion is the hub the apiserver converts through.
	InternalGroupVersion = schema.GroupVersion{Group: GroupName, Version: runtime.APIVersionInternal}
)

func init() {
	utilruntime.Must(Install(Scheme))
	// What every API server registers for its discovery and status answers.
	metav1.AddToGroupVersion(Scheme, schema.GroupVersion{Version: "v1"})
	unversioned := schema.GroupVersion{Group: "", Version: "v1"}
	Scheme.AddUnversionedTypes(unversioned,
		&metav1.Status{}, &metav1.APIVersions{}, &metav1.APIGroupList{}, &metav1.APIGroup{}, &metav1.APIResourceList{})
}

// Resource is a resource of the image group.
func Resource(resource string) schema.GroupResource {
	return schema.GroupResource{Group: GroupName, Resource: resource}
}

// Kind is a kind of the image group.
func Kind(kind string) schema.GroupKind {
	return schema.GroupKind{Group: GroupName, Kind: kind}
}

// Install registers image.openshift.io/v1, its internal version, defaulting and field selectors in scheme.
func Install(scheme *runtime.Scheme) error {
	if err := imageapi.Install(scheme); err != nil {
		return err
	}
	scheme.AddKnownTypes(InternalGroupVersion,
		&imagev1.Image{},
		&imagev1.ImageList{},
		&imagev1.ImageStream{},
		&imagev1.ImageStreamList{},
		&imagev1.ImageStreamTag{},
		&imagev1.ImageStreamTagList{},
		&imagev1.ImageStreamImage{},
		&imagev1.ImageStreamImport{},
	)
	scheme.AddTypeDefaultingFunc(&imagev1.ImageStream{}, func(obj any) { DefaultImageStream(obj.(*imagev1.ImageStream)) })
	scheme.AddTypeDefaultingFunc(&imagev1.ImageStreamList{}, func(obj any) {
		list := obj.(*imagev1.ImageStreamList)
		for i := range list.Items {
			DefaultImageStream(&list.Items[i])
		}
	})
	scheme.AddTypeDefaultingFunc(&imagev1.ImageStreamTag{}, func(obj any) {
		if tag := obj.(*imagev1.ImageStreamTag).Tag; tag != nil {
			DefaultTagReference(tag)
		}
	})
	scheme.AddTypeDefaultingFunc(&imagev1.ImageStreamImport{}, func(obj any) {
		DefaultImageStreamImport(obj.(*imagev1.ImageStreamImport))
	})
	return scheme.AddFieldLabelConversionFunc(imagev1.GroupVersion.WithKind("ImageStream"), imageStreamFieldLabel)
}

// DefaultTagReference fills what OpenShift's v1 defaulting fills: a Source reference policy, the default import mode.
func DefaultTagReference(tag *imagev1.TagReference) {
	if tag.ReferencePolicy.Type == "" {
		tag.ReferencePolicy.Type = imagev1.SourceTagReferencePolicy
	}
	if tag.ImportPolicy.ImportMode == "" {
		tag.ImportPolicy.ImportMode = DefaultImportMode
	}
}

// DefaultImageStream defaults every spec tag.
func DefaultImageStream(stream *imagev1.ImageStream) {
	for i := range stream.Spec.Tags {
		DefaultTagReference(&stream.Spec.Tags[i])
	}
}

// DefaultImageStreamImport defaults the policies of every requested image and repository, and names the tag an
// image goes to after the tag of its source when none is given.
func DefaultImageStreamImport(isi *imagev1.ImageStreamImport) {
	for i := range isi.Spec.Images {
		spec := &isi.Spec.Images[i]
		if spec.To == nil {
			if ref, err := reference.Parse(spec.From.Name); err == nil && ref.Tag != "" {
				spec.To = &corev1.LocalObjectReference{Name: ref.Tag}
			}
		}
		if spec.ReferencePolicy.Type == "" {
			spec.ReferencePolicy.Type = imagev1.SourceTagReferencePolicy
		}
		if spec.ImportPolicy.ImportMode == "" {
			spec.ImportPolicy.ImportMode = DefaultImportMode
		}
	}
	if repository := isi.Spec.Repository; repository != nil {
		if repository.ReferencePolicy.Type == "" {
			repository.ReferencePolicy.Type = imagev1.SourceTagReferencePolicy
		}
		if repository.ImportPolicy.ImportMode == "" {
			repository.ImportPolicy.ImportMode = DefaultImportMode
		}
	}
}

func imageStreamFieldLabel(label, value string) (string, string, error) {
	switch label {
	case "metadata.name", "metadata.namespace", "spec.dockerImageRepository", "status.dockerImageRepository":
		return label, value, nil
	}
	return runtime.DefaultMetaV1FieldSelectorConversion(label, value)
}
