package imageimport

import (
	"context"
	"sync"
	"time"

	imagev1 "github.com/openshift/api/image/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/workqueue"
	"k8s.io/klog/v2"

	"github.com/openshift-ops/images/tests/sandbox/openshift/pkg/controllers/internal/worker"
)

// Name is the controller's name in openshift-controller-manager's configuration.
const Name = "openshift.io/image-import"

// notifier hears that a stream is being imported (the scheduled controller then pushes its next turn back).
type notifier interface {
	importing(stream *imagev1.ImageStream)
}

// streamController imports a stream's tags when their generation is ahead of its status: after a tag is added
// or changed, or when a stream was never checked. A failed import call is retried with per-stream exponential
// backoff; an import the server ran and recorded as failed (ImportSuccess=False at the tag's generation) is not.
type streamController struct {
	importer Importer
	streams  streamStore
	synced   cache.InformerSynced
	queue    workqueue.TypedRateLimitingInterface[string]
	notifier notifier
}

// newStreamController wires the controller to the image stream informer.
func newStreamController(importer Importer, informer cache.SharedIndexInformer) *streamController {
	c := &streamController{
		importer: importer,
		streams:  streamStore{informer.GetIndexer()},
		synced:   informer.HasSynced,
		// per item only (5ms doubling up to 1000s), without client-go's overall bucket limit
		queue: workqueue.NewTypedRateLimitingQueueWithConfig(
			workqueue.DefaultTypedItemBasedRateLimiter[string](),
			workqueue.TypedRateLimitingQueueConfig[string]{Name: "ImagestreamController"},
		),
	}
	_, _ = informer.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc: c.enqueue,
		// an unchanged resourceVersion is a resync: nothing new to look at
		UpdateFunc: func(old, cur any) {
			oldStream, ok1 := old.(*imagev1.ImageStream)
			curStream, ok2 := cur.(*imagev1.ImageStream)
			if ok1 && ok2 && oldStream.ResourceVersion != curStream.ResourceVersion {
				c.enqueue(cur)
			}
		},
	})
	return c
}

func (c *streamController) enqueue(obj any) {
	if _, ok := obj.(*imagev1.ImageStream); !ok {
		return
	}
	if key, err := cache.MetaNamespaceKeyFunc(obj); err == nil {
		c.queue.Add(key)
	}
}

// run blocks until ctx is done.
func (c *streamController) run(ctx context.Context, workers int) {
	defer c.queue.ShutDown()
	if !worker.WaitForSync(ctx, Name, c.synced) {
		return
	}
	worker.Run(ctx, Name, c.queue, workers, worker.Plain(c.sync))
}

func (c *streamController) sync(ctx context.Context, key string) error {
	started := time.Now()
	defer func() { klog.V(4).InfoS("Finished syncing image stream", "key", key, "took", time.Since(started)) }()

	stream, err := c.streams.get(key)
	if err != nil || stream == nil {
		return err
	}
	return importStream(ctx, c.importer, stream, c.notifier)
}

// importStream posts the import the stream needs, if any, telling n first.
func importStream(ctx context.Context, importer Importer, stream *imagev1.ImageStream, n notifier) error {
	isi := buildImport(stream)
	if isi == nil {
		klog.V(5).InfoS("Nothing to import", "namespace", stream.Namespace, "stream", stream.Name)
		return nil
	}
	klog.V(3).InfoS("Importing image stream", "namespace", stream.Namespace, "stream", stream.Name,
		"images", len(isi.Spec.Images), "repository", isi.Spec.Repository != nil)
	if n != nil {
		n.importing(stream)
	}
	result, err := importer.Import(ctx, isi)
	if err != nil {
		klog.V(4).InfoS("Import failed", "namespace", stream.Namespace, "stream", stream.Name, "error", err)
		return importError(err)
	}
	if klog.V(5).Enabled() && result.Status.Import != nil {
		klog.V(5).InfoS("Imported image stream", "namespace", stream.Namespace, "stream", stream.Name, "status", result.Status.Import.Status)
	}
	return nil
}

// Controller is the pair OpenShift runs as "openshift.io/image-import": imports on change, and scheduled
// re-imports which are pushed back whenever a stream is imported on change.
type Controller struct {
	streams   *streamController
	scheduled *scheduledController
}

// New wires both to the image stream informer; a zero scheduled.Interval disables scheduled imports.
func New(importer Importer, informer cache.SharedIndexInformer, scheduled ScheduledOptions) *Controller {
	c := &Controller{streams: newStreamController(importer, informer)}
	if scheduled.Interval > 0 {
		c.scheduled = newScheduledController(importer, informer, scheduled)
		c.streams.notifier = c.scheduled
	}
	return c
}

// Run blocks until ctx is done and both have stopped.
func (c *Controller) Run(ctx context.Context, workers int) {
	var wg sync.WaitGroup
	wg.Go(func() { c.streams.run(ctx, workers) })
	if c.scheduled != nil {
		wg.Go(func() { c.scheduled.run(ctx) })
	}
	wg.Wait()
}
