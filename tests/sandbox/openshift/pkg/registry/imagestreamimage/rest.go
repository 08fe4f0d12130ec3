// Package imagestreamimage serves imagestreamimages: an image of a stream, named <stream>@<id> where the ID may be
// a unique digest prefix.
package imagestreamimage

import (
	"context"

	imagev1 "github.com/openshift/api/image/v1"
	"github.com/openshift/library-go/pkg/image/imageutil"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apiserver/pkg/registry/rest"

	"github.com/openshift-ops/images/tests/sandbox/openshift/pkg/apis/image"
)

// REST serves imagestreamimages.
type REST struct {
	Streams rest.Getter
	Images  rest.Getter
	rest.TableConvertor
}

var (
	_ rest.Getter               = &REST{}
	_ rest.Scoper               = &REST{}
	_ rest.SingularNameProvider = &REST{}
)

// NewREST serves images of the streams in streams.
func NewREST(streams, images rest.Getter) *REST {
	return &REST{Streams: streams, Images: images, TableConvertor: rest.NewDefaultTableConvertor(image.Resource("imagestreamimages"))}
}

func (r *REST) New() runtime.Object     { return &imagev1.ImageStreamImage{} }
func (r *REST) Destroy()                {}
func (r *REST) NamespaceScoped() bool   { return true }
func (r *REST) GetSingularName() string { return "imagestreamimage" }

// matchingImage is the image of the stream's histories that id (a digest or a prefix of one) names. Like
// OpenShift's, it does not refuse an ambiguous prefix: one of the matches is taken (here the last in sort order).
func matchingImage(stream *imagev1.ImageStream, id string) string {
	found := ""
	for _, history := range stream.Status.Tags {
		for _, event := range history.Items {
			if event.Image != "" && imageutil.DigestOrImageMatch(event.Image, id) && event.Image > found {
				found = event.Image
			}
		}
	}
	return found
}

// Get finds the image of the stream the ID names.
func (r *REST) Get(ctx context.Context, id string, _ *metav1.GetOptions) (runtime.Object, error) {
	streamName, imageID, ok := imageutil.SplitImageStreamImage(id)
	if !ok || streamName == "" || imageID == "" {
		return nil, apierrors.NewBadRequest("ImageStreamImages must be retrieved with <name>@<id>")
	}
	obj, err := r.Streams.Get(ctx, streamName, &metav1.GetOptions{})
	if err != nil {
		return nil, err
	}
	stream := obj.(*imagev1.ImageStream)
	imageName := matchingImage(stream, imageID)
	if imageName == "" {
		return nil, apierrors.NewNotFound(image.Resource("imagestreamimage"), id)
	}
	found, err := r.Images.Get(ctx, imageName, &metav1.GetOptions{})
	if err != nil {
		return nil, err
	}
	img := found.(*imagev1.Image).DeepCopy()
	img.TypeMeta = metav1.TypeMeta{} // embedded: OpenShift's answer has no kind of its own there
	img.DockerImageManifest = ""
	img.DockerImageConfig = ""
	return &imagev1.ImageStreamImage{
		ObjectMeta: metav1.ObjectMeta{
			Namespace:         stream.Namespace,
			Name:              imageutil.JoinImageStreamImage(streamName, imageID), // the ID as asked, prefix or not
			CreationTimestamp: img.CreationTimestamp,
			Annotations:       stream.Annotations,
		},
		Image: *img,
	}, nil
}
