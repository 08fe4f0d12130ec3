package pullsecrets

import (
	"context"
	"sync"

	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
)

// Controller runs the parts of OpenShift's service account pull secret controller: the service account linker,
// the token writer with its two observers (registry URLs, signing key IDs), and the two controllers that look
// after managed secrets made before OpenShift 4.16.
type Controller struct {
	serviceAccounts *serviceAccountController
	tokens          *tokenController
	keyIDs          *keyIDObserver
	legacyPull      *secretController
	legacyTokens    *secretController
}

// New wires the controllers to the shared informers. additionalRegistryURLs are registry host names the
// secrets cover besides those of the registry Service.
func New(client kubernetes.Interface, factory informers.SharedInformerFactory, additionalRegistryURLs []string) *Controller {
	core := factory.Core().V1()
	tokens := newTokenController(client, core.Secrets(), core.ServiceAccounts())
	watchRegistryURLs(core.Services(), additionalRegistryURLs, tokens)
	return &Controller{
		serviceAccounts: newServiceAccountController(client, core.ServiceAccounts(), core.Secrets()),
		tokens:          tokens,
		keyIDs:          newKeyIDObserver(client, core.Secrets(), tokens),
		legacyPull:      newLegacyPullSecretController(client, core.Secrets()),
		legacyTokens:    newLegacyTokenSecretController(client, core.Secrets()),
	}
}

// Run blocks until ctx is done and every part has stopped.
func (c *Controller) Run(ctx context.Context) {
	var wg sync.WaitGroup
	wg.Go(func() { c.serviceAccounts.run(ctx, 5) })
	wg.Go(func() { c.tokens.run(ctx, 5) })
	wg.Go(func() { c.keyIDs.run(ctx) })
	wg.Go(func() { c.legacyPull.run(ctx, 5) })
	wg.Go(func() { c.legacyTokens.run(ctx, 5) })
	wg.Wait()
}
