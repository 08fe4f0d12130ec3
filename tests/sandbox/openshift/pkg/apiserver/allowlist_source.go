package apiserver

// The registry allowlist from a cache of images.config.openshift.io/cluster, so an image stream write costs no
// request to kube-apiserver (openshift-apiserver reads it from its static config, which the operator re-renders).

import (
	"context"
	"fmt"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/dynamic/dynamicinformer"
	"k8s.io/client-go/tools/cache"

	"github.com/openshift-ops/images/tests/sandbox/openshift/pkg/imagestreams"
)

var imagesConfig = schema.GroupVersionResource{Group: "config.openshift.io", Version: "v1", Resource: "images"}

// imagesConfigName is the one images.config object the cluster reads.
const imagesConfigName = "cluster"

// newImagesConfigInformers watches images.config.openshift.io/cluster alone.
func newImagesConfigInformers(client dynamic.Interface, resync time.Duration) dynamicinformer.DynamicSharedInformerFactory {
	onlyCluster := func(options *metav1.ListOptions) {
		options.FieldSelector = fields.OneTermEqualSelector("metadata.name", imagesConfigName).String()
	}
	return dynamicinformer.NewFilteredDynamicSharedInformerFactory(client, resync, metav1.NamespaceAll, onlyCluster)
}

// allowlistSource answers Allowlist from an informer's cache of images.config.openshift.io.
type allowlistSource struct {
	lister           cache.GenericLister
	synced           cache.InformerSynced
	internalRegistry string
}

// newAllowlistSource registers the images.config informer with factory; start the factory afterwards.
func newAllowlistSource(factory dynamicinformer.DynamicSharedInformerFactory, internalRegistry string) *allowlistSource {
	informer := factory.ForResource(imagesConfig)
	return &allowlistSource{
		lister:           informer.Lister(),
		synced:           informer.Informer().HasSynced,
		internalRegistry: internalRegistry,
	}
}

// Allowlist is spec.allowedRegistriesForImport of the cached images.config.openshift.io/cluster. With no such
// object every registry is allowed, as cluster-openshift-apiserver-operator then renders no allowlist into
// openshift-apiserver's config. Until the cache has synced (the post-start hook waits for it, but the server
// listens before its hooks finish) the write waits, at most as long as the request may.
func (s *allowlistSource) Allowlist(ctx context.Context) (*imagestreams.Allowlist, error) {
	if !s.synced() {
		poll := func(context.Context) (bool, error) { return s.synced(), nil }
		if err := wait.PollUntilContextCancel(ctx, 50*time.Millisecond, true, poll); err != nil {
			return nil, fmt.Errorf("images.config.openshift.io/%s is not read yet: %w", imagesConfigName, err)
		}
	}
	cached, err := s.lister.Get(imagesConfigName)
	if apierrors.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading images.config.openshift.io/%s from the cache: %w", imagesConfigName, err)
	}
	config, ok := cached.(*unstructured.Unstructured)
	if !ok {
		return nil, fmt.Errorf("images.config.openshift.io/%s: unexpected cached type %T", imagesConfigName, cached)
	}
	return allowlistFrom(config, s.internalRegistry)
}

// allowlistFrom reads spec.allowedRegistriesForImport out of an images.config object.
func allowlistFrom(config *unstructured.Unstructured, internalRegistry string) (*imagestreams.Allowlist, error) {
	entries, _, err := unstructured.NestedSlice(config.Object, "spec", "allowedRegistriesForImport")
	if err != nil {
		return nil, fmt.Errorf("images.config.openshift.io/%s: %w", imagesConfigName, err)
	}
	var allowed []imagestreams.AllowedRegistry
	for _, entry := range entries {
		item, ok := entry.(map[string]any)
		if !ok {
			continue
		}
		domain, _ := item["domainName"].(string)
		insecure, _ := item["insecure"].(bool)
		allowed = append(allowed, imagestreams.AllowedRegistry{DomainName: domain, Insecure: insecure})
	}
	return imagestreams.NewAllowlist(allowed, internalRegistry)
}
