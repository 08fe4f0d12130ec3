package pullsecrets

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes/fake"
)

func TestManagedSecretNames(t *testing.T) {
	if got := ManagedSecretNamePrefix("builder"); got != "builder-dockercfg-" {
		t.Errorf("short name prefix %q", got)
	}
	name := NewManagedSecretName("builder")
	if !strings.HasPrefix(name, "builder-dockercfg-") || len(name) != len("builder-dockercfg-")+5 {
		t.Errorf("generated %q", name)
	}

	// 47 characters still fit: 47 + len("-dockercfg-") = 58
	fits := strings.Repeat("a", 47)
	if got := ManagedSecretNamePrefix(fits); got != fits+"-dockercfg-" {
		t.Errorf("47 characters: %q", got)
	}
	// from 48 on, the name is cut to 38 characters followed by an 8 hex digit FNV-1a hash of the whole name
	long := strings.Repeat("b", 60)
	got := ManagedSecretNamePrefix(long)
	if len(got) != 58 || !strings.HasPrefix(got, strings.Repeat("b", 38)+"-") || !strings.HasSuffix(got, "-dockercfg-") {
		t.Errorf("long name prefix %q (%d characters)", got, len(got))
	}
	if generated := NewManagedSecretName(long); len(generated) != 63 {
		t.Errorf("long generated name %q has %d characters", generated, len(generated))
	}
}

func serviceAccount(name string, pull []string, mount []string, annotations map[string]string) *corev1.ServiceAccount {
	sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{
		Name: name, Namespace: "app", UID: types.UID("uid-" + name), Annotations: annotations,
	}}
	for _, p := range pull {
		sa.ImagePullSecrets = append(sa.ImagePullSecrets, corev1.LocalObjectReference{Name: p})
	}
	for _, m := range mount {
		sa.Secrets = append(sa.Secrets, corev1.ObjectReference{Name: m})
	}
	return sa
}

func refNames[T any](refs []T, name func(T) string) []string {
	out := []string{}
	for _, ref := range refs {
		out = append(out, name(ref))
	}
	return out
}

func pullNames(sa *corev1.ServiceAccount) []string {
	return refNames(sa.ImagePullSecrets, func(r corev1.LocalObjectReference) string { return r.Name })
}

func mountNames(sa *corev1.ServiceAccount) []string {
	return refNames(sa.Secrets, func(r corev1.ObjectReference) string { return r.Name })
}

func TestLinkManagedSecret(t *testing.T) {
	sa := serviceAccount("app", []string{"company", "other"}, []string{"token"}, nil)
	linked := linkManagedSecret(sa, "app-dockercfg-abcde")
	if linked == nil {
		t.Fatal("nothing to link")
	}
	if got := pullNames(linked); !slices.Equal(got, []string{"company", "other", "app-dockercfg-abcde"}) {
		t.Errorf("imagePullSecrets %v", got)
	}
	if got := mountNames(linked); !slices.Equal(got, []string{"token", "app-dockercfg-abcde"}) {
		t.Errorf("secrets %v", got)
	}
	if linked.Annotations[SecretRefAnnotation] != "app-dockercfg-abcde" {
		t.Errorf("annotations %v", linked.Annotations)
	}
	if sa.Annotations != nil || len(sa.ImagePullSecrets) != 2 {
		t.Error("the cached service account was modified")
	}
	if again := linkManagedSecret(linked, "app-dockercfg-abcde"); again != nil {
		t.Errorf("linked twice: %+v", again)
	}

	// a user removed it from imagePullSecrets only: it comes back at the end, the rest stays in place
	unlinked := linked.DeepCopy()
	unlinked.ImagePullSecrets = []corev1.LocalObjectReference{{Name: "company"}}
	relinked := linkManagedSecret(unlinked, "app-dockercfg-abcde")
	if got := pullNames(relinked); !slices.Equal(got, []string{"company", "app-dockercfg-abcde"}) {
		t.Errorf("relinked imagePullSecrets %v", got)
	}
	if got := mountNames(relinked); !slices.Equal(got, []string{"token", "app-dockercfg-abcde"}) {
		t.Errorf("relinked secrets %v", got)
	}
}

func dockercfgSecret(name string, annotations map[string]string, owners ...metav1.OwnerReference) *corev1.Secret {
	return &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "app", Annotations: annotations, OwnerReferences: owners},
		Type:       corev1.SecretTypeDockercfg,
		Data:       map[string][]byte{corev1.DockerConfigKey: []byte("{}")},
	}
}

func TestExistingManagedSecret(t *testing.T) {
	sa := serviceAccount("app", nil, nil, nil)
	for _, tc := range []struct {
		name    string
		secrets []*corev1.Secret
		want    string
	}{
		{"none", nil, ""},
		{"annotated", []*corev1.Secret{dockercfgSecret("x", map[string]string{ServiceAccountAnnotation: "app"})}, "x"},
		{"annotated for another", []*corev1.Secret{dockercfgSecret("x", map[string]string{ServiceAccountAnnotation: "other"}, ownerReference(sa))}, ""},
		{"owned, not annotated", []*corev1.Secret{dockercfgSecret("x", nil, ownerReference(sa))}, "x"},
		{"owned by an earlier namesake", []*corev1.Secret{dockercfgSecret("x", nil, metav1.OwnerReference{Name: "app", UID: "old"})}, ""},
		{"not dockercfg", []*corev1.Secret{{ObjectMeta: metav1.ObjectMeta{Name: "x", Annotations: map[string]string{ServiceAccountAnnotation: "app"}}}}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := existingManagedSecret(sa, tc.secrets); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func legacyAnnotationsFor(sa *corev1.ServiceAccount) map[string]string {
	return map[string]string{
		corev1.ServiceAccountNameKey:     sa.Name,
		corev1.ServiceAccountUIDKey:      string(sa.UID),
		legacyTokenSecretNameAnnotation:  sa.Name + "-token-abcde",
		legacyTokenSecretValueAnnotation: "",
	}
}

func TestLegacySecrets(t *testing.T) {
	sa := serviceAccount("app", nil, nil, nil)
	legacy := dockercfgSecret("app-dockercfg-old12", legacyAnnotationsFor(sa))
	if !isLegacySecret(legacy) || !isLegacySecretOf(legacy, sa) {
		t.Error("legacy secret not recognised")
	}
	if isLegacySecretOf(legacy, serviceAccount("other", nil, nil, nil)) {
		t.Error("legacy secret of app taken for other's")
	}
	partial := legacy.DeepCopy()
	delete(partial.Annotations, legacyTokenSecretValueAnnotation)
	if isLegacySecret(partial) {
		t.Error("secret missing an annotation taken for legacy")
	}
}

func TestAdoptSecret(t *testing.T) {
	sa := serviceAccount("app", nil, nil, nil)
	fine := dockercfgSecret("s", map[string]string{ServiceAccountAnnotation: "app"}, ownerReference(sa))
	if adoptSecret(sa, fine) != nil {
		t.Error("rewrote a secret that was fine")
	}
	stale := dockercfgSecret("s", nil, metav1.OwnerReference{APIVersion: "v1", Kind: "ServiceAccount", Name: "app", UID: "old"},
		metav1.OwnerReference{APIVersion: "v1", Kind: "ConfigMap", Name: "keep", UID: "cm"})
	stale.Data[corev1.DockerConfigKey] = []byte(`{"r":{"auth":"x"}}`)
	adopted := adoptSecret(sa, stale)
	if adopted == nil {
		t.Fatal("not adopted")
	}
	wantOwners := []metav1.OwnerReference{{APIVersion: "v1", Kind: "ConfigMap", Name: "keep", UID: "cm"}, ownerReference(sa)}
	if !reflect.DeepEqual(adopted.OwnerReferences, wantOwners) {
		t.Errorf("owners %+v", adopted.OwnerReferences)
	}
	if adopted.Annotations[ServiceAccountAnnotation] != "app" || string(adopted.Data[corev1.DockerConfigKey]) != `{"r":{"auth":"x"}}` {
		t.Errorf("adopted %+v", adopted)
	}
}

func TestServiceURLs(t *testing.T) {
	svc := func(ip string, port int32) *corev1.Service {
		s := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "image-registry", Namespace: "openshift-image-registry"}, Spec: corev1.ServiceSpec{ClusterIP: ip}}
		if port != 0 {
			s.Spec.Ports = []corev1.ServicePort{{Port: port}}
		}
		return s
	}
	for _, tc := range []struct {
		name string
		svc  *corev1.Service
		want []string
	}{
		{"ipv4", svc("172.30.0.10", 5000), []string{
			"image-registry.openshift-image-registry.svc:5000",
			"172.30.0.10:5000",
			"image-registry.openshift-image-registry.svc.cluster.local:5000",
		}},
		{"https port", svc("172.30.0.10", 443), []string{
			"image-registry.openshift-image-registry.svc:443",
			"172.30.0.10:443",
			"image-registry.openshift-image-registry.svc",
			"172.30.0.10",
			"image-registry.openshift-image-registry.svc.cluster.local:443",
			"image-registry.openshift-image-registry.svc.cluster.local",
		}},
		{"ipv6", svc("fd02::10", 5000), []string{
			"image-registry.openshift-image-registry.svc:5000",
			"image-registry.openshift-image-registry.svc.cluster.local:5000",
		}},
		{"headless", svc("None", 5000), nil},
		{"no ports", svc("172.30.0.10", 0), nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := serviceURLs(tc.svc); !slices.Equal(got, tc.want) {
				t.Errorf("got %v\nwant %v", got, tc.want)
			}
		})
	}
}

func TestRegistryURLs(t *testing.T) {
	client := fake.NewClientset()
	factory := informers.NewSharedInformerFactory(client, 0)
	services := factory.Core().V1().Services()
	_ = services.Informer().GetIndexer().Add(&corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: "image-registry", Namespace: "openshift-image-registry"},
		Spec:       corev1.ServiceSpec{ClusterIP: "172.30.0.10", Ports: []corev1.ServicePort{{Port: 5000}}},
	})
	got := registryURLs(services.Lister(), []string{"image-registry.openshift-image-registry.svc:5000", "registry.example.com"})
	want := []string{
		"172.30.0.10:5000",
		"image-registry.openshift-image-registry.svc.cluster.local:5000",
		"image-registry.openshift-image-registry.svc:5000",
		"registry.example.com",
	}
	if !slices.Equal(got, want) {
		t.Errorf("got %v\nwant %v", got, want)
	}
}

func TestKeyIDsOfPublicKeys(t *testing.T) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	pemData := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
	sum := sha256.Sum256(der)
	got, err := keyIDsOfPublicKeys(pemData)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{base64.RawURLEncoding.EncodeToString(sum[:])}; !slices.Equal(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
	if _, err := keyIDsOfPublicKeys(nil); err == nil {
		t.Error("no error without a key")
	}
}

// fakeToken is a JWT as the API server would sign it, with a nonsense signature.
func fakeToken(kid string, notBefore, expiry time.Time) string {
	segment := func(v any) string {
		raw, _ := json.Marshal(v)
		return base64.RawURLEncoding.EncodeToString(raw)
	}
	return segment(map[string]any{"alg": "RS256", "kid": kid}) + "." +
		segment(map[string]any{"sub": "system:serviceaccount:app:builder", "nbf": notBefore.Unix(), "exp": expiry.Unix()}) + ".c2ln"
}

func TestReadToken(t *testing.T) {
	nbf, exp := time.Unix(1700000000, 0), time.Unix(1700003600, 0)
	facts, err := readToken(fakeToken("k1", nbf, exp))
	if err != nil {
		t.Fatal(err)
	}
	if facts.keyID != "k1" || !facts.notBefore.Equal(nbf) || !facts.expiry.Equal(exp) {
		t.Errorf("read %+v", facts)
	}
	for _, bad := range []string{"", "a.b", "!!.e30.c2ln", "e30.e30.c2ln"} {
		if _, err := readToken(bad); err == nil {
			t.Errorf("%q read without error", bad)
		}
	}
}

func TestDockercfgDocument(t *testing.T) {
	data, err := dockercfg("TOKEN", []string{"b:5000", "a:5000"})
	if err != nil {
		t.Fatal(err)
	}
	auth := base64.StdEncoding.EncodeToString([]byte("<token>:TOKEN"))
	want := fmt.Sprintf(`{"a:5000":{"auth":%q},"b:5000":{"auth":%q}}`, auth, auth)
	if string(data) != want {
		t.Errorf("got %s\nwant %s", data, want)
	}
}

func TestDockercfgValid(t *testing.T) {
	now := time.Unix(1700001000, 0)
	nbf, exp := time.Unix(1700000000, 0), time.Unix(1700003600, 0) // refresh due at 1700002160
	urls := []string{"a:5000", "b:5000"}
	withData := func(data []byte) *corev1.Secret {
		s := dockercfgSecret("s", nil)
		s.Data[corev1.DockerConfigKey] = data
		return s
	}
	good, _ := dockercfg(fakeToken("k1", nbf, exp), urls)

	valid, refreshAt := dockercfgValid(withData(good), urls, []string{"k0", "k1"}, now)
	if !valid || !refreshAt.Equal(time.Unix(1700002160, 0)) {
		t.Errorf("valid=%v refreshAt=%v", valid, refreshAt)
	}

	oneURL, _ := dockercfg(fakeToken("k1", nbf, exp), urls[:1])
	otherURLs, _ := dockercfg(fakeToken("k1", nbf, exp), []string{"a:5000", "c:5000"})
	plain, _ := json.Marshal(map[string]map[string]string{"a:5000": {"username": "u", "password": fakeToken("k1", nbf, exp)}, "b:5000": {"password": fakeToken("k1", nbf, exp)}})
	for _, tc := range []struct {
		name   string
		secret *corev1.Secret
		keyIDs []string
		now    time.Time
		valid  bool
	}{
		{"empty document", withData([]byte("{}")), []string{"k1"}, now, false},
		{"missing key", &corev1.Secret{Type: corev1.SecretTypeDockercfg}, []string{"k1"}, now, false},
		{"wrong type", &corev1.Secret{Type: corev1.SecretTypeOpaque, Data: map[string][]byte{corev1.DockerConfigKey: good}}, []string{"k1"}, now, false},
		{"not JSON", withData([]byte("nope")), []string{"k1"}, now, false},
		{"a registry missing", withData(oneURL), []string{"k1"}, now, false},
		{"other registries", withData(otherURLs), []string{"k1"}, now, false},
		{"signed by a retired key", withData(good), []string{"k2"}, now, false},
		{"due for refresh", withData(good), []string{"k1"}, time.Unix(1700002161, 0), false},
		{"password fields instead of auth", withData(plain), []string{"k1"}, now, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if valid, _ := dockercfgValid(tc.secret, urls, tc.keyIDs, tc.now); valid != tc.valid {
				t.Errorf("valid=%v, want %v", valid, tc.valid)
			}
		})
	}
}

func TestRefreshTime(t *testing.T) {
	nbf := time.Unix(1000, 0)
	if got := refreshTime(nbf, nbf.Add(time.Hour)); !got.Equal(nbf.Add(36 * time.Minute)) {
		t.Errorf("refresh at %v", got)
	}
	if got := refreshTime(nbf, nbf.Add(-time.Hour)); !got.IsZero() {
		t.Errorf("negative validity refreshes at %v", got)
	}
}

func TestIsOrphaned(t *testing.T) {
	secret := dockercfgSecret("app-dockercfg-abcde", map[string]string{ServiceAccountAnnotation: "app"})
	for _, tc := range []struct {
		name string
		sa   *corev1.ServiceAccount
		want bool
	}{
		{"service account gone", nil, true},
		{"not linked yet", serviceAccount("app", nil, nil, nil), false},
		{"linked to it", serviceAccount("app", nil, nil, map[string]string{SecretRefAnnotation: "app-dockercfg-abcde"}), false},
		{"linked to another", serviceAccount("app", nil, nil, map[string]string{SecretRefAnnotation: "app-dockercfg-zzzzz"}), true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := isOrphaned(secret, tc.sa); got != tc.want {
				t.Errorf("got %v", got)
			}
		})
	}
}

func TestUnlinkSecret(t *testing.T) {
	sa := serviceAccount("app", []string{"a", "x", "b"}, []string{"x", "c"}, nil)
	unlinked := unlinkSecret(sa, "x")
	if !slices.Equal(pullNames(unlinked), []string{"a", "b"}) || !slices.Equal(mountNames(unlinked), []string{"c"}) {
		t.Errorf("unlinked %v %v", pullNames(unlinked), mountNames(unlinked))
	}
	if unlinkSecret(unlinked, "x") != nil {
		t.Error("unlinked twice")
	}
}

func TestLegacyPullSecretChange(t *testing.T) {
	secret := dockercfgSecret("s", map[string]string{legacyTokenSecretNameAnnotation: "s-token"})
	if !legacyPullSecretChange(secret) {
		t.Fatal("no change")
	}
	if secret.Annotations[TokenTypeAnnotation] != TokenTypeLegacy || !slices.Equal(secret.Finalizers, []string{legacyTokenFinalizer}) {
		t.Errorf("changed to %+v", secret.ObjectMeta)
	}
	if legacyPullSecretChange(secret) {
		t.Error("changed twice")
	}
	now := metav1.Now()
	secret.DeletionTimestamp = &now
	if !legacyPullSecretChange(secret) || len(secret.Finalizers) != 0 {
		t.Errorf("finalizer kept while deleting: %v", secret.Finalizers)
	}
}

func TestIsUnlabelledLegacyTokenSecret(t *testing.T) {
	secret := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Annotations: map[string]string{
			corev1.ServiceAccountNameKey: "builder",
			"kubernetes.io/created-by":   legacyTokenCreator,
		}},
		Type: corev1.SecretTypeServiceAccountToken,
	}
	if !isUnlabelledLegacyTokenSecret(secret) {
		t.Error("not recognised")
	}
	secret.Labels = map[string]string{legacyTokenLabel: "true"}
	if isUnlabelledLegacyTokenSecret(secret) {
		t.Error("labelled one recognised")
	}
}
