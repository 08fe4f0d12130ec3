package pullsecrets

import (
	"context"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"fmt"
	"net"
	"slices"
	"strconv"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
	coreinformers "k8s.io/client-go/informers/core/v1"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/keyutil"
	"k8s.io/klog/v2"

	"github.com/openshift-ops/images/tests/sandbox/openshift/pkg/controllers/internal/worker"
)

// registryServices are where the internal registry's Service may live: the 3.x location, then the 4.x one.
var registryServices = []types.NamespacedName{
	{Namespace: "default", Name: "docker-registry"},
	{Namespace: "openshift-image-registry", Name: "image-registry"},
}

const clusterDomain = "cluster.local"

// watchRegistryURLs feeds tokens the registry URLs each time a registry Service appears or changes. As in
// OpenShift, nothing is observed until one of those Services exists, and a deleted one changes nothing.
func watchRegistryURLs(services coreinformers.ServiceInformer, additional []string, tokens *tokenController) {
	lister := services.Lister()
	observe := func(any) { tokens.setRegistryURLs(registryURLs(lister, additional)) }
	_, _ = services.Informer().AddEventHandler(cache.FilteringResourceEventHandler{
		FilterFunc: func(obj any) bool {
			svc, ok := obj.(*corev1.Service)
			return ok && slices.Contains(registryServices, types.NamespacedName{Namespace: svc.Namespace, Name: svc.Name})
		},
		Handler: cache.ResourceEventHandlerFuncs{
			AddFunc:    observe,
			UpdateFunc: func(_, obj any) { observe(obj) },
		},
	})
}

// registryURLs is the sorted set of host[:port] names a managed secret has entries for: the additional ones and
// those of each registry Service that exists.
func registryURLs(services corelisters.ServiceLister, additional []string) []string {
	urls := slices.Clone(additional)
	for _, location := range registryServices {
		svc, err := services.Services(location.Namespace).Get(location.Name)
		if err != nil {
			continue
		}
		urls = append(urls, serviceURLs(svc)...)
	}
	slices.Sort(urls)
	return slices.Compact(urls)
}

// serviceURLs are the names pods may use for a registry Service: <svc>.<ns>.svc:<port>, its IPv4 cluster IP with
// the port, <svc>.<ns>.svc.cluster.local:<port>, and for ports 80 and 443 each name without the port as well.
// A Service without a cluster IP or ports has none.
func serviceURLs(svc *corev1.Service) []string {
	ip := net.ParseIP(svc.Spec.ClusterIP)
	if ip == nil || len(svc.Spec.Ports) == 0 {
		return nil
	}
	port := strconv.Itoa(int(svc.Spec.Ports[0].Port))
	defaultPort := port == "80" || port == "443"
	short := fmt.Sprintf("%s.%s.svc", svc.Name, svc.Namespace)
	long := short + "." + clusterDomain
	ipv4 := ip.To4() // IPv6 addresses cannot appear in an image pull spec

	urls := []string{net.JoinHostPort(short, port)}
	if ipv4 != nil {
		urls = append(urls, net.JoinHostPort(ipv4.String(), port))
	}
	if defaultPort {
		urls = append(urls, short)
		if ipv4 != nil {
			urls = append(urls, ipv4.String())
		}
	}
	urls = append(urls, net.JoinHostPort(long, port))
	if defaultPort {
		urls = append(urls, long)
	}
	return urls
}

// The secret in which OpenShift's operator publishes the public half of the bound token signing key.
const (
	signingKeyNamespace = "openshift-kube-apiserver"
	signingKeyName      = "bound-service-account-signing-key"
	signingKeyDataKey   = "service-account.pub"
)

// keyIDObserver tells tokens the IDs of the keys that sign service account tokens: from the signing key secret
// when it exists, else from the header of a throw-away token.
type keyIDObserver struct {
	client  kubernetes.Interface
	secrets corelisters.SecretLister
	synced  cache.InformerSynced
	tokens  *tokenController
}

func newKeyIDObserver(client kubernetes.Interface, secrets coreinformers.SecretInformer, tokens *tokenController) *keyIDObserver {
	o := &keyIDObserver{client: client, secrets: secrets.Lister(), synced: secrets.Informer().HasSynced, tokens: tokens}
	_, _ = secrets.Informer().AddEventHandler(cache.FilteringResourceEventHandler{
		FilterFunc: func(obj any) bool {
			secret, ok := worker.ObjectOf(obj).(*corev1.Secret)
			return ok && secret.Namespace == signingKeyNamespace && secret.Name == signingKeyName
		},
		Handler: cache.ResourceEventHandlerFuncs{
			AddFunc:    o.observeSecret,
			UpdateFunc: func(_, obj any) { o.observeSecret(obj) },
		},
	})
	return o
}

func (o *keyIDObserver) observeSecret(obj any) {
	secret, ok := obj.(*corev1.Secret)
	if !ok {
		return
	}
	keyIDs, err := keyIDsOfPublicKeys(secret.Data[signingKeyDataKey])
	if err != nil {
		klog.ErrorS(err, "Reading the token signing keys", "namespace", secret.Namespace, "secret", secret.Name)
		return
	}
	o.tokens.setKeyIDs(keyIDs)
}

// keyIDsOfPublicKeys computes the key IDs the API server puts in the tokens it signs with the matching private
// keys: unpadded base64url of the SHA-256 of the public key's DER (PKIX) form.
func keyIDsOfPublicKeys(pemData []byte) ([]string, error) {
	if len(pemData) == 0 {
		return nil, fmt.Errorf("no %s", signingKeyDataKey)
	}
	keys, err := keyutil.ParsePublicKeysPEM(pemData)
	if err != nil {
		return nil, err
	}
	var ids []string
	for _, key := range keys {
		der, err := x509.MarshalPKIXPublicKey(key)
		if err != nil {
			return nil, err
		}
		sum := sha256.Sum256(der)
		ids = append(ids, base64.RawURLEncoding.EncodeToString(sum[:]))
	}
	slices.Sort(ids)
	return ids, nil
}

// run checks every minute whether the signing key secret exists; while it does not, it learns the key ID from
// a short-lived token of the default service account of namespace default, trying for up to a minute.
func (o *keyIDObserver) run(ctx context.Context) {
	if !worker.WaitForSync(ctx, Name+"_kids", o.synced) {
		return
	}
	wait.UntilWithContext(ctx, func(ctx context.Context) {
		err := wait.PollUntilContextTimeout(ctx, 10*time.Second, time.Minute, true, func(ctx context.Context) (bool, error) {
			if _, err := o.secrets.Secrets(signingKeyNamespace).Get(signingKeyName); err == nil {
				return true, nil
			} else if !apierrors.IsNotFound(err) {
				klog.ErrorS(err, "Looking for the token signing key secret")
				return false, nil
			}
			keyIDs, err := o.probeKeyIDs(ctx)
			if err != nil {
				klog.ErrorS(err, "Learning the token signing key from a throw-away token")
				return false, nil
			}
			o.tokens.setKeyIDs(keyIDs)
			return true, nil
		})
		if err != nil && ctx.Err() == nil {
			klog.ErrorS(err, "Could not learn the token signing key IDs")
		}
	}, time.Minute)
}

func (o *keyIDObserver) probeKeyIDs(ctx context.Context) ([]string, error) {
	expiration := int64((10 * time.Minute).Seconds())
	request := &authenticationv1.TokenRequest{Spec: authenticationv1.TokenRequestSpec{
		Audiences:         []string{"not-api"}, // useless against the API, in case it leaks
		ExpirationSeconds: &expiration,
	}}
	token, err := o.client.CoreV1().ServiceAccounts("default").CreateToken(ctx, "default", request, metav1.CreateOptions{})
	if err != nil {
		return nil, err
	}
	facts, err := readToken(token.Status.Token)
	if err != nil {
		return nil, err
	}
	return []string{facts.keyID}, nil
}
