// Package apiserver assembles the sandbox's image API server: image.openshift.io/v1 on etcd, aggregated behind
// kube-apiserver, with authentication and authorization delegated to it.
package apiserver

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net/http"
	"os"
	"time"

	imagev1 "github.com/openshift/api/image/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	openapinamer "k8s.io/apiserver/pkg/endpoints/openapi"
	genericregistry "k8s.io/apiserver/pkg/registry/generic/registry"
	"k8s.io/apiserver/pkg/registry/rest"
	genericapiserver "k8s.io/apiserver/pkg/server"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"

	"github.com/openshift-ops/images/tests/sandbox/openshift/pkg/apis/image"
	"github.com/openshift-ops/images/tests/sandbox/openshift/pkg/imagestreams"
	"github.com/openshift-ops/images/tests/sandbox/openshift/pkg/importer"
	imagestore "github.com/openshift-ops/images/tests/sandbox/openshift/pkg/registry/image"
	"github.com/openshift-ops/images/tests/sandbox/openshift/pkg/registry/imagestream"
	"github.com/openshift-ops/images/tests/sandbox/openshift/pkg/registry/imagestreamimage"
	"github.com/openshift-ops/images/tests/sandbox/openshift/pkg/registry/imagestreamimport"
	"github.com/openshift-ops/images/tests/sandbox/openshift/pkg/registry/imagestreamtag"
)

// ExtraConfig is what the image API needs beyond a generic API server.
type ExtraConfig struct {
	// InternalRegistry is the integrated registry's host name (status.dockerImageRepository, dockercfg keys).
	InternalRegistry string
	// Kube is the server's own client (SubjectAccessReviews, secrets, LimitRanges).
	Kube kubernetes.Interface
	// Dynamic watches images.config.openshift.io/cluster.
	Dynamic dynamic.Interface
	// RegistryCAFile is trusted for imports besides the system pool (empty: the system pool only).
	RegistryCAFile string
}

// Config is the complete configuration.
type Config struct {
	Generic *genericapiserver.RecommendedConfig
	Extra   ExtraConfig
}

// ConfigureOpenAPI sets the OpenAPI v2 and v3 documents from openshift/api's definitions.
func ConfigureOpenAPI(config *genericapiserver.RecommendedConfig) {
	namer := openapinamer.NewDefinitionNamer(image.Scheme)
	config.OpenAPIConfig = genericapiserver.DefaultOpenAPIConfig(openAPIDefinitions, namer)
	config.OpenAPIConfig.Info.Title = "OpenShift image API (sandbox)"
	config.OpenAPIConfig.Info.Version = "v1"
	config.OpenAPIV3Config = genericapiserver.DefaultOpenAPIV3Config(openAPIDefinitions, namer)
	config.OpenAPIV3Config.Info.Title = "OpenShift image API (sandbox)"
	config.OpenAPIV3Config.Info.Version = "v1"
}

// clusterPolicy reads the allowlist and the limits from informers' caches: a write costs no request.
type clusterPolicy struct {
	*allowlistSource
	limitRanges corelisters.LimitRangeLister
}

func (p *clusterPolicy) Limits(namespace string) (corev1.ResourceList, error) {
	ranges, err := p.limitRanges.LimitRanges(namespace).List(labels.Everything())
	if err != nil {
		return nil, err
	}
	return imagestreams.MaxLimits(ranges), nil
}

func importTransport(caFile string) (http.RoundTripper, http.RoundTripper, error) {
	pool, err := x509.SystemCertPool()
	if err != nil {
		pool = x509.NewCertPool()
	}
	if caFile != "" {
		pem, err := os.ReadFile(caFile)
		if err != nil {
			return nil, nil, err
		}
		if !pool.AppendCertsFromPEM(pem) {
			return nil, nil, fmt.Errorf("%s holds no PEM certificate", caFile)
		}
	}
	secure := http.DefaultTransport.(*http.Transport).Clone()
	secure.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	secure.ResponseHeaderTimeout = 30 * time.Second
	insecure := http.DefaultTransport.(*http.Transport).Clone()
	insecure.TLSClientConfig = &tls.Config{InsecureSkipVerify: true} //nolint:gosec // only for tags marked insecure
	return secure, insecure, nil
}

// named gives the image stream store the short name and category OpenShift's has (`kubectl get is`, `get all`).
type named struct {
	*genericregistry.Store
	shortNames, categories []string
}

func (n *named) ShortNames() []string { return n.shortNames }
func (n *named) Categories() []string { return n.categories }

type namedTags struct{ *imagestreamtag.REST }

func (*namedTags) ShortNames() []string { return []string{"istag"} }

type namedImages struct{ *imagestreamimage.REST }

func (*namedImages) ShortNames() []string { return []string{"isimage"} }

// New builds the server with its storage installed.
func (c *Config) New() (*genericapiserver.GenericAPIServer, error) {
	server, err := c.Generic.Complete().New("sandbox-openshift-apiserver", genericapiserver.NewEmptyDelegate())
	if err != nil {
		return nil, err
	}
	kubeInformers := informers.NewSharedInformerFactory(c.Extra.Kube, 10*time.Minute)
	configInformers := newImagesConfigInformers(c.Extra.Dynamic, 10*time.Minute)
	policy := &clusterPolicy{
		allowlistSource: newAllowlistSource(configInformers, c.Extra.InternalRegistry),
		limitRanges:     kubeInformers.Core().V1().LimitRanges().Lister(),
	}
	// /readyz fails until this hook returns, and the launcher waits for /readyz.
	server.AddPostStartHookOrDie("image-api-informers", func(hook genericapiserver.PostStartHookContext) error {
		kubeInformers.Start(hook.Done())
		configInformers.Start(hook.Done())
		kubeInformers.WaitForCacheSync(hook.Done())
		configInformers.WaitForCacheSync(hook.Done())
		return nil
	})

	optsGetter := c.Generic.RESTOptionsGetter
	strategy := imagestream.NewStrategy(c.Extra.InternalRegistry, c.Extra.Kube.AuthorizationV1().SubjectAccessReviews(), policy)
	streams, err := imagestream.NewStorage(optsGetter, strategy)
	if err != nil {
		return nil, err
	}
	images, err := imagestore.NewStorage(optsGetter)
	if err != nil {
		return nil, err
	}
	secure, insecure, err := importTransport(c.Extra.RegistryCAFile)
	if err != nil {
		return nil, err
	}
	storage := map[string]rest.Storage{
		"imagestreams":        &named{streams.Streams, []string{"is"}, []string{"all"}},
		"imagestreams/status": streams.Status,
		"images":              images,
		"imagestreamtags":     &namedTags{imagestreamtag.NewREST(streams.Streams, streams.Internal, images)},
		"imagestreamimages":   &namedImages{imagestreamimage.NewREST(streams.Streams, images)},
		"imagestreamimports": &imagestreamimport.REST{
			Streams:  streams,
			Images:   images,
			Kube:     c.Extra.Kube,
			Importer: &importer.Importer{Transport: secure, InsecureTransport: insecure},
		},
	}
	group := genericapiserver.NewDefaultAPIGroupInfo(image.GroupName, image.Scheme, metav1.ParameterCodec, image.Codecs)
	group.VersionedResourcesStorageMap[imagev1.GroupVersion.Version] = storage
	if err := server.InstallAPIGroup(&group); err != nil {
		return nil, err
	}
	return server, nil
}
