// Package serviceaccounts keeps OpenShift's per-project service accounts (builder, deployer) in every active
// namespace, like openshift-controller-manager's "openshift.io/serviceaccount" controller, which reuses
// kube-controller-manager's service account controller with OpenShift's managed names.
package serviceaccounts

import (
	"context"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	utilerrors "k8s.io/apimachinery/pkg/util/errors"
	coreinformers "k8s.io/client-go/informers/core/v1"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/workqueue"
	"k8s.io/klog/v2"

	"github.com/openshift-ops/images/tests/sandbox/openshift/pkg/controllers/internal/worker"
)

// Name is the controller's name in openshift-controller-manager's configuration.
const Name = "openshift.io/serviceaccount"

// DefaultNames are the service accounts OpenShift's operator configures (serviceAccount.managedNames).
// "default" is left to kube-controller-manager.
var DefaultNames = []string{"builder", "deployer"}

// Controller creates the managed service accounts in each active namespace, and again when one is deleted.
// It never updates an existing service account.
type Controller struct {
	client          kubernetes.Interface
	names           []string
	namespaces      corelisters.NamespaceLister
	serviceAccounts corelisters.ServiceAccountLister
	synced          []cache.InformerSynced
	queue           workqueue.TypedRateLimitingInterface[string]
}

// New wires the controller to the namespace and service account informers; queue keys are namespace names.
func New(client kubernetes.Interface, namespaces coreinformers.NamespaceInformer, serviceAccounts coreinformers.ServiceAccountInformer, names []string) *Controller {
	c := &Controller{
		client:          client,
		names:           names,
		namespaces:      namespaces.Lister(),
		serviceAccounts: serviceAccounts.Lister(),
		synced:          []cache.InformerSynced{namespaces.Informer().HasSynced, serviceAccounts.Informer().HasSynced},
		queue:           worker.NewQueue("serviceaccount"),
	}
	// Namespace updates (and the informer's periodic resync) are how a namespace that was not yet active gets
	// its service accounts later.
	_, _ = namespaces.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    func(obj any) { c.enqueueNamespace(obj) },
		UpdateFunc: func(_, obj any) { c.enqueueNamespace(obj) },
	})
	_, _ = serviceAccounts.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		DeleteFunc: func(obj any) {
			if sa, ok := worker.ObjectOf(obj).(*corev1.ServiceAccount); ok {
				c.queue.Add(sa.Namespace)
			}
		},
	})
	return c
}

func (c *Controller) enqueueNamespace(obj any) {
	if ns, ok := obj.(*corev1.Namespace); ok {
		c.queue.Add(ns.Name)
	}
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
	started := time.Now()
	defer func() {
		klog.V(4).InfoS("Synced namespace", "controller", Name, "namespace", namespace, "took", time.Since(started))
	}()

	ns, err := c.namespaces.Get(namespace)
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	var failures []error
	for _, name := range missingServiceAccounts(ns, c.names, c.exists) {
		sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: namespace}}
		_, err := c.client.CoreV1().ServiceAccounts(namespace).Create(ctx, sa, metav1.CreateOptions{})
		switch {
		case err == nil:
			klog.V(2).InfoS("Created service account", "namespace", namespace, "name", name)
		case apierrors.IsAlreadyExists(err), apierrors.HasStatusCause(err, corev1.NamespaceTerminatingCause):
			// someone else was faster, or the namespace started terminating: nothing to retry
		default:
			failures = append(failures, err)
		}
	}
	return utilerrors.NewAggregate(failures)
}

func (c *Controller) exists(namespace, name string) bool {
	_, err := c.serviceAccounts.ServiceAccounts(namespace).Get(name)
	return err == nil
}

// missingServiceAccounts lists the managed names to create in ns: none unless the namespace is active.
func missingServiceAccounts(ns *corev1.Namespace, names []string, exists func(namespace, name string) bool) []string {
	if ns.Status.Phase != corev1.NamespaceActive {
		return nil
	}
	var missing []string
	for _, name := range names {
		if name == "default" || exists(ns.Name, name) {
			continue
		}
		missing = append(missing, name)
	}
	return missing
}
