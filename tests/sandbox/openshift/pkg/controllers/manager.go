// Package controllers runs the sandbox's stand-in for the parts of openshift-controller-manager the sandbox
// needs: service accounts builder and deployer, the system:image-pullers RoleBindings, the service accounts'
// internal registry pull secrets, and image stream imports.
package controllers

import (
	"context"
	"fmt"
	"sync"
	"time"

	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/klog/v2"

	"github.com/openshift-ops/images/tests/sandbox/openshift/pkg/controllers/imageimport"
	"github.com/openshift-ops/images/tests/sandbox/openshift/pkg/controllers/imagepullers"
	"github.com/openshift-ops/images/tests/sandbox/openshift/pkg/controllers/pullsecrets"
	"github.com/openshift-ops/images/tests/sandbox/openshift/pkg/controllers/serviceaccounts"
)

// Options are the binary's flags.
type Options struct {
	Kubeconfig string
	// InternalRegistryHostname is one more host name the managed pull secrets cover (OpenShift's
	// dockerPullSecret.registryURLs); the registry Service's own names are always covered.
	InternalRegistryHostname string
	// ScheduledImportInterval is how often tags with importPolicy.scheduled are re-imported; 0 disables.
	ScheduledImportInterval time.Duration
	// MaxScheduledImportsPerMinute caps scheduled imports; 0 means no cap.
	MaxScheduledImportsPerMinute int
}

// informerResync is openshift-controller-manager's resync period for all its informers.
const informerResync = 10 * time.Minute

// userAgentPrefix starts the user agent of every request, followed by the name of the service account
// OpenShift runs that controller as, so audit logs tell the controllers apart.
const userAgentPrefix = "sandbox-openshift-controller-manager/"

// Run starts every controller and blocks until ctx is done and they have all stopped.
func Run(ctx context.Context, opts Options) error {
	base, err := clientcmd.BuildConfigFromFlags("", opts.Kubeconfig)
	if err != nil {
		return fmt.Errorf("loading kubeconfig: %w", err)
	}
	// The sandbox is small and its tests wait on these controllers: no client-side throttling to speak of.
	base.QPS, base.Burst = 100, 200

	kubeClient := func(name string) (*kubernetes.Clientset, error) {
		return kubernetes.NewForConfig(withUserAgent(base, name))
	}
	informerClient, err := kubeClient("shared-informers")
	if err != nil {
		return err
	}
	factory := informers.NewSharedInformerFactory(informerClient, informerResync)
	core := factory.Core().V1()

	serviceAccountClient, err := kubeClient("serviceaccount-controller")
	if err != nil {
		return err
	}
	roleBindingClient, err := kubeClient("default-rolebindings-controller")
	if err != nil {
		return err
	}
	pullSecretClient, err := kubeClient("serviceaccount-pull-secrets-controller")
	if err != nil {
		return err
	}
	imageClient, err := imageimport.NewRESTClient(withUserAgent(base, "image-import-controller"))
	if err != nil {
		return err
	}
	imageInformerClient, err := imageimport.NewRESTClient(withUserAgent(base, "shared-informers"))
	if err != nil {
		return err
	}
	imageStreams := imageimport.NewImageStreamInformer(imageInformerClient, informerResync)

	var additionalRegistryURLs []string
	if opts.InternalRegistryHostname != "" {
		additionalRegistryURLs = []string{opts.InternalRegistryHostname}
	}
	// Built before the informers start, so that every handler sees every object.
	serviceAccounts := serviceaccounts.New(serviceAccountClient, core.Namespaces(), core.ServiceAccounts(), serviceaccounts.DefaultNames)
	imagePullers := imagepullers.New(roleBindingClient, core.Namespaces(), factory.Rbac().V1().RoleBindings())
	pullSecrets := pullsecrets.New(pullSecretClient, factory, additionalRegistryURLs)
	imageImport := imageimport.New(imageimport.RESTImporter{Client: imageClient}, imageStreams, imageimport.ScheduledOptions{
		Interval:            opts.ScheduledImportInterval,
		MaxImportsPerMinute: opts.MaxScheduledImportsPerMinute,
	})
	// worker counts as in openshift-controller-manager
	runners := []struct {
		name string
		run  func(context.Context)
	}{
		{serviceaccounts.Name, func(ctx context.Context) { serviceAccounts.Run(ctx, 3) }},
		{imagepullers.Name, func(ctx context.Context) { imagePullers.Run(ctx, 5) }},
		{pullsecrets.Name, pullSecrets.Run},
		{imageimport.Name, func(ctx context.Context) { imageImport.Run(ctx, 50) }},
	}

	factory.Start(ctx.Done())
	var wg sync.WaitGroup
	wg.Go(func() { imageStreams.RunWithContext(ctx) })
	for _, r := range runners {
		wg.Go(func() { r.run(ctx) })
		// the sandbox launcher waits for this line for image-import, as it did for openshift-controller-manager
		klog.Infof("Started %q", r.name)
	}
	klog.InfoS("Started all controllers")

	<-ctx.Done()
	klog.InfoS("Shutting down")
	wg.Wait()
	factory.Shutdown()
	return nil
}

func withUserAgent(base *rest.Config, name string) *rest.Config {
	cfg := rest.CopyConfig(base)
	cfg.UserAgent = userAgentPrefix + name
	return cfg
}
