package imageimport

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	imagev1 "github.com/openshift/api/image/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
)

// fakeImageAPI serves a LIST of image streams, WATCHes that stay silent, and records the ImageStreamImports
// posted to it.
type fakeImageAPI struct {
	streams []imagev1.ImageStream
	mu      sync.Mutex
	posts   []imagev1.ImageStreamImport
	paths   []string
	posted  chan struct{}
}

func (f *fakeImageAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	switch {
	case r.Method == http.MethodGet && r.URL.Path == "/apis/image.openshift.io/v1/imagestreams" && r.URL.Query().Get("watch") == "true":
		w.WriteHeader(http.StatusOK)
		w.(http.Flusher).Flush()
		<-r.Context().Done()
	case r.Method == http.MethodGet && r.URL.Path == "/apis/image.openshift.io/v1/imagestreams":
		_ = json.NewEncoder(w).Encode(&imagev1.ImageStreamList{
			TypeMeta: metav1.TypeMeta{Kind: "ImageStreamList", APIVersion: "image.openshift.io/v1"},
			ListMeta: metav1.ListMeta{ResourceVersion: "100"},
			Items:    f.streams,
		})
	case r.Method == http.MethodPost:
		body, _ := io.ReadAll(r.Body)
		var isi imagev1.ImageStreamImport
		_ = json.Unmarshal(body, &isi)
		f.mu.Lock()
		f.posts = append(f.posts, isi)
		f.paths = append(f.paths, r.URL.Path+"?"+r.URL.RawQuery)
		f.mu.Unlock()
		isi.Status.Import = &imagev1.ImageStream{}
		w.WriteHeader(http.StatusCreated)
		_ = json.NewEncoder(w).Encode(&isi)
		f.posted <- struct{}{}
	default:
		http.NotFound(w, r)
	}
}

func TestImportsThroughTheRESTClient(t *testing.T) {
	stream := *checkedStream(2, dockerTag("latest", "registry.example.com/app:latest", 2))
	api := &fakeImageAPI{streams: []imagev1.ImageStream{stream}, posted: make(chan struct{}, 10)}
	server := httptest.NewServer(api)
	defer server.Close()

	client, err := NewRESTClient(&rest.Config{Host: server.URL})
	if err != nil {
		t.Fatal(err)
	}
	informer := NewImageStreamInformer(client, 0)
	c := New(RESTImporter{Client: client}, informer, ScheduledOptions{Interval: time.Hour})
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { informer.RunWithContext(ctx) })
	wg.Go(func() { c.Run(ctx, 2) })
	defer func() { cancel(); wg.Wait() }()

	select {
	case <-api.posted:
	case <-time.After(10 * time.Second):
		t.Fatal("no import posted")
	}
	api.mu.Lock()
	defer api.mu.Unlock()
	if want := "/apis/image.openshift.io/v1/namespaces/ns/imagestreamimports?timeout=1h0m0s"; api.paths[0] != want {
		t.Errorf("posted to %s, want %s", api.paths[0], want)
	}
	got := api.posts[0]
	if got.Kind != "ImageStreamImport" || got.APIVersion != "image.openshift.io/v1" || got.Name != "app" ||
		got.ResourceVersion != "42" || !got.Spec.Import || len(got.Spec.Images) != 1 ||
		got.Spec.Images[0].From.Name != "registry.example.com/app:latest" || got.Spec.Images[0].To.Name != "latest" {
		t.Errorf("posted %+v", got)
	}
}
