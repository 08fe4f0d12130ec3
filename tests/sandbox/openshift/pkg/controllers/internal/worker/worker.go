// Package worker holds the plumbing the controllers share: draining a rate-limited work queue with a few
// goroutines and turning informer events into queue keys.
package worker

import (
	"context"
	"sync"
	"time"

	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/workqueue"
	"k8s.io/klog/v2"
)

// SyncFunc reconciles one key. A positive requeueAfter asks to see the key again after that long even though
// the sync succeeded (e.g. to refresh a token before it expires). An error requeues the key with backoff.
type SyncFunc[T comparable] func(ctx context.Context, key T) (requeueAfter time.Duration, err error)

// Plain adapts a sync that never asks for a timed requeue.
func Plain[T comparable](handle func(ctx context.Context, key T) error) SyncFunc[T] {
	return func(ctx context.Context, key T) (time.Duration, error) {
		return 0, handle(ctx, key)
	}
}

// Run drains queue with the given number of goroutines until ctx is done, then shuts the queue down and waits
// for the goroutines so that no write is in flight when it returns.
func Run[T comparable](ctx context.Context, name string, queue workqueue.TypedRateLimitingInterface[T], workers int, handle SyncFunc[T]) {
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			wait.UntilWithContext(ctx, func(ctx context.Context) {
				for processNext(ctx, name, queue, handle) {
				}
			}, time.Second)
		})
	}
	<-ctx.Done()
	queue.ShutDown()
	wg.Wait()
}

func processNext[T comparable](ctx context.Context, name string, queue workqueue.TypedRateLimitingInterface[T], handle SyncFunc[T]) bool {
	key, shutdown := queue.Get()
	if shutdown {
		return false
	}
	defer queue.Done(key)

	requeueAfter, err := handle(ctx, key)
	if err != nil {
		if ctx.Err() == nil {
			utilruntime.HandleErrorWithContext(ctx, err, "Sync failed, will retry", "controller", name, "key", key)
		}
		queue.AddRateLimited(key)
		return true
	}
	queue.Forget(key)
	if requeueAfter > 0 {
		queue.AddAfter(key, requeueAfter)
	}
	return true
}

// WaitForSync blocks until every informer has synced; false means ctx ended first.
func WaitForSync(ctx context.Context, name string, synced ...cache.InformerSynced) bool {
	klog.InfoS("Waiting for caches to sync", "controller", name)
	if !cache.WaitForCacheSync(ctx.Done(), synced...) {
		return false
	}
	klog.InfoS("Caches are synced", "controller", name)
	return true
}

// NewQueue is a named, typed queue with client-go's usual per-item exponential plus overall bucket backoff.
func NewQueue(name string) workqueue.TypedRateLimitingInterface[string] {
	return workqueue.NewTypedRateLimitingQueueWithConfig(
		workqueue.DefaultTypedControllerRateLimiter[string](),
		workqueue.TypedRateLimitingQueueConfig[string]{Name: name},
	)
}

// ObjectOf unwraps the tombstone a delete event may carry instead of the object itself.
func ObjectOf(obj any) any {
	if tombstone, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		return tombstone.Obj
	}
	return obj
}
