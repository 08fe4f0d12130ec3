package pullsecrets

import (
	"context"
	"slices"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	coreinformers "k8s.io/client-go/informers/core/v1"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/retry"
	"k8s.io/client-go/util/workqueue"
	"k8s.io/klog/v2"

	"github.com/openshift-ops/images/tests/sandbox/openshift/pkg/controllers/internal/worker"
)

// secretController is a queue of secret keys passing an event filter, each synced by a function; the two legacy
// controllers are this shape.
type secretController struct {
	name    string
	secrets corelisters.SecretLister
	synced  cache.InformerSynced
	queue   workqueue.TypedRateLimitingInterface[string]
	sync    func(ctx context.Context, secret *corev1.Secret) error
}

func newSecretController(name string, secrets coreinformers.SecretInformer, filter func(*corev1.Secret) bool, withDeletes bool,
	sync func(ctx context.Context, secret *corev1.Secret) error) *secretController {
	c := &secretController{name: name, secrets: secrets.Lister(), synced: secrets.Informer().HasSynced, queue: worker.NewQueue(name), sync: sync}
	enqueue := func(obj any) {
		if key, err := cache.DeletionHandlingMetaNamespaceKeyFunc(obj); err == nil {
			c.queue.Add(key)
		}
	}
	handler := cache.ResourceEventHandlerFuncs{AddFunc: enqueue, UpdateFunc: func(_, obj any) { enqueue(obj) }}
	if withDeletes {
		handler.DeleteFunc = enqueue
	}
	_, _ = secrets.Informer().AddEventHandler(cache.FilteringResourceEventHandler{
		FilterFunc: func(obj any) bool {
			secret, ok := worker.ObjectOf(obj).(*corev1.Secret)
			return ok && filter(secret)
		},
		Handler: handler,
	})
	return c
}

func (c *secretController) run(ctx context.Context, workers int) {
	defer c.queue.ShutDown()
	if !worker.WaitForSync(ctx, c.name, c.synced) {
		return
	}
	worker.Run(ctx, c.name, c.queue, workers, worker.Plain(func(ctx context.Context, key string) error {
		namespace, name, err := cache.SplitMetaNamespaceKey(key)
		if err != nil {
			return err
		}
		secret, err := c.secrets.Secrets(namespace).Get(name)
		if apierrors.IsNotFound(err) {
			return nil
		}
		if err != nil {
			return err
		}
		return c.sync(ctx, secret)
	}))
}

// isLegacyPullSecretCandidate: a dockercfg secret naming a legacy token secret, i.e. made before OpenShift 4.16.
func isLegacyPullSecretCandidate(secret *corev1.Secret) bool {
	_, named := secret.Annotations[legacyTokenSecretNameAnnotation]
	return secret.Type == corev1.SecretTypeDockercfg && named
}

// newLegacyPullSecretController marks legacy managed secrets (token type "legacy") and holds them with a finalizer
// until the long-lived token secret they were made from is deleted with them.
func newLegacyPullSecretController(client kubernetes.Interface, secrets coreinformers.SecretInformer) *secretController {
	return newSecretController(Name+"_legacy-image-pull-secret", secrets, isLegacyPullSecretCandidate, true,
		func(ctx context.Context, secret *corev1.Secret) error {
			if secret.DeletionTimestamp != nil {
				if !slices.Contains(secret.Finalizers, legacyTokenFinalizer) {
					return nil
				}
				if tokenSecret := secret.Annotations[legacyTokenSecretNameAnnotation]; tokenSecret != "" {
					err := client.CoreV1().Secrets(secret.Namespace).Delete(ctx, tokenSecret, metav1.DeleteOptions{})
					if err != nil && !apierrors.IsNotFound(err) {
						return err
					}
				}
			}
			klog.V(4).InfoS("Syncing legacy managed image pull secret", "namespace", secret.Namespace, "secret", secret.Name, "deleting", secret.DeletionTimestamp != nil)
			return updateSecretIfChanged(ctx, client, secret, legacyPullSecretChange)
		})
}

// legacyPullSecretChange marks a legacy managed secret and, unless it is being deleted, adds the finalizer; once
// it is being deleted (and its token secret is gone) the finalizer comes off. Returns false for no change.
func legacyPullSecretChange(secret *corev1.Secret) bool {
	changed := false
	if secret.Annotations[TokenTypeAnnotation] != TokenTypeLegacy {
		setAnnotation(secret, TokenTypeAnnotation, TokenTypeLegacy)
		changed = true
	}
	has := slices.Contains(secret.Finalizers, legacyTokenFinalizer)
	switch {
	case secret.DeletionTimestamp == nil && !has:
		secret.Finalizers = append(secret.Finalizers, legacyTokenFinalizer)
		changed = true
	case secret.DeletionTimestamp != nil && has:
		secret.Finalizers = slices.DeleteFunc(secret.Finalizers, func(f string) bool { return f == legacyTokenFinalizer })
		changed = true
	}
	return changed
}

// isUnlabelledLegacyTokenSecret: a long-lived service account token secret that OpenShift's old dockercfg
// controller created, not yet labelled as such.
func isUnlabelledLegacyTokenSecret(secret *corev1.Secret) bool {
	if secret.Type != corev1.SecretTypeServiceAccountToken {
		return false
	}
	if _, labelled := secret.Labels[legacyTokenLabel]; labelled {
		return false
	}
	_, hasServiceAccount := secret.Annotations[corev1.ServiceAccountNameKey]
	return hasServiceAccount && secret.Annotations["kubernetes.io/created-by"] == legacyTokenCreator
}

// newLegacyTokenSecretController labels those token secrets openshift.io/legacy-token=true.
func newLegacyTokenSecretController(client kubernetes.Interface, secrets coreinformers.SecretInformer) *secretController {
	return newSecretController(Name+"_legacy-token-secret", secrets, isUnlabelledLegacyTokenSecret, false,
		func(ctx context.Context, secret *corev1.Secret) error {
			return updateSecretIfChanged(ctx, client, secret, func(s *corev1.Secret) bool {
				if s.Labels[legacyTokenLabel] == "true" {
					return false
				}
				if s.Labels == nil {
					s.Labels = map[string]string{}
				}
				s.Labels[legacyTokenLabel] = "true"
				return true
			})
		})
}

// updateSecretIfChanged writes change(copy of secret) if it changed anything, retrying conflicts with the server's copy.
func updateSecretIfChanged(ctx context.Context, client kubernetes.Interface, secret *corev1.Secret, change func(*corev1.Secret) bool) error {
	return retry.RetryOnConflict(retry.DefaultRetry, func() error {
		updated := secret.DeepCopy()
		if !change(updated) {
			return nil
		}
		_, err := client.CoreV1().Secrets(secret.Namespace).Update(ctx, updated, metav1.UpdateOptions{FieldManager: legacyFieldManager})
		if apierrors.IsConflict(err) {
			fresh, getErr := client.CoreV1().Secrets(secret.Namespace).Get(ctx, secret.Name, metav1.GetOptions{})
			if getErr != nil {
				return getErr
			}
			secret = fresh
		}
		if apierrors.IsNotFound(err) {
			return nil
		}
		return err
	})
}
