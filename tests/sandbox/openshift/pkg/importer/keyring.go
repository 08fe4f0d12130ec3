// Package importer imports images from registries into Image objects, as OpenShift's image import does: one
// credential chosen for the image from the namespace's pull secrets (kubelet keyring order), used for the registry
// and for any token service it sends the client to.
package importer

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net"
	"net/url"
	"path"
	"sort"
	"strings"

	"github.com/openshift/library-go/pkg/image/reference"
	corev1 "k8s.io/api/core/v1"
)

// ExcludeSecretAnnotation keeps a secret out of imports.
const ExcludeSecretAnnotation = "openshift.io/image.excludeSecret"

// dockerHubKey is the key Docker Hub credentials are filed under (`docker login` writes
// https://index.docker.io/v1/).
const dockerHubKey = "index.docker.io"

// Credential is a user name and password for a registry.
type Credential struct{ Username, Password string }

type keyEntry struct {
	key        string
	credential Credential
}

// Keyring finds the credential for an image, as the kubelet's keyring does: the most specific matching key first
// (keys sorted in reverse order), the first secret listed winning among equal keys, Docker Hub images falling
// back to the index.docker.io entry.
type Keyring struct{ entries []keyEntry }

type dockerConfigEntry struct {
	Auth     string `json:"auth"`
	Username string `json:"username"`
	Password string `json:"password"`
}

// KeyringFromSecrets reads the dockercfg and dockerconfigjson secrets that are not excluded (one without its data
// key is skipped). A secret that is not
// valid JSON, or an `auth` that is not `user:password` in base64, fails the whole keyring, as it does OpenShift's
// import.
func KeyringFromSecrets(secrets []corev1.Secret) (*Keyring, error) {
	ring := &Keyring{}
	seen := map[string]bool{}
	for _, secret := range secrets {
		if secret.Annotations[ExcludeSecretAnnotation] == "true" {
			continue
		}
		var auths map[string]dockerConfigEntry
		switch {
		case secret.Type == corev1.SecretTypeDockerConfigJson && len(secret.Data[corev1.DockerConfigJsonKey]) > 0:
			var document struct {
				Auths map[string]dockerConfigEntry `json:"auths"`
			}
			if err := json.Unmarshal(secret.Data[corev1.DockerConfigJsonKey], &document); err != nil {
				return nil, fmt.Errorf("secret %s/%s: %w", secret.Namespace, secret.Name, err)
			}
			auths = document.Auths
		case secret.Type == corev1.SecretTypeDockercfg && len(secret.Data[corev1.DockerConfigKey]) > 0:
			if err := json.Unmarshal(secret.Data[corev1.DockerConfigKey], &auths); err != nil {
				return nil, fmt.Errorf("secret %s/%s: %w", secret.Namespace, secret.Name, err)
			}
		default:
			continue
		}
		keys := make([]string, 0, len(auths))
		for key := range auths {
			keys = append(keys, key)
		}
		sort.Strings(keys)
		for _, key := range keys {
			entry := auths[key]
			credential := Credential{entry.Username, entry.Password}
			if entry.Auth != "" {
				username, password, err := decodeAuth(entry.Auth)
				if err != nil {
					return nil, fmt.Errorf("secret %s/%s, entry %q: %w", secret.Namespace, secret.Name, key, err)
				}
				credential = Credential{username, password}
			}
			effective, ok := effectiveKey(key)
			if !ok || seen[effective] {
				continue // an earlier secret's entry for the same key wins
			}
			seen[effective] = true
			ring.entries = append(ring.entries, keyEntry{key: effective, credential: credential})
		}
	}
	sort.SliceStable(ring.entries, func(i, j int) bool { return ring.entries[i].key > ring.entries[j].key })
	return ring, nil
}

// decodeAuth reads base64 `user:password`, padded or not.
func decodeAuth(field string) (string, string, error) {
	encoding := base64.RawStdEncoding
	if strings.HasSuffix(strings.TrimSpace(field), "=") {
		encoding = base64.StdEncoding
	}
	decoded, err := encoding.DecodeString(field)
	if err != nil {
		return "", "", err
	}
	username, password, ok := strings.Cut(string(decoded), ":")
	if !ok {
		return "", "", fmt.Errorf("auth is not base64 user:password")
	}
	return username, password, nil
}

// effectiveKey is the registry key as the kubelet files it: no scheme, the /v1/ or /v2/ API prefix dropped from its
// path.
func effectiveKey(key string) (string, bool) {
	if !strings.HasPrefix(key, "https://") && !strings.HasPrefix(key, "http://") {
		key = "https://" + key
	}
	parsed, err := url.Parse(key)
	if err != nil {
		return "", false
	}
	effectivePath := parsed.Path
	if strings.HasPrefix(effectivePath, "/v2/") || strings.HasPrefix(effectivePath, "/v1/") {
		effectivePath = effectivePath[3:]
	}
	if effectivePath == "" || effectivePath == "/" {
		return parsed.Host, true
	}
	return parsed.Host + effectivePath, true
}

// Lookup returns the credential for ref.
func (k *Keyring) Lookup(ref reference.DockerImageReference) (Credential, bool) {
	image := ref.DockerClientDefaults().String()
	for _, entry := range k.entries {
		if keyMatches(entry.key, image) {
			return entry.credential, true
		}
	}
	if isDockerHubImage(image) {
		for _, entry := range k.entries {
			if entry.key == dockerHubKey {
				return entry.credential, true
			}
		}
	}
	return Credential{}, false
}

// isDockerHubImage: a reference whose first component is docker.io, or no host at all.
func isDockerHubImage(image string) bool {
	first, _, hasPath := strings.Cut(image, "/")
	switch {
	case first == "":
		return false
	case !hasPath, first == "docker.io":
		return true
	}
	return !strings.ContainsAny(first, ".:")
}

// keyMatches: the host (a glob per dot-separated part) and port must match, and the key's path must be a prefix of
// the image's path.
func keyMatches(key, image string) bool {
	keyURL, err1 := url.Parse("https://" + key)
	imageURL, err2 := url.Parse("https://" + image)
	if err1 != nil || err2 != nil {
		return false
	}
	keyHost, keyPort := splitHostPort(keyURL.Host)
	imageHost, imagePort := splitHostPort(imageURL.Host)
	if keyPort != imagePort {
		return false
	}
	keyParts, imageParts := strings.Split(keyHost, "."), strings.Split(imageHost, ".")
	if len(keyParts) != len(imageParts) {
		return false
	}
	for i := range keyParts {
		if matched, err := path.Match(keyParts[i], imageParts[i]); err != nil || !matched {
			return false
		}
	}
	return strings.HasPrefix(imageURL.Path, keyURL.Path)
}

func splitHostPort(hostport string) (string, string) {
	host, port, err := net.SplitHostPort(hostport)
	if err != nil {
		return hostport, ""
	}
	return host, port
}
