package importer

import (
	"encoding/base64"
	"encoding/json"
	"testing"

	"github.com/openshift/library-go/pkg/image/reference"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// auth is one entry of a docker configuration: user name and password, or the base64 "auth" form.
type auth struct {
	Auth     string `json:"auth,omitempty"`
	Username string `json:"username,omitempty"`
	Password string `json:"password,omitempty"`
}

func basic(user, password string) auth { return auth{Username: user, Password: password} }

func encoded(user, password string) auth {
	return auth{Auth: base64.StdEncoding.EncodeToString([]byte(user + ":" + password))}
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	data, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// dockerConfigJSON is a kubernetes.io/dockerconfigjson secret ({"auths": {...}}).
func dockerConfigJSON(t *testing.T, name string, auths map[string]auth) corev1.Secret {
	return corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "ns"},
		Type:       corev1.SecretTypeDockerConfigJson,
		Data:       map[string][]byte{corev1.DockerConfigJsonKey: mustJSON(t, map[string]any{"auths": auths})},
	}
}

// dockercfg is a legacy kubernetes.io/dockercfg secret (the entries at the top level).
func dockercfg(t *testing.T, name string, auths map[string]auth) corev1.Secret {
	return corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "ns"},
		Type:       corev1.SecretTypeDockercfg,
		Data:       map[string][]byte{corev1.DockerConfigKey: mustJSON(t, auths)},
	}
}

func excluded(secret corev1.Secret, value string) corev1.Secret {
	secret.Annotations = map[string]string{ExcludeSecretAnnotation: value}
	return secret
}

func lookup(t *testing.T, ring *Keyring, pullSpec string) (Credential, bool) {
	t.Helper()
	ref, err := reference.Parse(pullSpec)
	if err != nil {
		t.Fatalf("%s: %v", pullSpec, err)
	}
	return ring.Lookup(ref)
}

// expect maps pull specs to the user name expected for them ("" for no credential).
type expect map[string]string

func checkLookups(t *testing.T, ring *Keyring, want expect) {
	t.Helper()
	for pullSpec, user := range want {
		credential, ok := lookup(t, ring, pullSpec)
		switch {
		case user == "" && ok:
			t.Errorf("%s: got credential %+v, want none", pullSpec, credential)
		case user != "" && !ok:
			t.Errorf("%s: no credential, want %s", pullSpec, user)
		case user != "" && credential.Username != user:
			t.Errorf("%s: credential of %q, want %q", pullSpec, credential.Username, user)
		}
	}
}

func TestKeyringSecretTypes(t *testing.T) {
	entries := map[string]auth{"quay.io": basic("quay-user", "quay-pass")}
	for _, tc := range []struct {
		name   string
		secret func(t *testing.T) corev1.Secret
		found  bool
	}{
		{"dockerconfigjson", func(t *testing.T) corev1.Secret { return dockerConfigJSON(t, "s", entries) }, true},
		{"dockercfg", func(t *testing.T) corev1.Secret { return dockercfg(t, "s", entries) }, true},
		{"excluded", func(t *testing.T) corev1.Secret { return excluded(dockerConfigJSON(t, "s", entries), "true") }, false},
		{"exclusion annotation not true", func(t *testing.T) corev1.Secret { return excluded(dockerConfigJSON(t, "s", entries), "false") }, true},
		{"excluded dockercfg", func(t *testing.T) corev1.Secret { return excluded(dockercfg(t, "s", entries), "true") }, false},
		{"opaque secret holding a docker configuration", func(t *testing.T) corev1.Secret {
			secret := dockerConfigJSON(t, "s", entries)
			secret.Type = corev1.SecretTypeOpaque
			return secret
		}, false},
		{"basic-auth secret", func(t *testing.T) corev1.Secret {
			return corev1.Secret{Type: corev1.SecretTypeBasicAuth, Data: map[string][]byte{"username": []byte("u"), "password": []byte("p")}}
		}, false},
		{"service account token holding a docker configuration", func(t *testing.T) corev1.Secret {
			secret := dockercfg(t, "s", entries)
			secret.Type = corev1.SecretTypeServiceAccountToken
			return secret
		}, false},
		{"dockerconfigjson type with the dockercfg key", func(t *testing.T) corev1.Secret {
			secret := dockercfg(t, "s", entries)
			secret.Type = corev1.SecretTypeDockerConfigJson
			return secret
		}, false},
		{"dockercfg type with the dockerconfigjson key", func(t *testing.T) corev1.Secret {
			secret := dockerConfigJSON(t, "s", entries)
			secret.Type = corev1.SecretTypeDockercfg
			return secret
		}, false},
		{"dockerconfigjson without data", func(t *testing.T) corev1.Secret {
			return corev1.Secret{Type: corev1.SecretTypeDockerConfigJson}
		}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ring := mustKeyring(t, []corev1.Secret{tc.secret(t)})
			credential, ok := lookup(t, ring, "quay.io/ns/app:1")
			if ok != tc.found {
				t.Fatalf("found = %v (%+v), want %v", ok, credential, tc.found)
			}
			if ok && credential != (Credential{Username: "quay-user", Password: "quay-pass"}) {
				t.Errorf("credential %+v", credential)
			}
		})
	}
}

func TestKeyringCredentialForms(t *testing.T) {
	ring := mustKeyring(t, []corev1.Secret{dockerConfigJSON(t, "s", map[string]auth{
		"plain.example.com":   basic("plain", "secret"),
		"encoded.example.com": encoded("encoded", "secret"),
		"both.example.com":    {Auth: base64.StdEncoding.EncodeToString([]byte("from-auth:auth-pass")), Username: "from-fields", Password: "fields-pass"},
		"colons.example.com":  encoded("user", "pa:ss:word"),
		"empty.example.com":   {},
	})})
	for pullSpec, want := range map[string]Credential{
		"plain.example.com/app":   {"plain", "secret"},
		"encoded.example.com/app": {"encoded", "secret"},
		"both.example.com/app":    {"from-auth", "auth-pass"}, // auth wins over the fields
		"colons.example.com/app":  {"user", "pa:ss:word"},     // the first colon splits
		"empty.example.com/app":   {},                         // an entry without credentials still matches
	} {
		credential, ok := lookup(t, ring, pullSpec)
		if !ok || credential != want {
			t.Errorf("%s: %+v, %v; want %+v", pullSpec, credential, ok, want)
		}
	}
}

func TestKeyringMatching(t *testing.T) {
	for _, tc := range []struct {
		name  string
		auths map[string]auth
		want  expect
	}{
		{
			name:  "host",
			auths: map[string]auth{"quay.io": basic("quay", "")},
			want: expect{
				"quay.io/ns/app:1":                 "quay",
				"quay.io/other/app@sha256:" + hex0: "quay",
				"quay.io/app":                      "quay",
				"ghcr.io/ns/app":                   "",
				"cdn.quay.io/ns/app":               "",
				"quay.io.evil.com/ns/app":          "",
			},
		},
		{
			name:  "scheme and trailing slash are ignored",
			auths: map[string]auth{"https://secure.example.com/": basic("secure", ""), "http://plain.example.com": basic("plain", "")},
			want:  expect{"secure.example.com/ns/app": "secure", "plain.example.com/ns/app": "plain"},
		},
		{
			name:  "the most specific path first",
			auths: map[string]auth{"quay.io": basic("host", ""), "quay.io/ns": basic("namespace", ""), "quay.io/ns/app": basic("repository", "")},
			want: expect{
				"quay.io/ns/app:1":   "repository",
				"quay.io/ns/other:1": "namespace",
				"quay.io/other/x:1":  "host",
				"quay.io/ns/app2:1":  "repository", // a path prefix, not a path segment
			},
		},
		{
			name:  "a path key matches nothing outside its path",
			auths: map[string]auth{"quay.io/ns": basic("namespace", "")},
			want:  expect{"quay.io/ns/app": "namespace", "quay.io/other/app": "", "quay.io/app": ""},
		},
		{
			name:  "the port must match",
			auths: map[string]auth{"registry.local:5000": basic("five", ""), "registry.local": basic("none", ""), "other.local:443": basic("explicit", "")},
			want: expect{
				"registry.local:5000/app": "five",
				"registry.local/app":      "none",
				"registry.local:6000/app": "",
				"other.local/app":         "",
				"other.local:443/app":     "explicit",
			},
		},
		{
			name:  "globs per host part",
			auths: map[string]auth{"*.example.com": basic("glob", ""), "reg?.local": basic("single", "")},
			want: expect{
				"mirror.example.com/app":      "glob",
				"a.b.example.com/app":         "",
				"example.com/app":             "",
				"mirror.example.org/app":      "",
				"reg1.local/app":              "", // keys are read as URLs: "?" starts a query, the key's host is "reg"
				"reg12.local/app":             "",
				"mirror.example.com:5000/app": "",
			},
		},
		{
			name:  "an exact host before a glob",
			auths: map[string]auth{"*.example.com": basic("glob", ""), "mirror.example.com": basic("exact", "")},
			want:  expect{"mirror.example.com/app": "exact", "other.example.com/app": "glob"},
		},
		{
			name:  "Docker Hub images under docker.io",
			auths: map[string]auth{"docker.io": basic("hub", "")},
			want: expect{
				"busybox":                   "hub",
				"library/busybox:1.36":      "hub",
				"docker.io/library/busybox": "hub",
				"someone/tool":              "hub",
			},
		},
		{
			name:  "Docker Hub by path",
			auths: map[string]auth{"docker.io/library": basic("library", ""), "docker.io": basic("hub", "")},
			want:  expect{"busybox": "library", "someone/tool": "hub"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			checkLookups(t, mustKeyring(t, []corev1.Secret{dockerConfigJSON(t, "s", tc.auths)}), tc.want)
		})
	}
}

const hex0 = "0000000000000000000000000000000000000000000000000000000000000000"

func TestKeyringSecretOrder(t *testing.T) {
	first := dockerConfigJSON(t, "first", map[string]auth{"quay.io": basic("first", ""), "ghcr.io": basic("first", "")})
	second := dockercfg(t, "second", map[string]auth{"quay.io": basic("second", ""), "quay.io/ns": basic("second-ns", ""), "registry.local": basic("second", "")})
	third := dockerConfigJSON(t, "third", map[string]auth{"https://quay.io/": basic("third", "")})

	checkLookups(t, mustKeyring(t, []corev1.Secret{first, second, third}), expect{
		"quay.io/other/app":   "first",     // equal keys: the first secret listed wins
		"quay.io/ns/app":      "second-ns", // a more specific key wins over the order of the secrets
		"ghcr.io/ns/app":      "first",
		"registry.local/app":  "second",
		"registry.local2/app": "",
	})
	checkLookups(t, mustKeyring(t, []corev1.Secret{third, second, first}), expect{
		"quay.io/other/app": "third", // the same key spelled with a scheme is the same key
		"quay.io/ns/app":    "second-ns",
	})
	checkLookups(t, mustKeyring(t, []corev1.Secret{excluded(first, "true"), second}), expect{
		"quay.io/other/app": "second",
		"ghcr.io/ns/app":    "",
	})
}

func TestEmptyKeyring(t *testing.T) {
	for _, ring := range []*Keyring{mustKeyring(t, nil), mustKeyring(t, []corev1.Secret{{Type: corev1.SecretTypeOpaque}})} {
		if credential, ok := lookup(t, ring, "quay.io/ns/app"); ok {
			t.Errorf("credential %+v from an empty keyring", credential)
		}
	}
}

func mustKeyring(t *testing.T, secrets []corev1.Secret) *Keyring {
	t.Helper()
	ring, err := KeyringFromSecrets(secrets)
	if err != nil {
		t.Fatalf("KeyringFromSecrets: %v", err)
	}
	return ring
}

func TestKeyringFollowsTheKubelet(t *testing.T) {
	hub := mustKeyring(t, []corev1.Secret{dockerConfigJSON(t, "hub", map[string]auth{
		"https://index.docker.io/v1/": {Username: "hubuser", Password: "hubpass"},
		"https://quay.io/v2/":         {Username: "quayuser", Password: "quaypass"},
		"registry.example.com/ns/":    {Username: "nsuser", Password: "nspass"},
	})})
	for _, tc := range []struct {
		image string
		want  string
	}{
		{"busybox", "hubuser"},
		{"docker.io/library/busybox:1", "hubuser"},
		{"someone/tool", "hubuser"},
		{"quay.io/ns/app", "quayuser"},
		{"registry.example.com/ns/app", "nsuser"},
		{"registry.example.com/nsfoo/app", ""}, // the key's trailing slash is part of its path
		{"ghcr.io/o/app", ""},
	} {
		ref, err := reference.Parse(tc.image)
		if err != nil {
			t.Fatal(err)
		}
		got, _ := hub.Lookup(ref)
		if got.Username != tc.want {
			t.Errorf("%s: credential of %q, want %q", tc.image, got.Username, tc.want)
		}
	}

	unpadded := base64.RawStdEncoding.EncodeToString([]byte("user:pas"))
	ring := mustKeyring(t, []corev1.Secret{dockerConfigJSON(t, "s", map[string]auth{"quay.io": {Auth: unpadded}})})
	ref, _ := reference.Parse("quay.io/a/b")
	if got, _ := ring.Lookup(ref); got != (Credential{"user", "pas"}) {
		t.Errorf("unpadded auth read as %+v", got)
	}

	noColon := base64.StdEncoding.EncodeToString([]byte("userpass"))
	if _, err := KeyringFromSecrets([]corev1.Secret{dockerConfigJSON(t, "s", map[string]auth{"quay.io": {Auth: noColon}})}); err == nil {
		t.Error("an auth without a colon must fail the keyring")
	}
	broken := corev1.Secret{Type: corev1.SecretTypeDockerConfigJson, Data: map[string][]byte{corev1.DockerConfigJsonKey: []byte("{")}}
	if _, err := KeyringFromSecrets([]corev1.Secret{broken}); err == nil {
		t.Error("a secret that is not JSON must fail the keyring")
	}
}
