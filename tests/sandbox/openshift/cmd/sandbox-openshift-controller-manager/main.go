// Command sandbox-openshift-controller-manager is the sandbox's stand-in for the openshift-controller-manager
// controllers its tests rely on (see package controllers). It runs until SIGTERM or SIGINT.
package main

import (
	"context"
	"flag"
	"os"
	"os/signal"
	"syscall"
	"time"

	"k8s.io/klog/v2"

	"github.com/openshift-ops/images/tests/sandbox/openshift/pkg/controllers"
)

func main() {
	klog.InitFlags(nil)
	var opts controllers.Options
	flag.StringVar(&opts.Kubeconfig, "kubeconfig", "", "kubeconfig of the user the controllers run as (system:openshift-controller-manager)")
	flag.StringVar(&opts.InternalRegistryHostname, "internal-registry-hostname", "image-registry.openshift-image-registry.svc:5000",
		"registry host name the service accounts' pull secrets cover besides the registry Service's own names")
	flag.DurationVar(&opts.ScheduledImportInterval, "scheduled-import-interval", 30*time.Second,
		"how often image stream tags with importPolicy.scheduled are re-imported (0 disables scheduled imports)")
	flag.IntVar(&opts.MaxScheduledImportsPerMinute, "max-scheduled-imports-per-minute", 60,
		"cap on scheduled imports per minute (0: no cap)")
	flag.Parse()
	if opts.Kubeconfig == "" {
		klog.Error("--kubeconfig is required")
		os.Exit(2)
	}

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	err := controllers.Run(ctx, opts)
	if err != nil {
		klog.ErrorS(err, "Controller manager failed")
	}
	klog.Flush()
	if err != nil {
		os.Exit(1)
	}
}
