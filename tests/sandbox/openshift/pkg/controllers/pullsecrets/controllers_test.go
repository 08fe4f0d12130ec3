package pullsecrets

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes/fake"
	clienttesting "k8s.io/client-go/testing"
)

// harness is the pull secret controllers over a fake clientset with started, synced informers.
type harness struct {
	client *fake.Clientset
	c      *Controller
}

func newHarness(t *testing.T, objects ...runtime.Object) *harness {
	t.Helper()
	client := fake.NewClientset(objects...)
	factory := informers.NewSharedInformerFactory(client, 0)
	c := New(client, factory, []string{"image-registry.openshift-image-registry.svc:5000"})
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(func() { cancel(); factory.Shutdown() })
	factory.Start(ctx.Done())
	factory.WaitForCacheSync(ctx.Done())
	client.ClearActions()
	return &harness{client: client, c: c}
}

// writes lists verb/resource[/subresource] of the write actions, in order.
func writes(actions []clienttesting.Action) []string {
	var out []string
	for _, a := range actions {
		if a.GetVerb() == "get" || a.GetVerb() == "list" || a.GetVerb() == "watch" {
			continue
		}
		w := a.GetVerb() + " " + a.GetResource().Resource
		if a.GetSubresource() != "" {
			w += "/" + a.GetSubresource()
		}
		out = append(out, w)
	}
	return out
}

func (h *harness) serviceAccount(t *testing.T, name string) *corev1.ServiceAccount {
	t.Helper()
	sa, err := h.client.CoreV1().ServiceAccounts("app").Get(context.Background(), name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return sa
}

func (h *harness) secret(t *testing.T, name string) *corev1.Secret {
	t.Helper()
	secret, err := h.client.CoreV1().Secrets("app").Get(context.Background(), name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return secret
}

func TestServiceAccountSyncLinksThenCreatesTheSecret(t *testing.T) {
	sa := serviceAccount("builder", []string{"company"}, nil, nil)
	h := newHarness(t, sa)
	if err := h.c.serviceAccounts.sync(context.Background(), "app/builder"); err != nil {
		t.Fatal(err)
	}
	if got := writes(h.client.Actions()); !slices.Equal(got, []string{"update serviceaccounts", "create secrets"}) {
		t.Fatalf("writes %v", got)
	}
	linked := h.serviceAccount(t, "builder")
	name := linked.Annotations[SecretRefAnnotation]
	if !strings.HasPrefix(name, "builder-dockercfg-") || len(name) != len("builder-dockercfg-")+5 {
		t.Fatalf("secret name %q", name)
	}
	if !slices.Equal(pullNames(linked), []string{"company", name}) || !slices.Equal(mountNames(linked), []string{name}) {
		t.Errorf("lists %v %v", pullNames(linked), mountNames(linked))
	}
	secret := h.secret(t, name)
	if secret.Type != corev1.SecretTypeDockercfg || string(secret.Data[corev1.DockerConfigKey]) != "{}" {
		t.Errorf("secret %+v", secret)
	}
	if secret.Annotations[ServiceAccountAnnotation] != "builder" || len(secret.Annotations) != 1 {
		t.Errorf("annotations %v", secret.Annotations)
	}
	if want := []metav1.OwnerReference{{APIVersion: "v1", Kind: "ServiceAccount", Name: "builder", UID: sa.UID}}; !slices.Equal(secret.OwnerReferences, want) {
		t.Errorf("owners %+v", secret.OwnerReferences)
	}
	for _, a := range h.client.Actions() {
		var fieldManager string
		switch a := a.(type) {
		case clienttesting.UpdateActionImpl:
			fieldManager = a.UpdateOptions.FieldManager
		case clienttesting.CreateActionImpl:
			fieldManager = a.CreateOptions.FieldManager
		default:
			continue
		}
		if fieldManager != serviceAccountFieldManager {
			t.Errorf("%s %s with field manager %q", a.GetVerb(), a.GetResource().Resource, fieldManager)
		}
	}
}

func TestServiceAccountSyncRelinksAndLeavesTheSecretAlone(t *testing.T) {
	// the user removed the managed secret from both lists; the secret is there and fine
	sa := serviceAccount("builder", []string{"company"}, nil, map[string]string{SecretRefAnnotation: "builder-dockercfg-abcde"})
	secret := dockercfgSecret("builder-dockercfg-abcde", map[string]string{ServiceAccountAnnotation: "builder"}, ownerReference(sa))
	h := newHarness(t, sa, secret)
	if err := h.c.serviceAccounts.sync(context.Background(), "app/builder"); err != nil {
		t.Fatal(err)
	}
	if got := writes(h.client.Actions()); !slices.Equal(got, []string{"update serviceaccounts"}) {
		t.Fatalf("writes %v", got)
	}
	linked := h.serviceAccount(t, "builder")
	if !slices.Equal(pullNames(linked), []string{"company", "builder-dockercfg-abcde"}) || !slices.Equal(mountNames(linked), []string{"builder-dockercfg-abcde"}) {
		t.Errorf("lists %v %v", pullNames(linked), mountNames(linked))
	}
}

func TestServiceAccountSyncAdoptsALegacySecret(t *testing.T) {
	sa := serviceAccount("deployer", []string{"deployer-dockercfg-old12"}, []string{"deployer-token-abcde"}, nil)
	legacy := dockercfgSecret("deployer-dockercfg-old12", legacyAnnotationsFor(sa))
	h := newHarness(t, sa, legacy)
	if err := h.c.serviceAccounts.sync(context.Background(), "app/deployer"); err != nil {
		t.Fatal(err)
	}
	if got := writes(h.client.Actions()); !slices.Equal(got, []string{"update serviceaccounts"}) {
		t.Fatalf("writes %v", got)
	}
	linked := h.serviceAccount(t, "deployer")
	if linked.Annotations[SecretRefAnnotation] != "deployer-dockercfg-old12" ||
		!slices.Equal(mountNames(linked), []string{"deployer-token-abcde", "deployer-dockercfg-old12"}) {
		t.Errorf("linked %+v", linked)
	}
}

// tokenReactor answers TokenRequests with a token valid for an hour from now, signed by key "k1".
func tokenReactor(requests *[]*authenticationv1.TokenRequest) clienttesting.ReactionFunc {
	return func(action clienttesting.Action) (bool, runtime.Object, error) {
		if action.GetSubresource() != "token" {
			return false, nil, nil
		}
		request := action.(clienttesting.CreateAction).GetObject().(*authenticationv1.TokenRequest).DeepCopy()
		*requests = append(*requests, request)
		now := time.Now().Truncate(time.Second)
		request.Status.Token = fakeToken("k1", now, now.Add(time.Hour))
		request.Status.ExpirationTimestamp = metav1.NewTime(now.Add(time.Hour))
		return true, request, nil
	}
}

func TestTokenSyncFillsTheSecret(t *testing.T) {
	sa := serviceAccount("builder", nil, nil, map[string]string{SecretRefAnnotation: "builder-dockercfg-abcde"})
	secret := dockercfgSecret("builder-dockercfg-abcde", map[string]string{ServiceAccountAnnotation: "builder"}, ownerReference(sa))
	secret.UID = "secret-uid"
	h := newHarness(t, sa, secret)
	var requests []*authenticationv1.TokenRequest
	h.client.PrependReactor("create", "serviceaccounts", tokenReactor(&requests))
	urls := []string{"172.30.0.10:5000", "image-registry.openshift-image-registry.svc:5000"}
	h.c.tokens.setRegistryURLs(urls)
	h.c.tokens.setKeyIDs([]string{"k1"})

	requeueAfter, err := h.c.tokens.sync(context.Background(), "app/builder-dockercfg-abcde")
	if err != nil {
		t.Fatal(err)
	}
	if requeueAfter < 35*time.Minute || requeueAfter > 36*time.Minute {
		t.Errorf("requeue after %v, want about 36m (60%% of an hour)", requeueAfter)
	}
	if len(requests) != 1 {
		t.Fatalf("%d token requests", len(requests))
	}
	bound := requests[0].Spec.BoundObjectRef
	if bound == nil || *bound != (authenticationv1.BoundObjectReference{APIVersion: "v1", Kind: "Secret", Name: "builder-dockercfg-abcde", UID: "secret-uid"}) {
		t.Errorf("bound to %+v", bound)
	}
	if got := writes(h.client.Actions()); !slices.Equal(got, []string{"create serviceaccounts/token", "update secrets"}) {
		t.Fatalf("writes %v", got)
	}
	filled := h.secret(t, "builder-dockercfg-abcde")
	if filled.Annotations[TokenTypeAnnotation] != TokenTypeBound || filled.Annotations[ServiceAccountAnnotation] != "builder" {
		t.Errorf("annotations %v", filled.Annotations)
	}
	var doc map[string]map[string]string
	if err := json.Unmarshal(filled.Data[corev1.DockerConfigKey], &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc) != 2 {
		t.Errorf("entries %v", doc)
	}
	auth, _ := base64.StdEncoding.DecodeString(doc["image-registry.openshift-image-registry.svc:5000"]["auth"])
	if !strings.HasPrefix(string(auth), "<token>:") {
		t.Errorf("auth %q", auth)
	}

	// once filled, a sync writes nothing and comes back when the token is due
	// the informer has to see the update before the next sync
	waitFor(t, func() bool {
		s, err := h.c.tokens.secrets.Secrets("app").Get("builder-dockercfg-abcde")
		return err == nil && s.Annotations[TokenTypeAnnotation] == TokenTypeBound
	})
	h.client.ClearActions()
	requeueAfter, err = h.c.tokens.sync(context.Background(), "app/builder-dockercfg-abcde")
	if err != nil {
		t.Fatal(err)
	}
	if got := writes(h.client.Actions()); len(got) != 0 {
		t.Errorf("valid secret rewritten: %v", got)
	}
	if requeueAfter <= 0 || requeueAfter > 36*time.Minute {
		t.Errorf("requeue after %v", requeueAfter)
	}

	// a change of registry URLs makes it invalid again
	h.c.tokens.setRegistryURLs(append(urls, "registry.example.com"))
	if _, err := h.c.tokens.sync(context.Background(), "app/builder-dockercfg-abcde"); err != nil {
		t.Fatal(err)
	}
	if len(requests) != 2 {
		t.Errorf("%d token requests after the URLs changed", len(requests))
	}
}

func TestTokenSyncRemovesOrphans(t *testing.T) {
	// the service account now names another managed secret: this one is unlinked and deleted
	sa := serviceAccount("builder", []string{"builder-dockercfg-old12", "builder-dockercfg-new34"}, []string{"builder-dockercfg-old12"},
		map[string]string{SecretRefAnnotation: "builder-dockercfg-new34"})
	orphan := dockercfgSecret("builder-dockercfg-old12", map[string]string{ServiceAccountAnnotation: "builder"}, ownerReference(sa))
	h := newHarness(t, sa, orphan)
	h.c.tokens.setRegistryURLs([]string{"r:5000"})
	h.c.tokens.setKeyIDs([]string{"k1"})
	if _, err := h.c.tokens.sync(context.Background(), "app/builder-dockercfg-old12"); err != nil {
		t.Fatal(err)
	}
	if got := writes(h.client.Actions()); !slices.Equal(got, []string{"update serviceaccounts", "delete secrets"}) {
		t.Fatalf("writes %v", got)
	}
	unlinked := h.serviceAccount(t, "builder")
	if !slices.Equal(pullNames(unlinked), []string{"builder-dockercfg-new34"}) || len(unlinked.Secrets) != 0 {
		t.Errorf("lists %v %v", pullNames(unlinked), mountNames(unlinked))
	}
}

func TestTokenControllerWaitsForObservations(t *testing.T) {
	h := newHarness(t)
	select {
	case <-h.c.tokens.ready:
		t.Fatal("ready before anything was observed")
	default:
	}
	h.c.tokens.setRegistryURLs(nil) // ignored
	h.c.tokens.setKeyIDs([]string{"k1"})
	select {
	case <-h.c.tokens.ready:
		t.Fatal("ready without registry URLs")
	default:
	}
	h.c.tokens.setRegistryURLs([]string{"r:5000"})
	select {
	case <-h.c.tokens.ready:
	default:
		t.Fatal("not ready with both")
	}
}

func waitFor(t *testing.T, condition func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !condition() {
		if time.Now().After(deadline) {
			t.Fatal("timed out")
		}
		time.Sleep(10 * time.Millisecond)
	}
}
