package importer

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/distribution/distribution/v3"
	"github.com/distribution/distribution/v3/manifest/manifestlist"
	"github.com/distribution/distribution/v3/manifest/ocischema"
	"github.com/distribution/distribution/v3/manifest/schema2"
	"github.com/distribution/distribution/v3/registry/api/errcode"
	v2 "github.com/distribution/distribution/v3/registry/api/v2"
	"github.com/opencontainers/go-digest"
	"github.com/openshift/api/image/docker10"
	imagev1 "github.com/openshift/api/image/v1"
	"github.com/openshift/library-go/pkg/image/reference"
	"github.com/openshift/library-go/pkg/image/registryclient"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/openshift-ops/images/tests/sandbox/openshift/pkg/apis/image"
)

// staticCredentials answers every URL (the registry's and its token service's) with one credential.
type staticCredentials struct{ credential Credential }

func (s staticCredentials) Basic(*url.URL) (string, string) {
	return s.credential.Username, s.credential.Password
}
func (staticCredentials) RefreshToken(*url.URL, string) string     { return "" }
func (staticCredentials) SetRefreshToken(*url.URL, string, string) {}

// Importer reads images from registries.
type Importer struct {
	Transport         http.RoundTripper
	InsecureTransport http.RoundTripper
}

// Import reads the image ref names (its tag or digest) with the credential keyring gives for it. Errors are API
// status errors as OpenShift reports them (Unauthorized, NotFound, or an internal error naming the image).
func (imp *Importer) Import(ctx context.Context, ref reference.DockerImageReference, insecure bool, keyring *Keyring, mode imagev1.ImportModeType) (*imagev1.Image, error) {
	source := ref.DockerClientDefaults()
	client := registryclient.NewContext(imp.Transport, imp.InsecureTransport)
	if credential, ok := keyring.Lookup(ref); ok {
		client = client.WithCredentials(staticCredentials{credential})
	} else {
		client = client.WithCredentials(registryclient.NoCredentials)
	}
	repository, err := client.Repository(ctx, source.RegistryURL(), source.RepositoryName(), insecure)
	if err != nil {
		return nil, pingError(ref, insecure, err)
	}
	manifests, err := repository.Manifests(ctx)
	if err != nil {
		return nil, repositoryError(ref, err)
	}
	var manifest distribution.Manifest
	if ref.ID != "" {
		manifest, err = manifests.Get(ctx, digest.Digest(ref.ID))
	} else {
		tag := ref.Tag
		if tag == "" {
			tag = imagev1.DefaultImageTag
		}
		manifest, err = manifests.Get(ctx, "", distribution.WithTag(tag))
	}
	if err != nil {
		return nil, repositoryError(ref, err)
	}
	if mode != imagev1.ImportModePreserveOriginal {
		if manifest, err = platformManifest(ctx, manifests, manifest); err != nil {
			return nil, repositoryError(ref, err)
		}
	}
	mediaType, payload, err := manifest.Payload()
	if err != nil {
		return nil, apierrors.NewInternalError(err)
	}
	manifestDigest := digest.FromBytes(payload)
	pulled := source
	pulled.Tag, pulled.ID = "", manifestDigest.String()
	if ref.Registry == "" {
		pulled.Registry = ""
	}
	img := &imagev1.Image{
		ObjectMeta:                   metav1.ObjectMeta{Name: manifestDigest.String()},
		DockerImageReference:         pulled.Exact(),
		DockerImageManifestMediaType: mediaType,
		DockerImageManifest:          string(payload),
		DockerImageMetadataVersion:   "1.0",
	}
	configDescriptor, layers := describe(manifest)
	if configDescriptor != nil {
		config, err := repository.Blobs(ctx).Get(ctx, configDescriptor.Digest)
		if err != nil {
			return nil, repositoryError(ref, err)
		}
		img.DockerImageConfig = string(config)
		// Layers are listed from the base up, which OpenShift records on every image it fills.
		img.Annotations = map[string]string{imagev1.DockerImageLayersOrderAnnotation: imagev1.DockerImageLayersOrderAscending}
		size := configDescriptor.Size
		for _, layer := range layers {
			img.DockerImageLayers = append(img.DockerImageLayers, imagev1.ImageLayer{Name: layer.Digest.String(), LayerSize: layer.Size, MediaType: layer.MediaType})
			size += layer.Size
		}
		metadata, err := metadataFromConfig(config, configDescriptor.Digest.String(), size)
		if err != nil {
			return nil, apierrors.NewInternalError(err)
		}
		img.DockerImageMetadata = metadata
	}
	return img, nil
}

// platformManifest picks linux/amd64 from a manifest list or OCI index (Legacy import mode); other manifests pass
// through.
func platformManifest(ctx context.Context, manifests distribution.ManifestService, manifest distribution.Manifest) (distribution.Manifest, error) {
	var candidates []distribution.Descriptor
	switch typed := manifest.(type) {
	case *manifestlist.DeserializedManifestList:
		for _, entry := range typed.Manifests {
			if entry.Platform.OS == "linux" && entry.Platform.Architecture == "amd64" {
				candidates = append(candidates, entry.Descriptor)
			}
		}
	default:
		return manifest, nil
	}
	if len(candidates) == 0 {
		return nil, errors.New("the manifest list has no image for linux/amd64")
	}
	return manifests.Get(ctx, candidates[0].Digest)
}

func describe(manifest distribution.Manifest) (*distribution.Descriptor, []distribution.Descriptor) {
	switch typed := manifest.(type) {
	case *schema2.DeserializedManifest:
		return &typed.Config, typed.Layers
	case *ocischema.DeserializedManifest:
		return &typed.Config, typed.Layers
	}
	return nil, nil
}

// imageConfig is the part of an image configuration blob the metadata holds.
type imageConfig struct {
	Created       time.Time              `json:"created"`
	Author        string                 `json:"author"`
	Architecture  string                 `json:"architecture"`
	OS            string                 `json:"os"`
	DockerVersion string                 `json:"docker_version"`
	Config        *docker10.DockerConfig `json:"config"`
}

func metadataFromConfig(config []byte, id string, size int64) (runtime.RawExtension, error) {
	var parsed imageConfig
	if err := json.Unmarshal(config, &parsed); err != nil {
		return runtime.RawExtension{}, fmt.Errorf("the image configuration is not valid JSON: %w", err)
	}
	metadata := &docker10.DockerImage{
		TypeMeta:      metav1.TypeMeta{Kind: "DockerImage", APIVersion: "image.openshift.io/1.0"},
		ID:            id,
		Created:       metav1.NewTime(parsed.Created),
		Author:        parsed.Author,
		Architecture:  parsed.Architecture,
		DockerVersion: parsed.DockerVersion,
		Config:        parsed.Config,
		Size:          size,
	}
	raw, err := json.Marshal(metadata)
	if err != nil {
		return runtime.RawExtension{}, err
	}
	return runtime.RawExtension{Raw: raw}, nil
}

func isRegistryError(err error, code errcode.ErrorCode) bool {
	var single errcode.Error
	if errors.As(err, &single) && single.ErrorCode() == code {
		return true
	}
	var many errcode.Errors
	if errors.As(err, &many) {
		for _, inner := range many {
			if typed, ok := inner.(errcode.Error); ok && typed.ErrorCode() == code {
				return true
			}
		}
	}
	return false
}

func pingError(ref reference.DockerImageReference, insecure bool, err error) error {
	switch {
	case isRegistryError(err, errcode.ErrorCodeUnauthorized), strings.Contains(err.Error(), "unauthorized"):
		return apierrors.NewUnauthorized(fmt.Sprintf("you may not have access to the container image %q", ref.Exact()))
	}
	return apierrors.NewInternalError(fmt.Errorf("%s: %w", ref.Exact(), err))
}

func repositoryError(ref reference.DockerImageReference, err error) error {
	name := ref.Exact()
	switch {
	case isRegistryError(err, v2.ErrorCodeManifestUnknown):
		return apierrors.NewNotFound(image.Resource("dockerimage"), name)
	case isRegistryError(err, errcode.ErrorCodeUnauthorized), strings.HasSuffix(err.Error(), "no basic auth credentials"):
		return apierrors.NewUnauthorized(fmt.Sprintf("you may not have access to the container image %q", name))
	case strings.HasSuffix(err.Error(), "incorrect username or password"):
		return apierrors.NewUnauthorized(fmt.Sprintf("incorrect username or password for image %q", name))
	}
	return apierrors.NewInternalError(fmt.Errorf("%s: %w", name, err))
}
