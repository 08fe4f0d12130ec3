package pullsecrets

import (
	"context"
	"fmt"
	"slices"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	coreinformers "k8s.io/client-go/informers/core/v1"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/retry"
	"k8s.io/client-go/util/workqueue"
	"k8s.io/klog/v2"

	"github.com/openshift-ops/images/tests/sandbox/openshift/pkg/controllers/internal/worker"
)

// emptyDockercfg is what a managed secret holds between its creation and its first token.
const emptyDockercfg = "{}"

// serviceAccountController picks each service account's managed secret name, links it (annotation,
// imagePullSecrets, secrets) and then creates the secret, empty, for tokenController to fill. Linking comes
// first so that the secret is never orphaned in the eyes of tokenController.
type serviceAccountController struct {
	client          kubernetes.Interface
	serviceAccounts corelisters.ServiceAccountLister
	secrets         corelisters.SecretLister
	synced          []cache.InformerSynced
	queue           workqueue.TypedRateLimitingInterface[string]
}

func newServiceAccountController(client kubernetes.Interface, serviceAccounts coreinformers.ServiceAccountInformer, secrets coreinformers.SecretInformer) *serviceAccountController {
	c := &serviceAccountController{
		client:          client,
		serviceAccounts: serviceAccounts.Lister(),
		secrets:         secrets.Lister(),
		synced:          []cache.InformerSynced{serviceAccounts.Informer().HasSynced, secrets.Informer().HasSynced},
		queue:           worker.NewQueue("service-accounts"),
	}
	_, _ = serviceAccounts.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    c.enqueueServiceAccount,
		UpdateFunc: func(_, obj any) { c.enqueueServiceAccount(obj) },
	})
	// A managed secret changing or going away sends its service account back through sync (re-created if deleted,
	// re-annotated if its annotation or owner reference was lost). On updates the old object names the owner.
	_, _ = secrets.Informer().AddEventHandler(cache.FilteringResourceEventHandler{
		FilterFunc: func(obj any) bool {
			secret, ok := worker.ObjectOf(obj).(*corev1.Secret)
			return ok && secret.Type == corev1.SecretTypeDockercfg
		},
		Handler: cache.ResourceEventHandlerFuncs{
			AddFunc:    c.enqueueOwnerOfSecret,
			UpdateFunc: func(old, _ any) { c.enqueueOwnerOfSecret(old) },
			DeleteFunc: c.enqueueOwnerOfSecret,
		},
	})
	return c
}

func (c *serviceAccountController) enqueueServiceAccount(obj any) {
	if key, err := cache.MetaNamespaceKeyFunc(obj); err == nil {
		c.queue.Add(key)
	}
}

func (c *serviceAccountController) enqueueOwnerOfSecret(obj any) {
	secret, ok := worker.ObjectOf(obj).(*corev1.Secret)
	if !ok {
		return
	}
	if name := serviceAccountOfSecret(secret); name != "" {
		c.queue.Add(cache.NewObjectName(secret.Namespace, name).String())
	}
}

func (c *serviceAccountController) run(ctx context.Context, workers int) {
	defer c.queue.ShutDown()
	if !worker.WaitForSync(ctx, Name+"_service-account", c.synced...) {
		return
	}
	worker.Run(ctx, Name+"_service-account", c.queue, workers, worker.Plain(c.sync))
}

func (c *serviceAccountController) sync(ctx context.Context, key string) error {
	namespace, name, err := cache.SplitMetaNamespaceKey(key)
	if err != nil {
		return err
	}
	sa, err := c.serviceAccounts.ServiceAccounts(namespace).Get(name)
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}

	sa, secretName, err := c.link(ctx, sa)
	if err != nil {
		if apierrors.IsNotFound(err) || apierrors.HasStatusCause(err, corev1.NamespaceTerminatingCause) {
			return nil // the service account or its namespace is going away
		}
		return err
	}
	return c.ensureSecret(ctx, sa, secretName)
}

// link makes sa reference its managed secret, retrying on conflicts with the service account as the server has
// it. The name is worked out again on every attempt: a conflict is often our own earlier write, which already
// picked (and annotated) a name that a stale cache does not show yet.
func (c *serviceAccountController) link(ctx context.Context, sa *corev1.ServiceAccount) (*corev1.ServiceAccount, string, error) {
	var secretName string
	first := true
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		if !first {
			fresh, err := c.client.CoreV1().ServiceAccounts(sa.Namespace).Get(ctx, sa.Name, metav1.GetOptions{})
			if err != nil {
				return err
			}
			sa = fresh
		}
		first = false

		name, err := c.managedSecretName(sa)
		if err != nil {
			return err
		}
		secretName = name
		linked := linkManagedSecret(sa, secretName)
		if linked == nil {
			return nil
		}
		updated, err := c.client.CoreV1().ServiceAccounts(sa.Namespace).Update(ctx, linked, metav1.UpdateOptions{FieldManager: serviceAccountFieldManager})
		if err != nil {
			return err
		}
		klog.V(2).InfoS("Linked managed image pull secret", "namespace", sa.Namespace, "serviceAccount", sa.Name, "secret", secretName)
		sa = updated
		return nil
	})
	return sa, secretName, err
}

// managedSecretName finds the name of sa's managed secret: the one its annotation names, else a managed secret
// left over for it (annotation removed), else a legacy one it lists, else a new name.
func (c *serviceAccountController) managedSecretName(sa *corev1.ServiceAccount) (string, error) {
	if name := sa.Annotations[SecretRefAnnotation]; name != "" {
		return name, nil
	}
	secrets, err := c.secrets.Secrets(sa.Namespace).List(labels.Everything())
	if err != nil {
		return "", err
	}
	if name := existingManagedSecret(sa, secrets); name != "" {
		return name, nil
	}
	for _, ref := range sa.ImagePullSecrets {
		secret, err := c.secrets.Secrets(sa.Namespace).Get(ref.Name)
		if apierrors.IsNotFound(err) {
			continue
		}
		if err != nil {
			return "", err
		}
		if isLegacySecretOf(secret, sa) {
			klog.V(1).InfoS("Adopting legacy managed image pull secret", "namespace", sa.Namespace, "serviceAccount", sa.Name, "secret", secret.Name)
			return secret.Name, nil
		}
	}
	return NewManagedSecretName(sa.Name), nil
}

// existingManagedSecret is the name of a dockercfg secret made for sa: by its service account annotation, or for
// secrets without one, by an owner reference to sa.
func existingManagedSecret(sa *corev1.ServiceAccount, secrets []*corev1.Secret) string {
	for _, secret := range secrets {
		if secret.Type != corev1.SecretTypeDockercfg {
			continue
		}
		if owner, annotated := secret.Annotations[ServiceAccountAnnotation]; annotated {
			if owner == sa.Name {
				return secret.Name
			}
			continue
		}
		for _, ref := range secret.OwnerReferences {
			if ref.Name == sa.Name && ref.UID == sa.UID {
				return secret.Name
			}
		}
	}
	return ""
}

// linkManagedSecret returns a copy of sa that names secretName in its annotation and lists it in secrets and
// imagePullSecrets (appended where missing, the rest left in order), or nil when sa already does all that.
func linkManagedSecret(sa *corev1.ServiceAccount, secretName string) *corev1.ServiceAccount {
	annotated := sa.Annotations[SecretRefAnnotation] == secretName
	mounted := slices.ContainsFunc(sa.Secrets, func(ref corev1.ObjectReference) bool { return ref.Name == secretName })
	pulled := slices.ContainsFunc(sa.ImagePullSecrets, func(ref corev1.LocalObjectReference) bool { return ref.Name == secretName })
	if annotated && mounted && pulled {
		return nil
	}
	linked := sa.DeepCopy()
	if !annotated {
		if linked.Annotations == nil {
			linked.Annotations = map[string]string{}
		}
		linked.Annotations[SecretRefAnnotation] = secretName
	}
	if !mounted {
		linked.Secrets = append(linked.Secrets, corev1.ObjectReference{Name: secretName})
	}
	if !pulled {
		linked.ImagePullSecrets = append(linked.ImagePullSecrets, corev1.LocalObjectReference{Name: secretName})
	}
	return linked
}

// ensureSecret creates the managed secret, empty, or puts back its service account annotation and owner
// reference. Legacy secrets are adopted as they are.
func (c *serviceAccountController) ensureSecret(ctx context.Context, sa *corev1.ServiceAccount, secretName string) error {
	secret, err := c.secrets.Secrets(sa.Namespace).Get(secretName)
	if apierrors.IsNotFound(err) {
		secret = nil
	} else if err != nil {
		return err
	}
	if secret != nil && isLegacySecret(secret) {
		return nil
	}
	if secret == nil {
		_, err := c.client.CoreV1().Secrets(sa.Namespace).Create(ctx, newManagedSecret(sa, secretName), metav1.CreateOptions{FieldManager: serviceAccountFieldManager})
		switch {
		case err == nil:
			klog.V(2).InfoS("Created managed image pull secret", "namespace", sa.Namespace, "serviceAccount", sa.Name, "secret", secretName)
			return nil
		case apierrors.HasStatusCause(err, corev1.NamespaceTerminatingCause):
			return nil
		case !apierrors.IsAlreadyExists(err):
			return fmt.Errorf("creating managed image pull secret %s/%s: %w", sa.Namespace, secretName, err)
		}
		// the cache is behind (typically our own create, seen again after the link): look at the real one
		secret, err = c.client.CoreV1().Secrets(sa.Namespace).Get(ctx, secretName, metav1.GetOptions{})
		if err != nil {
			return err
		}
		if isLegacySecret(secret) {
			return nil
		}
	}
	return retry.RetryOnConflict(retry.DefaultRetry, func() error {
		adopted := adoptSecret(sa, secret)
		if adopted == nil {
			return nil
		}
		_, err := c.client.CoreV1().Secrets(sa.Namespace).Update(ctx, adopted, metav1.UpdateOptions{FieldManager: serviceAccountFieldManager})
		if apierrors.IsNotFound(err) {
			return nil // garbage collected meanwhile: its deletion brings the service account back here
		}
		if apierrors.IsConflict(err) {
			fresh, getErr := c.client.CoreV1().Secrets(sa.Namespace).Get(ctx, secretName, metav1.GetOptions{})
			if getErr != nil {
				return getErr
			}
			secret = fresh
		}
		if err != nil {
			return fmt.Errorf("updating managed image pull secret %s/%s: %w", sa.Namespace, secretName, err)
		}
		return nil
	})
}

// newManagedSecret is a managed secret as first created: owned by sa, naming it, holding no credentials yet.
func newManagedSecret(sa *corev1.ServiceAccount, name string) *corev1.Secret {
	return &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{
			Name:            name,
			Namespace:       sa.Namespace,
			Annotations:     map[string]string{ServiceAccountAnnotation: sa.Name},
			OwnerReferences: []metav1.OwnerReference{ownerReference(sa)},
		},
		Type: corev1.SecretTypeDockercfg,
		Data: map[string][]byte{corev1.DockerConfigKey: []byte(emptyDockercfg)},
	}
}

func ownerReference(sa *corev1.ServiceAccount) metav1.OwnerReference {
	return metav1.OwnerReference{APIVersion: "v1", Kind: "ServiceAccount", Name: sa.Name, UID: sa.UID}
}

// adoptSecret returns a copy of an existing (non-legacy) managed secret that names sa and is owned by it, or nil
// when it already is. Credentials are kept; a reference to an earlier service account of the same name is
// replaced.
func adoptSecret(sa *corev1.ServiceAccount, secret *corev1.Secret) *corev1.Secret {
	owned := slices.ContainsFunc(secret.OwnerReferences, func(ref metav1.OwnerReference) bool {
		return ref.APIVersion == "v1" && ref.Kind == "ServiceAccount" && ref.Name == sa.Name && ref.UID == sa.UID
	})
	if owned && secret.Annotations[ServiceAccountAnnotation] == sa.Name {
		return nil
	}
	adopted := secret.DeepCopy()
	if adopted.Annotations == nil {
		adopted.Annotations = map[string]string{}
	}
	adopted.Annotations[ServiceAccountAnnotation] = sa.Name
	if !owned {
		adopted.OwnerReferences = slices.DeleteFunc(adopted.OwnerReferences, func(ref metav1.OwnerReference) bool {
			return ref.Kind == "ServiceAccount" && ref.Name == sa.Name
		})
		adopted.OwnerReferences = append(adopted.OwnerReferences, ownerReference(sa))
	}
	// the type cannot change: a secret of another type under this name makes the update fail, as on a cluster
	adopted.Type = corev1.SecretTypeDockercfg
	if _, ok := adopted.Data[corev1.DockerConfigKey]; !ok {
		if adopted.Data == nil {
			adopted.Data = map[string][]byte{}
		}
		adopted.Data[corev1.DockerConfigKey] = []byte(emptyDockercfg)
	}
	return adopted
}
