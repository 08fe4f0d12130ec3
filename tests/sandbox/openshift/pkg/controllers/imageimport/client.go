// Package imageimport imports the images image stream tags point at, like openshift-controller-manager's
// "openshift.io/image-import" controllers (pkg/image/controller in its source): one reacts to image stream
// changes, the other re-imports tags with importPolicy.scheduled on a timer. Both only POST
// ImageStreamImports; the image API server does the import and writes the stream's status.
package imageimport

import (
	"context"
	"errors"
	"fmt"
	"time"

	imagev1 "github.com/openshift/api/image/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/cache"
)

// NewRESTClient is a client for image.openshift.io/v1 speaking JSON (the group is served by an aggregated
// API server, which need not know protobuf).
func NewRESTClient(base *rest.Config) (rest.Interface, error) {
	scheme := runtime.NewScheme()
	if err := imagev1.Install(scheme); err != nil {
		return nil, err
	}
	cfg := rest.CopyConfig(base)
	cfg.GroupVersion = &imagev1.GroupVersion
	cfg.APIPath = "/apis"
	cfg.ContentType = runtime.ContentTypeJSON
	cfg.AcceptContentTypes = runtime.ContentTypeJSON
	cfg.NegotiatedSerializer = serializer.NewCodecFactory(scheme).WithoutConversion()
	return rest.RESTClientFor(cfg)
}

// NewImageStreamInformer watches image streams in all namespaces.
func NewImageStreamInformer(client rest.Interface, resync time.Duration) cache.SharedIndexInformer {
	lw := listThenWatch{cache.NewListWatchFromClient(client, "imagestreams", metav1.NamespaceAll, fields.Everything())}
	return cache.NewSharedIndexInformer(lw, &imagev1.ImageStream{}, resync, cache.Indexers{cache.NamespaceIndex: cache.MetaNamespaceIndexFunc})
}

// listThenWatch keeps the informer to a plain LIST then WATCH, rather than client-go's streaming list
// (sendInitialEvents), which not every aggregated API server implements.
type listThenWatch struct{ *cache.ListWatch }

// IsWatchListSemanticsUnSupported tells the reflector not to attempt a streaming list.
func (listThenWatch) IsWatchListSemanticsUnSupported() bool { return true }

// streamStore reads image streams from an informer's cache by namespace/name key.
type streamStore struct{ indexer cache.Indexer }

// get returns the cached stream (not a copy: do not modify), or nil when there is none.
func (s streamStore) get(key string) (*imagev1.ImageStream, error) {
	obj, exists, err := s.indexer.GetByKey(key)
	if err != nil || !exists {
		return nil, err
	}
	stream, ok := obj.(*imagev1.ImageStream)
	if !ok {
		return nil, fmt.Errorf("unexpected %T in the image stream cache", obj)
	}
	return stream, nil
}

// Importer posts an ImageStreamImport.
type Importer interface {
	Import(ctx context.Context, isi *imagev1.ImageStreamImport) (*imagev1.ImageStreamImport, error)
}

// RESTImporter posts ImageStreamImports with a client from NewRESTClient.
type RESTImporter struct{ Client rest.Interface }

// Import posts isi. The request may last as long as the registries take, up to an hour, as in OpenShift.
func (r RESTImporter) Import(ctx context.Context, isi *imagev1.ImageStreamImport) (*imagev1.ImageStreamImport, error) {
	result := &imagev1.ImageStreamImport{}
	err := r.Client.Post().
		Namespace(isi.Namespace).
		Resource("imagestreamimports").
		Body(isi).
		Timeout(time.Hour).
		Do(ctx).
		Into(result)
	return result, err
}

// ErrNotImportable is returned when the API server says the image stream to import into does not exist.
var ErrNotImportable = errors.New("requested image cannot be imported")

// importError turns the API server's "image stream not found" into ErrNotImportable.
func importError(err error) error {
	var status apierrors.APIStatus
	if apierrors.IsNotFound(err) && errors.As(err, &status) {
		if details := status.Status().Details; details != nil && details.Kind == "imageStream" {
			return ErrNotImportable
		}
	}
	return err
}
