package pullsecrets

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
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

// refreshAtRemaining: a token is replaced once less than this share of its validity is left.
const refreshAtRemaining = 0.4

// tokenController writes a bound service account token into every managed secret, for every internal registry
// URL, and replaces it when it nears expiry, when it was signed by a key no longer in use, or when the set of
// registry URLs changed. A valid secret is not written to. It also deletes managed secrets their service
// account no longer references.
type tokenController struct {
	client          kubernetes.Interface
	secrets         corelisters.SecretLister
	serviceAccounts corelisters.ServiceAccountLister
	synced          []cache.InformerSynced
	queue           workqueue.TypedRateLimitingInterface[string]

	mu           sync.Mutex
	registryURLs []string
	keyIDs       []string
	// ready is closed once both registry URLs and signing key IDs are known: no secret is looked at before.
	ready     chan struct{}
	readyOnce sync.Once
}

func newTokenController(client kubernetes.Interface, secrets coreinformers.SecretInformer, serviceAccounts coreinformers.ServiceAccountInformer) *tokenController {
	c := &tokenController{
		client:          client,
		secrets:         secrets.Lister(),
		serviceAccounts: serviceAccounts.Lister(),
		synced:          []cache.InformerSynced{secrets.Informer().HasSynced, serviceAccounts.Informer().HasSynced},
		queue:           worker.NewQueue("bound-token-managed-image-pull-secrets"),
		ready:           make(chan struct{}),
	}
	_, _ = secrets.Informer().AddEventHandler(cache.FilteringResourceEventHandler{
		FilterFunc: func(obj any) bool {
			secret, ok := worker.ObjectOf(obj).(*corev1.Secret)
			return ok && isManagedSecret(secret)
		},
		Handler: cache.ResourceEventHandlerFuncs{
			AddFunc:    c.enqueue,
			UpdateFunc: func(_, obj any) { c.enqueue(obj) },
			DeleteFunc: c.enqueue,
		},
	})
	return c
}

func (c *tokenController) enqueue(obj any) {
	if key, err := cache.DeletionHandlingMetaNamespaceKeyFunc(obj); err == nil {
		c.queue.Add(key)
	}
}

// setRegistryURLs records the registry host names the secrets must cover; an empty set is ignored.
func (c *tokenController) setRegistryURLs(urls []string) {
	c.observe("registry URLs", &c.registryURLs, urls)
}

// setKeyIDs records the IDs of the keys that sign service account tokens; an empty set is ignored.
func (c *tokenController) setKeyIDs(keyIDs []string) {
	c.observe("token signing key IDs", &c.keyIDs, keyIDs)
}

func (c *tokenController) observe(what string, field *[]string, value []string) {
	if len(value) == 0 {
		klog.ErrorS(nil, "Observed no values, keeping the previous ones", "controller", Name, "what", what)
		return
	}
	c.mu.Lock()
	changed := !slices.Equal(*field, value)
	*field = slices.Clone(value)
	known := len(c.registryURLs) > 0 && len(c.keyIDs) > 0
	c.mu.Unlock()
	if !changed {
		return
	}
	klog.V(2).InfoS("Observed", "controller", Name, "what", what, "values", value)
	if known {
		c.readyOnce.Do(func() { close(c.ready) })
		c.resync()
	}
}

func (c *tokenController) observed() (urls, keyIDs []string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.registryURLs, c.keyIDs
}

// resync looks at every managed secret again, after the URLs or signing keys changed.
func (c *tokenController) resync() {
	secrets, err := c.secrets.List(labels.Everything())
	if err != nil {
		klog.ErrorS(err, "Listing secrets")
		return
	}
	for _, secret := range secrets {
		if isManagedSecret(secret) {
			c.enqueue(secret)
		}
	}
}

func (c *tokenController) run(ctx context.Context, workers int) {
	defer c.queue.ShutDown()
	name := Name + "_image-pull-secret"
	if !worker.WaitForSync(ctx, name, c.synced...) {
		return
	}
	select {
	case <-c.ready:
	default:
		klog.InfoS("Waiting for the registry URLs and token signing keys to be observed", "controller", name)
		select {
		case <-c.ready:
		case <-ctx.Done():
			return
		}
	}
	worker.Run(ctx, name, c.queue, workers, c.sync)
}

func (c *tokenController) sync(ctx context.Context, key string) (time.Duration, error) {
	namespace, name, err := cache.SplitMetaNamespaceKey(key)
	if err != nil {
		return 0, err
	}
	secret, err := c.secrets.Secrets(namespace).Get(name)
	if apierrors.IsNotFound(err) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	if !isManagedSecret(secret) {
		return 0, nil
	}

	sa, err := c.serviceAccounts.ServiceAccounts(namespace).Get(secret.Annotations[ServiceAccountAnnotation])
	if err != nil && !apierrors.IsNotFound(err) {
		return 0, err
	}
	if isOrphaned(secret, sa) {
		return 0, c.removeOrphan(ctx, secret, sa)
	}

	urls, keyIDs := c.observed()
	now := time.Now()
	if valid, refreshAt := dockercfgValid(secret, urls, keyIDs, now); valid {
		if secret.Annotations[TokenTypeAnnotation] != TokenTypeBound {
			if err := c.markBound(ctx, secret); err != nil {
				return 0, err
			}
		}
		return refreshAt.Sub(now), nil
	}
	return c.refresh(ctx, secret, urls, now)
}

// isOrphaned: the managed secret's service account is gone, or names another managed secret. A service account
// without the reference annotation has not been linked yet and orphans nothing.
func isOrphaned(secret *corev1.Secret, sa *corev1.ServiceAccount) bool {
	if sa == nil {
		return true
	}
	ref, ok := sa.Annotations[SecretRefAnnotation]
	return ok && ref != secret.Name
}

// removeOrphan unlinks the secret from its service account and deletes it. When the service account is gone the
// garbage collector deletes the secret (it owns it), so it is left alone.
func (c *tokenController) removeOrphan(ctx context.Context, secret *corev1.Secret, sa *corev1.ServiceAccount) error {
	if sa == nil {
		return nil
	}
	klog.V(2).InfoS("Removing orphaned managed image pull secret", "namespace", secret.Namespace, "secret", secret.Name, "serviceAccount", sa.Name)
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		unlinked := unlinkSecret(sa, secret.Name)
		if unlinked == nil {
			return nil
		}
		_, err := c.client.CoreV1().ServiceAccounts(sa.Namespace).Update(ctx, unlinked, metav1.UpdateOptions{FieldManager: imagePullSecretFieldManager})
		if apierrors.IsConflict(err) {
			fresh, getErr := c.client.CoreV1().ServiceAccounts(sa.Namespace).Get(ctx, sa.Name, metav1.GetOptions{})
			if getErr != nil {
				return getErr
			}
			sa = fresh
		}
		return err
	})
	if err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("unlinking orphaned managed image pull secret %s/%s: %w", secret.Namespace, secret.Name, err)
	}
	err = c.client.CoreV1().Secrets(secret.Namespace).Delete(ctx, secret.Name, metav1.DeleteOptions{Preconditions: &metav1.Preconditions{UID: &secret.UID}})
	if err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("deleting orphaned managed image pull secret %s/%s: %w", secret.Namespace, secret.Name, err)
	}
	return nil
}

// unlinkSecret returns a copy of sa without secretName in imagePullSecrets and secrets, or nil if it lists it in
// neither.
func unlinkSecret(sa *corev1.ServiceAccount, secretName string) *corev1.ServiceAccount {
	mounted := slices.ContainsFunc(sa.Secrets, func(ref corev1.ObjectReference) bool { return ref.Name == secretName })
	pulled := slices.ContainsFunc(sa.ImagePullSecrets, func(ref corev1.LocalObjectReference) bool { return ref.Name == secretName })
	if !mounted && !pulled {
		return nil
	}
	unlinked := sa.DeepCopy()
	unlinked.Secrets = slices.DeleteFunc(unlinked.Secrets, func(ref corev1.ObjectReference) bool { return ref.Name == secretName })
	unlinked.ImagePullSecrets = slices.DeleteFunc(unlinked.ImagePullSecrets, func(ref corev1.LocalObjectReference) bool { return ref.Name == secretName })
	return unlinked
}

// markBound adds the token type annotation to a secret whose credentials are fine as they are.
func (c *tokenController) markBound(ctx context.Context, secret *corev1.Secret) error {
	return c.updateSecret(ctx, secret, func(s *corev1.Secret) {
		setAnnotation(s, TokenTypeAnnotation, TokenTypeBound)
	})
}

// refresh requests a new token bound to the secret (so that it dies with the secret), writes it for every
// registry URL and asks to come back when that token is due for replacement.
func (c *tokenController) refresh(ctx context.Context, secret *corev1.Secret, urls []string, now time.Time) (time.Duration, error) {
	saName := secret.Annotations[ServiceAccountAnnotation]
	klog.V(2).InfoS("Refreshing image pull secret", "namespace", secret.Namespace, "secret", secret.Name, "serviceAccount", saName)
	request := &authenticationv1.TokenRequest{Spec: authenticationv1.TokenRequestSpec{
		BoundObjectRef: &authenticationv1.BoundObjectReference{APIVersion: "v1", Kind: "Secret", Name: secret.Name, UID: secret.UID},
	}}
	token, err := c.client.CoreV1().ServiceAccounts(secret.Namespace).CreateToken(ctx, saName, request, metav1.CreateOptions{})
	if err != nil {
		return 0, fmt.Errorf("requesting a token for service account %s/%s: %w", secret.Namespace, saName, err)
	}
	data, err := dockercfg(token.Status.Token, urls)
	if err != nil {
		return 0, err
	}
	err = c.updateSecret(ctx, secret, func(s *corev1.Secret) {
		setAnnotation(s, TokenTypeAnnotation, TokenTypeBound)
		if s.Data == nil {
			s.Data = map[string][]byte{}
		}
		s.Data[corev1.DockerConfigKey] = data
	})
	if err != nil {
		return 0, err
	}
	// the token's nbf is about now: no need to read it back
	return refreshTime(now, token.Status.ExpirationTimestamp.Time).Sub(now), nil
}

// updateSecret applies change to the secret and writes it, retrying conflicts with the server's copy as long
// as it is still the same secret (a deleted one is not brought back).
func (c *tokenController) updateSecret(ctx context.Context, secret *corev1.Secret, change func(*corev1.Secret)) error {
	uid := secret.UID
	return retry.RetryOnConflict(retry.DefaultRetry, func() error {
		updated := secret.DeepCopy()
		change(updated)
		_, err := c.client.CoreV1().Secrets(secret.Namespace).Update(ctx, updated, metav1.UpdateOptions{FieldManager: imagePullSecretFieldManager})
		if apierrors.IsNotFound(err) {
			return nil
		}
		if apierrors.IsConflict(err) {
			fresh, getErr := c.client.CoreV1().Secrets(secret.Namespace).Get(ctx, secret.Name, metav1.GetOptions{})
			if apierrors.IsNotFound(getErr) || (getErr == nil && fresh.UID != uid) {
				return nil
			}
			if getErr != nil {
				return getErr
			}
			secret = fresh
		}
		return err
	})
}

func setAnnotation(obj metav1.Object, key, value string) {
	annotations := obj.GetAnnotations()
	if annotations == nil {
		annotations = map[string]string{}
	}
	annotations[key] = value
	obj.SetAnnotations(annotations)
}

// dockercfg is the .dockercfg document: one entry per registry URL, each with only "auth" (user "<token>",
// the token as password), as OpenShift writes it.
func dockercfg(token string, urls []string) ([]byte, error) {
	entry := map[string]string{"auth": base64.StdEncoding.EncodeToString([]byte("<token>:" + token))}
	doc := make(map[string]map[string]string, len(urls))
	for _, url := range urls {
		doc[url] = entry
	}
	return json.Marshal(doc)
}

// dockercfgEntry reads an entry as the kubelet does: "auth" (base64 of user:password) wins over the fields.
type dockercfgEntry struct {
	Username string `json:"username"`
	Password string `json:"password"`
	Auth     string `json:"auth"`
}

func (e dockercfgEntry) password() (string, error) {
	if e.Auth == "" {
		return e.Password, nil
	}
	decoded, err := base64.StdEncoding.DecodeString(e.Auth)
	if err != nil {
		return "", err
	}
	_, password, ok := strings.Cut(string(decoded), ":")
	if !ok {
		return "", fmt.Errorf("auth is not base64(user:password)")
	}
	return password, nil
}

// dockercfgValid says whether a managed secret's credentials can stay: a .dockercfg with exactly one entry per
// registry URL, each a token signed by a current key and with more than 40% of its validity left. When valid,
// it also returns when the first token needs replacing.
func dockercfgValid(secret *corev1.Secret, urls, keyIDs []string, now time.Time) (bool, time.Time) {
	invalid := func(reason string, keysAndValues ...any) (bool, time.Time) {
		klog.V(2).InfoS("Image pull secret needs new credentials", append([]any{"namespace", secret.Namespace, "secret", secret.Name, "reason", reason}, keysAndValues...)...)
		return false, time.Time{}
	}
	if secret.Type != corev1.SecretTypeDockercfg {
		return invalid("wrong type", "type", secret.Type)
	}
	raw, ok := secret.Data[corev1.DockerConfigKey]
	if !ok {
		return invalid("no " + corev1.DockerConfigKey)
	}
	var doc map[string]dockercfgEntry
	if err := json.Unmarshal(raw, &doc); err != nil {
		return invalid("unparsable", "error", err)
	}
	if len(doc) != len(urls) {
		return invalid("wrong number of registries", "expected", len(urls), "actual", len(doc))
	}
	for _, url := range urls {
		if _, ok := doc[url]; !ok {
			return invalid("registry missing", "url", url)
		}
	}
	var earliest time.Time
	for url, entry := range doc {
		password, err := entry.password()
		if err != nil {
			return invalid("unparsable auth", "url", url, "error", err)
		}
		token, err := readToken(password)
		if err != nil {
			return invalid("unparsable token", "url", url, "error", err)
		}
		if !slices.Contains(keyIDs, token.keyID) {
			return invalid("token not signed by a current key", "url", url, "kid", token.keyID)
		}
		refreshAt := refreshTime(token.notBefore, token.expiry)
		if now.After(refreshAt) {
			return invalid("token due for refresh", "url", url, "exp", token.expiry)
		}
		if earliest.IsZero() || refreshAt.Before(earliest) {
			earliest = refreshAt
		}
	}
	return true, earliest
}

// refreshTime is when only 40% of a token's validity is left.
func refreshTime(notBefore, expiry time.Time) time.Time {
	validity := expiry.Sub(notBefore)
	if validity < 0 {
		return time.Time{} // nonsense validity: refresh right away
	}
	return expiry.Add(-time.Duration(float64(validity) * refreshAtRemaining))
}
