package imagepullers

import (
	"context"
	"reflect"
	"testing"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes/fake"
)

func TestRoleBindingShape(t *testing.T) {
	want := &rbacv1.RoleBinding{
		ObjectMeta: metav1.ObjectMeta{
			Name:      "system:image-pullers",
			Namespace: "app",
			Annotations: map[string]string{
				"openshift.io/description": "Allows all pods in this namespace to pull images from this namespace.  It is auto-managed by a controller; remove subjects to disable.",
			},
		},
		RoleRef: rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "ClusterRole", Name: "system:image-puller"},
		Subjects: []rbacv1.Subject{
			{Kind: "Group", APIGroup: "rbac.authorization.k8s.io", Name: "system:serviceaccounts:app"},
		},
	}
	if got := RoleBinding("app"); !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v\nwant %+v", got, want)
	}
}

func startController(t *testing.T, objects ...runtime.Object) (*Controller, *fake.Clientset) {
	t.Helper()
	client := fake.NewClientset(objects...)
	factory := informers.NewSharedInformerFactory(client, 0)
	c := New(client, factory.Core().V1().Namespaces(), factory.Rbac().V1().RoleBindings())
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(func() { cancel(); factory.Shutdown() })
	factory.Start(ctx.Done())
	factory.WaitForCacheSync(ctx.Done())
	client.ClearActions()
	return c, client
}

func TestSyncCreatesTheBinding(t *testing.T) {
	c, client := startController(t, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "app"}})
	if err := c.sync(context.Background(), "app"); err != nil {
		t.Fatal(err)
	}
	got, err := client.RbacV1().RoleBindings("app").Get(context.Background(), RoleBindingName, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	want := RoleBinding("app")
	if !reflect.DeepEqual(got.Annotations, want.Annotations) || len(got.Labels) != 0 ||
		!reflect.DeepEqual(got.RoleRef, want.RoleRef) || !reflect.DeepEqual(got.Subjects, want.Subjects) {
		t.Errorf("created %+v", got)
	}
}

func TestSyncNeverRewritesAnEditedBinding(t *testing.T) {
	edited := RoleBinding("app")
	edited.Subjects = nil // "remove subjects to disable"
	c, client := startController(t, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "app"}}, edited)
	if err := c.sync(context.Background(), "app"); err != nil {
		t.Fatal(err)
	}
	if len(client.Actions()) != 0 {
		t.Errorf("unexpected actions %v", client.Actions())
	}
}

func TestSyncSkipsDeletingNamespaces(t *testing.T) {
	now := metav1.Now()
	c, client := startController(t, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "app", DeletionTimestamp: &now, Finalizers: []string{"kubernetes"}}})
	if err := c.sync(context.Background(), "app"); err != nil {
		t.Fatal(err)
	}
	if err := c.sync(context.Background(), "missing"); err != nil {
		t.Fatal(err)
	}
	if len(client.Actions()) != 0 {
		t.Errorf("unexpected actions %v", client.Actions())
	}
}
