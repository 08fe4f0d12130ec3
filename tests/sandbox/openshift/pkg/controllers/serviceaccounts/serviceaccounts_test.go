package serviceaccounts

import (
	"context"
	"slices"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes/fake"
	clienttesting "k8s.io/client-go/testing"
)

func namespace(name string, phase corev1.NamespacePhase) *corev1.Namespace {
	return &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}, Status: corev1.NamespaceStatus{Phase: phase}}
}

func TestMissingServiceAccounts(t *testing.T) {
	existing := map[string]bool{"app/builder": true}
	exists := func(ns, name string) bool { return existing[ns+"/"+name] }
	for _, tc := range []struct {
		name  string
		ns    *corev1.Namespace
		names []string
		want  []string
	}{
		{"active, one there", namespace("app", corev1.NamespaceActive), DefaultNames, []string{"deployer"}},
		{"active, none there", namespace("other", corev1.NamespaceActive), DefaultNames, []string{"builder", "deployer"}},
		{"terminating", namespace("other", corev1.NamespaceTerminating), DefaultNames, nil},
		{"no phase yet", namespace("other", ""), DefaultNames, nil},
		{"default is kube-controller-manager's", namespace("other", corev1.NamespaceActive), []string{"default", "builder"}, []string{"builder"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := missingServiceAccounts(tc.ns, tc.names, exists); !slices.Equal(got, tc.want) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}

func startController(t *testing.T, objects ...runtime.Object) (*Controller, *fake.Clientset) {
	t.Helper()
	client := fake.NewClientset(objects...)
	factory := informers.NewSharedInformerFactory(client, 0)
	c := New(client, factory.Core().V1().Namespaces(), factory.Core().V1().ServiceAccounts(), DefaultNames)
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(func() { cancel(); factory.Shutdown() })
	factory.Start(ctx.Done())
	factory.WaitForCacheSync(ctx.Done())
	client.ClearActions()
	return c, client
}

func createdNames(actions []clienttesting.Action) []string {
	var names []string
	for _, action := range actions {
		if create, ok := action.(clienttesting.CreateAction); ok && action.GetResource().Resource == "serviceaccounts" {
			names = append(names, create.GetObject().(*corev1.ServiceAccount).Name)
		}
	}
	return names
}

func TestSyncCreatesOnlyMissing(t *testing.T) {
	c, client := startController(t,
		namespace("app", corev1.NamespaceActive),
		&corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "deployer", Namespace: "app", Labels: map[string]string{"edited": "yes"}}},
	)
	if err := c.sync(context.Background(), "app"); err != nil {
		t.Fatal(err)
	}
	if got := createdNames(client.Actions()); !slices.Equal(got, []string{"builder"}) {
		t.Errorf("created %v, want [builder]", got)
	}
	sa, err := client.CoreV1().ServiceAccounts("app").Get(context.Background(), "builder", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(sa.Labels)+len(sa.Annotations)+len(sa.Secrets)+len(sa.ImagePullSecrets) != 0 {
		t.Errorf("builder is not a bare service account: %+v", sa)
	}
}

func TestSyncLeavesTerminatingAndUnknownNamespacesAlone(t *testing.T) {
	c, client := startController(t, namespace("gone", corev1.NamespaceTerminating))
	for _, ns := range []string{"gone", "never-existed"} {
		if err := c.sync(context.Background(), ns); err != nil {
			t.Fatal(err)
		}
	}
	if len(client.Actions()) != 0 {
		t.Errorf("unexpected actions %v", client.Actions())
	}
}
