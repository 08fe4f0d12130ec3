package imageimport

import (
	"context"
	"errors"
	"time"

	imagev1 "github.com/openshift/api/image/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/flowcontrol"
	"k8s.io/klog/v2"

	"github.com/openshift-ops/images/tests/sandbox/openshift/pkg/controllers/internal/worker"
)

// ScheduledOptions configure periodic re-imports.
type ScheduledOptions struct {
	// Interval is how often each scheduled stream is re-imported (OpenShift's
	// scheduledImageImportMinimumIntervalSeconds; 15 minutes there, 30 s in the sandbox).
	Interval time.Duration
	// MaxImportsPerMinute caps scheduled imports over all streams, with bursts of twice that; 0 means no cap.
	MaxImportsPerMinute int
}

// buckets: OpenShift spreads streams over 4 buckets, 8 for intervals over an hour, 2 for intervals under 10 min.
func (o ScheduledOptions) buckets() int {
	const base = 4
	switch {
	case o.Interval > time.Hour:
		return base * 2
	case o.Interval < 10*time.Minute:
		return base / 2
	}
	return base
}

// bucketLimiter lets the scheduler move to the next bucket buckets times per interval, so that each stream comes
// round once per interval.
func (o ScheduledOptions) bucketLimiter() flowcontrol.RateLimiter {
	return flowcontrol.NewTokenBucketRateLimiter(float32(o.buckets())/float32(o.Interval.Seconds()), 1)
}

func (o ScheduledOptions) importLimiter() flowcontrol.RateLimiter {
	if o.MaxImportsPerMinute <= 0 {
		return flowcontrol.NewFakeAlwaysRateLimiter()
	}
	return flowcontrol.NewTokenBucketRateLimiter(float32(o.MaxImportsPerMinute)/60, o.MaxImportsPerMinute*2)
}

// scheduledController re-imports the tags with importPolicy.scheduled of every stream once per interval. A stream
// over the per-minute cap waits for its next turn; one whose stream is gone or has no scheduled tag left is
// dropped until a change brings it back.
type scheduledController struct {
	importer  Importer
	streams   streamStore
	synced    cache.InformerSynced
	limiter   flowcontrol.RateLimiter
	scheduler *scheduler
}

// newScheduledController wires the controller to the image stream informer.
func newScheduledController(importer Importer, informer cache.SharedIndexInformer, opts ScheduledOptions) *scheduledController {
	c := &scheduledController{
		importer: importer,
		streams:  streamStore{informer.GetIndexer()},
		synced:   informer.HasSynced,
		limiter:  opts.importLimiter(),
	}
	c.scheduler = newScheduler(opts.buckets(), opts.bucketLimiter(), c.syncScheduled)
	_, _ = informer.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc: c.schedule,
		UpdateFunc: func(old, cur any) {
			oldStream, ok1 := old.(*imagev1.ImageStream)
			curStream, ok2 := cur.(*imagev1.ImageStream)
			if ok1 && ok2 && oldStream.ResourceVersion != curStream.ResourceVersion {
				c.schedule(cur)
			}
		},
		DeleteFunc: func(obj any) {
			if key, err := cache.DeletionHandlingMetaNamespaceKeyFunc(obj); err == nil {
				c.scheduler.remove(key)
			}
		},
	})
	return c
}

// schedule (re)schedules a stream that has scheduled tags. One that no longer has any stays until its next turn.
func (c *scheduledController) schedule(obj any) {
	stream, ok := obj.(*imagev1.ImageStream)
	if !ok || !needsScheduling(stream) {
		return
	}
	if key, err := cache.MetaNamespaceKeyFunc(stream); err == nil {
		c.scheduler.add(key, streamVersion{uid: string(stream.UID), resourceVersion: stream.ResourceVersion})
	}
}

// importing pushes the stream's next scheduled import back: it is being imported now.
func (c *scheduledController) importing(stream *imagev1.ImageStream) {
	if key, err := cache.MetaNamespaceKeyFunc(stream); err == nil {
		c.scheduler.delay(key)
	}
}

// run blocks until ctx is done.
func (c *scheduledController) run(ctx context.Context) {
	if !worker.WaitForSync(ctx, Name+"_scheduled", c.synced) {
		return
	}
	c.scheduler.run(ctx)
}

func (c *scheduledController) syncScheduled(ctx context.Context, key string, version streamVersion) {
	if !c.limiter.TryAccept() {
		klog.V(5).InfoS("Scheduled import over the rate limit, waiting for the next round", "key", key)
		return
	}
	cached, err := c.streams.get(key)
	if err != nil {
		klog.ErrorS(err, "Reading image stream", "key", key)
		return
	}
	if cached == nil || !needsScheduling(cached) {
		c.scheduler.removeVersion(key, version)
		return
	}
	stream := cached.DeepCopy()
	markScheduledTagsForImport(stream)
	klog.V(3).InfoS("Scheduled import", "namespace", stream.Namespace, "stream", stream.Name)
	if err := importStream(ctx, c.importer, stream, nil); err != nil {
		if errors.Is(err, ErrNotImportable) {
			c.scheduler.removeVersion(key, version)
			return
		}
		if ctx.Err() == nil {
			klog.ErrorS(err, "Scheduled import failed", "namespace", stream.Namespace, "stream", stream.Name)
		}
	}
}
