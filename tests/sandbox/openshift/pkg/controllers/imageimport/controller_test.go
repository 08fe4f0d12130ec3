package imageimport

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	imagev1 "github.com/openshift/api/image/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/flowcontrol"
)

// recordingImporter records the imports posted and answers with err.
type recordingImporter struct {
	mu      sync.Mutex
	imports []*imagev1.ImageStreamImport
	err     error
}

func (r *recordingImporter) Import(_ context.Context, isi *imagev1.ImageStreamImport) (*imagev1.ImageStreamImport, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.imports = append(r.imports, isi.DeepCopy())
	return &imagev1.ImageStreamImport{}, r.err
}

// idleInformer is an image stream informer that is never run: tests fill its cache directly.
func idleInformer() cache.SharedIndexInformer {
	lw := &cache.ListWatch{
		ListFunc:  func(metav1.ListOptions) (runtime.Object, error) { return &imagev1.ImageStreamList{}, nil },
		WatchFunc: func(metav1.ListOptions) (watch.Interface, error) { return watch.NewFake(), nil },
	}
	return cache.NewSharedIndexInformer(lw, &imagev1.ImageStream{}, 0, cache.Indexers{})
}

type recordingNotifier struct{ streams []string }

func (n *recordingNotifier) importing(stream *imagev1.ImageStream) {
	n.streams = append(n.streams, stream.Namespace+"/"+stream.Name)
}

func TestStreamSyncImportsAndNotifies(t *testing.T) {
	informer := idleInformer()
	importer := &recordingImporter{}
	c := newStreamController(importer, informer)
	n := &recordingNotifier{}
	c.notifier = n
	_ = informer.GetIndexer().Add(checkedStream(2, dockerTag("latest", "r/app:latest", 2)))
	imported := withEvent(checkedStream(1, dockerTag("v1", "r/app:v1", 1)), "v1", 1)
	imported.Name = "imported"
	_ = informer.GetIndexer().Add(imported)
	_ = informer.GetIndexer().Add(&imagev1.ImageStream{ObjectMeta: metav1.ObjectMeta{Name: "done", Namespace: "ns"}})

	for _, key := range []string{"ns/app", "ns/imported", "ns/done", "ns/missing"} {
		if err := c.sync(context.Background(), key); err != nil {
			t.Fatalf("%s: %v", key, err)
		}
	}
	if len(importer.imports) != 1 || importer.imports[0].Name != "app" || len(n.streams) != 1 {
		t.Errorf("imports %+v, notified %v", importer.imports, n.streams)
	}

	importer.err = apierrors.NewServiceUnavailable("restarting")
	if err := c.sync(context.Background(), "ns/app"); !apierrors.IsServiceUnavailable(err) {
		t.Errorf("failed import returned %v", err)
	}
	importer.err = apierrors.NewNotFound(schema.GroupResource{Group: "image.openshift.io", Resource: "imageStream"}, "app")
	if err := c.sync(context.Background(), "ns/app"); !errors.Is(err, ErrNotImportable) {
		t.Errorf("import into a missing stream returned %v", err)
	}
}

func TestImportError(t *testing.T) {
	missingStream := &apierrors.StatusError{ErrStatus: metav1.Status{
		Status: metav1.StatusFailure, Code: 404, Reason: metav1.StatusReasonNotFound,
		Details: &metav1.StatusDetails{Kind: "imageStream", Name: "app"},
	}}
	if !errors.Is(importError(missingStream), ErrNotImportable) {
		t.Error("missing stream not mapped")
	}
	other := apierrors.NewNotFound(schema.GroupResource{Resource: "namespaces"}, "ns")
	if importError(other) != other {
		t.Error("other not found mapped")
	}
}

func TestScheduledSync(t *testing.T) {
	informer := idleInformer()
	importer := &recordingImporter{}
	c := newScheduledController(importer, informer, ScheduledOptions{Interval: 30 * time.Second})
	scheduled := dockerTag("latest", "r/app:latest", 2)
	scheduled.ImportPolicy.Scheduled = true
	stream := withEvent(checkedStream(2, scheduled), "latest", 2)
	_ = informer.GetIndexer().Add(stream)
	version := streamVersion{uid: "stream-uid", resourceVersion: "42"}

	c.schedule(stream)
	c.schedule(checkedStream(1, dockerTag("plain", "r/app:plain", 1))) // nothing scheduled: ignored
	if c.scheduler.len() != 1 {
		t.Fatalf("%d scheduled", c.scheduler.len())
	}
	c.syncScheduled(context.Background(), "ns/app", version)
	if len(importer.imports) != 1 || importer.imports[0].Spec.Images[0].To.Name != "latest" {
		t.Fatalf("imports %+v", importer.imports)
	}
	if c.scheduler.len() != 1 {
		t.Error("unscheduled after a successful import")
	}

	// over the cap: skipped this round, still scheduled
	c.limiter = flowcontrol.NewFakeNeverRateLimiter()
	c.syncScheduled(context.Background(), "ns/app", version)
	if len(importer.imports) != 1 || c.scheduler.len() != 1 {
		t.Errorf("rate limited: %d imports, %d scheduled", len(importer.imports), c.scheduler.len())
	}
	c.limiter = flowcontrol.NewFakeAlwaysRateLimiter()

	// the stream is gone: unscheduled
	_ = informer.GetIndexer().Delete(stream)
	c.syncScheduled(context.Background(), "ns/app", version)
	if c.scheduler.len() != 0 {
		t.Error("still scheduled after the stream went away")
	}
}

func TestScheduledOptions(t *testing.T) {
	for _, tc := range []struct {
		interval time.Duration
		buckets  int
	}{{30 * time.Second, 2}, {15 * time.Minute, 4}, {2 * time.Hour, 8}} {
		if got := (ScheduledOptions{Interval: tc.interval}).buckets(); got != tc.buckets {
			t.Errorf("%v: %d buckets", tc.interval, got)
		}
	}
}
