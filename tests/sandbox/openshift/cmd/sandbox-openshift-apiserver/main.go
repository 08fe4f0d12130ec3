// Command sandbox-openshift-apiserver serves image.openshift.io/v1 for the test sandbox, aggregated behind
// kube-apiserver (an APIService), storing in the sandbox's etcd: the sandbox's stand-in for openshift-apiserver's
// image API, on OpenShift's own types.
package main

import (
	"context"
	"fmt"
	"os"

	imagev1 "github.com/openshift/api/image/v1"
	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	genericapiserver "k8s.io/apiserver/pkg/server"
	genericoptions "k8s.io/apiserver/pkg/server/options"
	"k8s.io/apiserver/pkg/util/compatibility"
	utilfeature "k8s.io/apiserver/pkg/util/feature"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/component-base/cli"

	"github.com/openshift-ops/images/tests/sandbox/openshift/pkg/apis/image"
	"github.com/openshift-ops/images/tests/sandbox/openshift/pkg/apiserver"
)

// OpenShift's servers keep their objects under this etcd prefix.
const etcdPrefix = "/openshift.io"

type options struct {
	recommended      *genericoptions.RecommendedOptions
	internalRegistry string
	registryCAFile   string
}

func newOptions() *options {
	recommended := genericoptions.NewRecommendedOptions(etcdPrefix, image.Codecs.LegacyCodec(imagev1.GroupVersion))
	recommended.Etcd.StorageConfig.EncodeVersioner = runtime.NewMultiGroupVersioner(imagev1.GroupVersion,
		schema.GroupKind{Group: image.GroupName})
	return &options{
		recommended:      recommended,
		internalRegistry: "image-registry.openshift-image-registry.svc:5000",
	}
}

func (o *options) config() (*apiserver.Config, error) {
	generic := genericapiserver.NewRecommendedConfig(image.Codecs)
	apiserver.ConfigureOpenAPI(generic)
	generic.FeatureGate = utilfeature.DefaultFeatureGate
	generic.EffectiveVersion = compatibility.DefaultBuildEffectiveVersion()
	if err := o.recommended.ApplyTo(generic); err != nil {
		return nil, err
	}
	kubeconfig := o.recommended.CoreAPI.CoreAPIKubeconfigPath
	if kubeconfig == "" {
		return nil, fmt.Errorf("--kubeconfig is required: the server reads secrets, LimitRanges and images.config")
	}
	restConfig, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		return nil, err
	}
	// Imports list the namespace's secrets and cross-namespace tags ask for SubjectAccessReviews through this
	// client. At client-go's default limits (5 per second, bursts of 10) a run of such writes would wait for the
	// limiter; openshift-apiserver's own client is not held to those defaults, and the sandbox's controllers use
	// the same figures.
	restConfig.QPS, restConfig.Burst = 100, 200
	kube, err := kubernetes.NewForConfig(restConfig)
	if err != nil {
		return nil, err
	}
	dynamicClient, err := dynamic.NewForConfig(restConfig)
	if err != nil {
		return nil, err
	}
	return &apiserver.Config{Generic: generic, Extra: apiserver.ExtraConfig{
		InternalRegistry: o.internalRegistry,
		Kube:             kube,
		Dynamic:          dynamicClient,
		RegistryCAFile:   o.registryCAFile,
	}}, nil
}

func (o *options) run(ctx context.Context) error {
	if errs := o.recommended.Validate(); len(errs) > 0 {
		return fmt.Errorf("invalid options: %v", errs)
	}
	config, err := o.config()
	if err != nil {
		return err
	}
	server, err := config.New()
	if err != nil {
		return err
	}
	return server.PrepareRun().RunWithContext(ctx)
}

func main() {
	o := newOptions()
	command := &cobra.Command{
		Use:   "sandbox-openshift-apiserver",
		Short: "Serve image.openshift.io/v1 for the openshift_ops.images test sandbox",
		RunE: func(cmd *cobra.Command, _ []string) error {
			return o.run(cmd.Context())
		},
	}
	command.SetContext(genericapiserver.SetupSignalContext())
	flags := command.Flags()
	o.recommended.AddFlags(flags)
	flags.StringVar(&o.internalRegistry, "internal-registry-hostname", o.internalRegistry,
		"host name of the integrated registry (status.dockerImageRepository)")
	flags.StringVar(&o.registryCAFile, "registry-ca-file", "", "CA bundle trusted for imports, besides the system pool")
	os.Exit(cli.Run(command))
}
