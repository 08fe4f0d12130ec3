// Package imagepullers gives every namespace the RoleBinding that lets its own service accounts pull its
// images, like openshift-controller-manager's "openshift.io/image-puller-rolebindings" controller.
package imagepullers

import (
	"context"

	"github.com/openshift/api/annotations"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apiserver/pkg/authentication/serviceaccount"
	coreinformers "k8s.io/client-go/informers/core/v1"
	rbacinformers "k8s.io/client-go/informers/rbac/v1"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"
	rbaclisters "k8s.io/client-go/listers/rbac/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/workqueue"
	"k8s.io/klog/v2"

	"github.com/openshift-ops/images/tests/sandbox/openshift/pkg/controllers/internal/worker"
)

const (
	// Name is the controller's name in openshift-controller-manager's configuration.
	Name = "openshift.io/image-puller-rolebindings"

	// RoleBindingName is the binding made in every namespace.
	RoleBindingName = "system:image-pullers"
	// ClusterRoleName is the role it grants.
	ClusterRoleName = "system:image-puller"

	description = "Allows all pods in this namespace to pull images from this namespace.  " +
		"It is auto-managed by a controller; remove subjects to disable."
)

// RoleBinding is the binding as OpenShift creates it: the ClusterRole system:image-puller for the group of the
// namespace's service accounts, with a description and no labels.
func RoleBinding(namespace string) *rbacv1.RoleBinding {
	return &rbacv1.RoleBinding{
		ObjectMeta: metav1.ObjectMeta{
			Name:        RoleBindingName,
			Namespace:   namespace,
			Annotations: map[string]string{annotations.OpenShiftDescription: description},
		},
		RoleRef: rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: ClusterRoleName},
		Subjects: []rbacv1.Subject{
			{Kind: rbacv1.GroupKind, APIGroup: rbacv1.GroupName, Name: serviceaccount.MakeNamespaceGroupName(namespace)},
		},
	}
}

// Controller creates the binding once per namespace and again after it is deleted. An existing binding of that
// name is never looked into: edits (e.g. removing subjects to disable it) are the user's.
type Controller struct {
	client       kubernetes.Interface
	namespaces   corelisters.NamespaceLister
	roleBindings rbaclisters.RoleBindingLister
	synced       []cache.InformerSynced
	queue        workqueue.TypedRateLimitingInterface[string]
}

// New wires the controller to the namespace and RoleBinding informers; queue keys are namespace names.
func New(client kubernetes.Interface, namespaces coreinformers.NamespaceInformer, roleBindings rbacinformers.RoleBindingInformer) *Controller {
	c := &Controller{
		client:       client,
		namespaces:   namespaces.Lister(),
		roleBindings: roleBindings.Lister(),
		synced:       []cache.InformerSynced{namespaces.Informer().HasSynced, roleBindings.Informer().HasSynced},
		queue:        worker.NewQueue("ImagePullerRoleBindingController"),
	}
	// Only namespace creation and the binding's deletion matter; namespace updates and resyncs do not.
	_, _ = namespaces.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc: func(obj any) {
			if ns, ok := obj.(*corev1.Namespace); ok {
				c.queue.Add(ns.Name)
			}
		},
	})
	_, _ = roleBindings.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		DeleteFunc: func(obj any) {
			if rb, ok := worker.ObjectOf(obj).(*rbacv1.RoleBinding); ok && rb.Name == RoleBindingName {
				c.queue.Add(rb.Namespace)
			}
		},
	})
	return c
}

// Run blocks until ctx is done.
func (c *Controller) Run(ctx context.Context, workers int) {
	defer c.queue.ShutDown()
	if !worker.WaitForSync(ctx, Name, c.synced...) {
		return
	}
	worker.Run(ctx, Name, c.queue, workers, worker.Plain(c.sync))
}

func (c *Controller) sync(ctx context.Context, namespace string) error {
	ns, err := c.namespaces.Get(namespace)
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	_, err = c.roleBindings.RoleBindings(namespace).Get(RoleBindingName)
	if !needsRoleBinding(ns, err == nil) {
		return nil
	}
	_, err = c.client.RbacV1().RoleBindings(namespace).Create(ctx, RoleBinding(namespace), metav1.CreateOptions{})
	switch {
	case err == nil:
		klog.V(2).InfoS("Created role binding", "namespace", namespace, "name", RoleBindingName)
	case apierrors.IsAlreadyExists(err), apierrors.HasStatusCause(err, corev1.NamespaceTerminatingCause):
	default:
		return err
	}
	return nil
}

// needsRoleBinding: a namespace being deleted gets nothing new, one with the binding keeps it as it is.
func needsRoleBinding(ns *corev1.Namespace, exists bool) bool {
	return ns.DeletionTimestamp == nil && !exists
}
