package apiserver

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/openshift/library-go/pkg/image/reference"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/watch"
	dynamicfake "k8s.io/client-go/dynamic/fake"
	clienttesting "k8s.io/client-go/testing"

	"github.com/openshift-ops/images/tests/sandbox/openshift/pkg/imagestreams"
)

const testInternalRegistry = "image-registry.openshift-image-registry.svc:5000"

// imagesConfigObject is an images.config.openshift.io object; registries nil leaves the field out.
func imagesConfigObject(name string, registries []any) *unstructured.Unstructured {
	spec := map[string]any{}
	if registries != nil {
		spec["allowedRegistriesForImport"] = registries
	}
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "config.openshift.io/v1",
		"kind":       "Image",
		"metadata":   map[string]any{"name": name},
		"spec":       spec,
	}}
}

func registry(domain string, insecure bool) any {
	entry := map[string]any{"domainName": domain}
	if insecure {
		entry["insecure"] = true
	}
	return entry
}

// fakeCluster is a fake dynamic client whose watches are registered before watching is closed, so a change made
// after that reaches the informer.
type fakeCluster struct {
	client   *dynamicfake.FakeDynamicClient
	watching chan struct{}
	once     sync.Once
}

func newFakeCluster(objects ...runtime.Object) *fakeCluster {
	client := dynamicfake.NewSimpleDynamicClientWithCustomListKinds(runtime.NewScheme(),
		map[schema.GroupVersionResource]string{imagesConfig: "ImageList"}, objects...)
	cluster := &fakeCluster{client: client, watching: make(chan struct{})}
	client.PrependWatchReactor("images", func(action clienttesting.Action) (bool, watch.Interface, error) {
		opts := action.(clienttesting.WatchActionImpl).ListOptions
		watcher, err := client.Tracker().Watch(imagesConfig, "", opts)
		cluster.once.Do(func() { close(cluster.watching) })
		return true, watcher, err
	})
	return cluster
}

// start runs the informer until the test ends and waits until it has listed and watches.
func (c *fakeCluster) start(t *testing.T) *allowlistSource {
	t.Helper()
	factory := newImagesConfigInformers(c.client, 0)
	source := newAllowlistSource(factory, testInternalRegistry)
	factory.Start(t.Context().Done())
	t.Cleanup(factory.Shutdown)
	for gvr, synced := range factory.WaitForCacheSync(t.Context().Done()) {
		if !synced {
			t.Fatalf("%v did not sync", gvr)
		}
	}
	select {
	case <-c.watching:
	case <-time.After(10 * time.Second):
		t.Fatal("the informer did not watch")
	}
	return source
}

func (c *fakeCluster) replace(t *testing.T, registries []any) {
	t.Helper()
	current, err := c.client.Resource(imagesConfig).Get(t.Context(), "cluster", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	wanted := imagesConfigObject("cluster", registries)
	wanted.SetResourceVersion(current.GetResourceVersion())
	if _, err := c.client.Resource(imagesConfig).Update(t.Context(), wanted, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
}

// admits says whether the allowlist lets pullSpec through (nil allows everything).
func admits(t *testing.T, list *imagestreams.Allowlist, pullSpec string) bool {
	t.Helper()
	ref, err := reference.Parse(pullSpec)
	if err != nil {
		t.Fatalf("%s: %v", pullSpec, err)
	}
	return list.Admit(ref, false) == nil
}

func allowlist(t *testing.T, source *allowlistSource) *imagestreams.Allowlist {
	t.Helper()
	list, err := source.Allowlist(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	return list
}

// eventually polls until the allowlist satisfies check, as a write after a change would see it.
func eventually(t *testing.T, source *allowlistSource, what string, check func(*imagestreams.Allowlist) bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !check(allowlist(t, source)) {
		if time.Now().After(deadline) {
			t.Fatalf("the cached allowlist never showed %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestAllowlistSourceReadsTheCachedObject(t *testing.T) {
	cases := []struct {
		name              string
		objects           []runtime.Object
		allowed, refused  []string
		everythingAllowed bool
	}{
		{name: "no images.config object", everythingAllowed: true},
		{
			name:              "no allowedRegistriesForImport",
			objects:           []runtime.Object{imagesConfigObject("cluster", nil)},
			everythingAllowed: true,
		},
		{
			name:              "an empty allowedRegistriesForImport",
			objects:           []runtime.Object{imagesConfigObject("cluster", []any{})},
			everythingAllowed: true,
		},
		{
			name: "domains, ports and insecure entries",
			objects: []runtime.Object{imagesConfigObject("cluster", []any{
				registry("quay.io", false), registry("*.example.com", false), registry("plain.test", true),
			})},
			allowed: []string{
				"quay.io/a/b:1", "registry.example.com/a/b:1", "plain.test:80/a/b:1",
				testInternalRegistry + "/ns/stream:1",
			},
			refused: []string{"ghcr.io/a/b:1", "quay.io:5000/a/b:1", "plain.test:443/a/b:1"},
		},
		{
			name: "only the object named cluster counts",
			objects: []runtime.Object{
				imagesConfigObject("cluster", []any{registry("quay.io", false)}),
				imagesConfigObject("other", []any{registry("ghcr.io", false)}),
			},
			allowed: []string{"quay.io/a/b:1"},
			refused: []string{"ghcr.io/a/b:1"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			list := allowlist(t, newFakeCluster(tc.objects...).start(t))
			if tc.everythingAllowed != (list == nil) {
				t.Fatalf("allowlist %+v; want nil (every registry allowed): %v", list, tc.everythingAllowed)
			}
			for _, pullSpec := range tc.allowed {
				if !admits(t, list, pullSpec) {
					t.Errorf("%s refused; want allowed", pullSpec)
				}
			}
			for _, pullSpec := range tc.refused {
				if admits(t, list, pullSpec) {
					t.Errorf("%s allowed; want refused", pullSpec)
				}
			}
		})
	}
}

func TestAllowlistSourceSeesChanges(t *testing.T) {
	cluster := newFakeCluster(imagesConfigObject("cluster", []any{registry("quay.io", false)}))
	source := cluster.start(t)
	if admits(t, allowlist(t, source), "ghcr.io/a/b:1") {
		t.Fatal("ghcr.io allowed before any change")
	}

	cluster.replace(t, []any{registry("ghcr.io", false)})
	eventually(t, source, "ghcr.io allowed and quay.io refused", func(list *imagestreams.Allowlist) bool {
		return admits(t, list, "ghcr.io/a/b:1") && !admits(t, list, "quay.io/a/b:1")
	})

	cluster.replace(t, nil)
	eventually(t, source, "the list reset", func(list *imagestreams.Allowlist) bool { return list == nil })

	cluster.replace(t, []any{registry("quay.io", false)})
	eventually(t, source, "the list set again", func(list *imagestreams.Allowlist) bool { return list != nil })

	if err := cluster.client.Resource(imagesConfig).Delete(t.Context(), "cluster", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	eventually(t, source, "the object deleted", func(list *imagestreams.Allowlist) bool { return list == nil })

	created := imagesConfigObject("cluster", []any{registry("ghcr.io", false)})
	if _, err := cluster.client.Resource(imagesConfig).Create(t.Context(), created, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	eventually(t, source, "the object created again", func(list *imagestreams.Allowlist) bool {
		return list != nil && admits(t, list, "ghcr.io/a/b:1") && !admits(t, list, "quay.io/a/b:1")
	})
}

func TestAllowlistSourceSendsNoRequestPerWrite(t *testing.T) {
	cluster := newFakeCluster(imagesConfigObject("cluster", []any{registry("quay.io", false)}))
	source := cluster.start(t)
	for range 50 {
		allowlist(t, source)
	}
	verbs := map[string]int{}
	for _, action := range cluster.client.Actions() {
		verbs[action.GetVerb()]++
		if list, ok := action.(clienttesting.ListAction); ok {
			if selector := list.GetListRestrictions().Fields.String(); selector != "metadata.name=cluster" {
				t.Errorf("%s with field selector %q; want metadata.name=cluster", action.GetVerb(), selector)
			}
		}
	}
	if verbs["list"] != 1 || verbs["watch"] != 1 || len(verbs) != 2 {
		t.Errorf("requests %v; want one list and one watch", verbs)
	}
}

func TestAllowlistSourceWaitsForTheFirstList(t *testing.T) {
	cluster := newFakeCluster(imagesConfigObject("cluster", []any{registry("quay.io", false)}))
	factory := newImagesConfigInformers(cluster.client, 0)
	source := newAllowlistSource(factory, testInternalRegistry)

	// Not started: a write gives up when its request does.
	expired, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()
	if list, err := source.Allowlist(expired); err == nil || !strings.Contains(err.Error(), "is not read yet") {
		t.Fatalf("before the first list: %+v, %v; want an error saying the config is not read yet", list, err)
	}

	// Started while a write waits: the write gets the list, not "every registry allowed".
	type answer struct {
		list *imagestreams.Allowlist
		err  error
	}
	answers := make(chan answer, 1)
	go func() {
		list, err := source.Allowlist(t.Context())
		answers <- answer{list, err}
	}()
	time.Sleep(100 * time.Millisecond)
	factory.Start(t.Context().Done())
	t.Cleanup(factory.Shutdown)
	select {
	case got := <-answers:
		if got.err != nil || got.list == nil || admits(t, got.list, "ghcr.io/a/b:1") {
			t.Fatalf("after the first list: %+v, %v; want the cluster's list", got.list, got.err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the waiting write never got an answer")
	}
}

func TestAllowlistSourceRefusesAMalformedList(t *testing.T) {
	config := imagesConfigObject("cluster", nil)
	config.Object["spec"] = map[string]any{"allowedRegistriesForImport": "quay.io"}
	source := newFakeCluster(config).start(t)
	if list, err := source.Allowlist(t.Context()); err == nil {
		t.Fatalf("a string for allowedRegistriesForImport: %+v, no error", list)
	}
}
