// Package pullsecrets gives every service account a kubernetes.io/dockercfg secret for the internal image
// registry, holding a bound token of that service account, like openshift-controller-manager's
// "openshift.io/serviceaccount-pull-secrets" controllers (pkg/internalregistry/controllers in its source).
package pullsecrets

import (
	"github.com/openshift/library-go/pkg/build/naming"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apiserver/pkg/storage/names"
)

// Name is the controller's name in openshift-controller-manager's configuration.
const Name = "openshift.io/serviceaccount-pull-secrets"

const (
	// ServiceAccountAnnotation on a managed secret names the service account whose token it holds.
	ServiceAccountAnnotation = "openshift.io/internal-registry-auth-token.service-account"
	// TokenTypeAnnotation on a managed secret says which kind of token it holds: TokenTypeBound or TokenTypeLegacy.
	TokenTypeAnnotation = "openshift.io/internal-registry-auth-token.binding"
	// SecretRefAnnotation on a service account names its managed secret.
	SecretRefAnnotation = "openshift.io/internal-registry-pull-secret-ref"

	// TokenTypeBound marks a token from the TokenRequest API bound to the secret.
	TokenTypeBound = "bound"
	// TokenTypeLegacy marks a secret from before OpenShift 4.16 that holds a long-lived token secret's token.
	TokenTypeLegacy = "legacy"

	// The annotations that, all present, identify such a legacy managed secret.
	legacyTokenSecretNameAnnotation  = "openshift.io/token-secret.name"
	legacyTokenSecretValueAnnotation = "openshift.io/token-secret.value"
	// The finalizer that makes a legacy managed secret take its token secret with it.
	legacyTokenFinalizer = "openshift.io/legacy-token"
	// The label marking the long-lived token secrets those legacy secrets were made from.
	legacyTokenLabel = "openshift.io/legacy-token"
	// The creator annotation found on those token secrets.
	legacyTokenCreator = "openshift.io/create-dockercfg-secrets"
)

// Field managers of OpenShift's controllers, sent with every write so that audit logs and managedFields
// name the same controller as on a cluster.
const (
	serviceAccountFieldManager  = "openshift.io/image-registry-pull-secrets_service-account-controller"
	imagePullSecretFieldManager = "openshift.io/image-registry-pull-secrets_image-pull-secret-controller"
	legacyFieldManager          = "openshift.io/image-registry-pull-secrets_legacy-token-secrets-controller"
)

// maxManagedNameLength leaves room in a 63 character name for the 5 random characters.
const maxManagedNameLength = 58

// NewManagedSecretName makes a fresh name for a service account's managed secret: <sa>-dockercfg-xxxxx, or for
// long names the service account's name cut short with a hash of it before -dockercfg-.
func NewManagedSecretName(serviceAccount string) string {
	return names.SimpleNameGenerator.GenerateName(ManagedSecretNamePrefix(serviceAccount))
}

// ManagedSecretNamePrefix is the part of the managed secret's name before the random characters.
func ManagedSecretNamePrefix(serviceAccount string) string {
	return naming.GetName(serviceAccount, "dockercfg-", maxManagedNameLength)
}

// serviceAccountOfSecret is the service account a managed secret, or a legacy one, belongs to.
func serviceAccountOfSecret(secret *corev1.Secret) string {
	if name := secret.Annotations[ServiceAccountAnnotation]; name != "" {
		return name
	}
	return secret.Annotations[corev1.ServiceAccountNameKey]
}

// isManagedSecret: a dockercfg secret naming its service account; these get tokens.
func isManagedSecret(secret *corev1.Secret) bool {
	return secret.Type == corev1.SecretTypeDockercfg && secret.Annotations[ServiceAccountAnnotation] != ""
}

// legacyAnnotations are the keys a legacy managed secret carries, with the check each value must pass for it to
// belong to a given service account.
var legacyAnnotations = map[string]func(sa *corev1.ServiceAccount, value string) bool{
	corev1.ServiceAccountNameKey:     func(sa *corev1.ServiceAccount, value string) bool { return value == sa.Name },
	corev1.ServiceAccountUIDKey:      func(sa *corev1.ServiceAccount, value string) bool { return types.UID(value) == sa.UID },
	legacyTokenSecretNameAnnotation:  func(*corev1.ServiceAccount, string) bool { return true },
	legacyTokenSecretValueAnnotation: func(*corev1.ServiceAccount, string) bool { return true },
}

// isLegacySecret: a managed secret made before bound tokens, which is adopted as is and never filled.
func isLegacySecret(secret *corev1.Secret) bool {
	for key := range legacyAnnotations {
		if _, ok := secret.Annotations[key]; !ok {
			return false
		}
	}
	return true
}

// isLegacySecretOf: a legacy managed secret made for this very service account (same name and UID).
func isLegacySecretOf(secret *corev1.Secret, sa *corev1.ServiceAccount) bool {
	for key, matches := range legacyAnnotations {
		value, ok := secret.Annotations[key]
		if !ok || !matches(sa, value) {
			return false
		}
	}
	return true
}
