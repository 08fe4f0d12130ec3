package imageimport

import (
	"reflect"
	"testing"

	imagev1 "github.com/openshift/api/image/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func generation(g int64) *int64 { return &g }

func dockerTag(name, from string, gen int64) imagev1.TagReference {
	return imagev1.TagReference{
		Name:            name,
		From:            &corev1.ObjectReference{Kind: "DockerImage", Name: from},
		Generation:      generation(gen),
		ReferencePolicy: imagev1.TagReferencePolicy{Type: imagev1.SourceTagReferencePolicy},
	}
}

// checkedStream is a stream the API server has seen (checked annotation set) at generation gen.
func checkedStream(gen int64, tags ...imagev1.TagReference) *imagev1.ImageStream {
	return &imagev1.ImageStream{
		ObjectMeta: metav1.ObjectMeta{
			Name: "app", Namespace: "ns", UID: "stream-uid", ResourceVersion: "42", Generation: gen,
			Annotations: map[string]string{imagev1.DockerImageRepositoryCheckAnnotation: "2024-01-01T00:00:00Z"},
		},
		Spec: imagev1.ImageStreamSpec{Tags: tags},
	}
}

func withEvent(stream *imagev1.ImageStream, tag string, gen int64) *imagev1.ImageStream {
	stream.Status.Tags = append(stream.Status.Tags, imagev1.NamedTagEventList{
		Tag:   tag,
		Items: []imagev1.TagEvent{{Generation: gen, Image: "sha256:aaaa"}},
	})
	return stream
}

func withCondition(stream *imagev1.ImageStream, tag string, gen int64) *imagev1.ImageStream {
	stream.Status.Tags = append(stream.Status.Tags, imagev1.NamedTagEventList{
		Tag:        tag,
		Conditions: []imagev1.TagEventCondition{{Type: imagev1.ImportSuccess, Status: corev1.ConditionFalse, Generation: gen}},
	})
	return stream
}

func TestTagNeedsImport(t *testing.T) {
	latest := dockerTag("latest", "registry.example.com/app:latest", 2)
	for _, tc := range []struct {
		name   string
		stream *imagev1.ImageStream
		tag    imagev1.TagReference
		want   bool
	}{
		{"never imported", checkedStream(2, latest), latest, true},
		{"imported at an older generation", withEvent(checkedStream(2, latest), "latest", 1), latest, true},
		{"imported at its generation", withEvent(checkedStream(2, latest), "latest", 2), latest, false},
		{"failed at its generation", withCondition(checkedStream(2, latest), "latest", 2), latest, false},
		{"failed at an older generation", withCondition(checkedStream(2, latest), "latest", 1), latest, true},
		{"reference only", checkedStream(2), func() imagev1.TagReference { t := latest; t.Reference = true; return t }(), false},
		{"from an image stream tag", checkedStream(2), func() imagev1.TagReference {
			t := latest
			t.From = &corev1.ObjectReference{Kind: "ImageStreamTag", Name: "other:latest"}
			return t
		}(), false},
		{"no from", checkedStream(2), imagev1.TagReference{Name: "latest", Generation: generation(2)}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tagNeedsImport(tc.stream, tc.tag, false); got != tc.want {
				t.Errorf("got %v", got)
			}
		})
	}
	noGeneration := latest
	noGeneration.Generation = nil
	if tagNeedsImport(checkedStream(2), noGeneration, false) || !tagNeedsImport(checkedStream(2), noGeneration, true) {
		t.Error("a tag without generation goes by the caller's choice")
	}
}

func TestNeedsImport(t *testing.T) {
	imported := withEvent(checkedStream(2, dockerTag("latest", "r/app:latest", 2)), "latest", 2)
	if needed, _ := needsImport(imported); needed {
		t.Error("an imported stream needs import")
	}

	unchecked := imported.DeepCopy()
	unchecked.Annotations = nil
	if needed, partial := needsImport(unchecked); !needed || !partial {
		t.Errorf("unchecked stream with importable tags: needed=%v partial=%v", needed, partial)
	}
	unchecked.Spec.DockerImageRepository = "r/app"
	if needed, partial := needsImport(unchecked); !needed || partial {
		t.Errorf("unchecked stream with a repository: needed=%v partial=%v", needed, partial)
	}

	changed := imported.DeepCopy()
	changed.Spec.Tags = append(changed.Spec.Tags, dockerTag("v2", "r/app:v2", 3))
	if needed, partial := needsImport(changed); !needed || !partial {
		t.Errorf("new tag: needed=%v partial=%v", needed, partial)
	}
}

func TestBuildImport(t *testing.T) {
	latest := dockerTag("latest", "registry.example.com/app:latest", 2)
	latest.ImportPolicy = imagev1.TagImportPolicy{Insecure: true, Scheduled: true, ImportMode: imagev1.ImportModePreserveOriginal}
	latest.ReferencePolicy = imagev1.TagReferencePolicy{Type: imagev1.LocalTagReferencePolicy}
	done := dockerTag("done", "registry.example.com/app:done", 1)
	local := imagev1.TagReference{Name: "alias", From: &corev1.ObjectReference{Kind: "ImageStreamTag", Name: "app:latest"}, Generation: generation(2)}
	stream := withEvent(checkedStream(2, latest, done, local), "done", 1)

	want := &imagev1.ImageStreamImport{
		ObjectMeta: metav1.ObjectMeta{Name: "app", Namespace: "ns", ResourceVersion: "42", UID: "stream-uid"},
		Spec: imagev1.ImageStreamImportSpec{
			Import: true,
			Images: []imagev1.ImageImportSpec{{
				From:            corev1.ObjectReference{Kind: "DockerImage", Name: "registry.example.com/app:latest"},
				To:              &corev1.LocalObjectReference{Name: "latest"},
				ImportPolicy:    latest.ImportPolicy,
				ReferencePolicy: latest.ReferencePolicy,
			}},
		},
	}
	if got := buildImport(stream); !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v\nwant %+v", got, want)
	}

	// a full import (unchecked stream with a repository) takes every importable tag and the repository
	full := stream.DeepCopy()
	full.Annotations = map[string]string{imagev1.InsecureRepositoryAnnotation: "true"}
	full.Spec.DockerImageRepository = "registry.example.com/app"
	got := buildImport(full)
	if len(got.Spec.Images) != 2 || got.Spec.Images[1].To.Name != "done" {
		t.Errorf("full import images %+v", got.Spec.Images)
	}
	wantRepository := &imagev1.RepositoryImportSpec{
		From:         corev1.ObjectReference{Kind: "DockerImage", Name: "registry.example.com/app"},
		ImportPolicy: imagev1.TagImportPolicy{Insecure: true},
	}
	if !reflect.DeepEqual(got.Spec.Repository, wantRepository) {
		t.Errorf("repository %+v", got.Spec.Repository)
	}

	if got := buildImport(withEvent(checkedStream(1, done), "done", 1)); got != nil {
		t.Errorf("nothing to import, got %+v", got)
	}
}

func TestScheduling(t *testing.T) {
	scheduled := dockerTag("latest", "registry.example.com/app:latest", 2)
	scheduled.ImportPolicy.Scheduled = true
	pinned := dockerTag("pinned", "registry.example.com/app@sha256:"+
		"0123456789012345678901234567890123456789012345678901234567890123", 2)
	pinned.ImportPolicy.Scheduled = true
	plain := dockerTag("plain", "registry.example.com/app:plain", 2)

	if needsScheduling(checkedStream(2, plain)) {
		t.Error("a stream without scheduled tags is scheduled")
	}
	if !needsScheduling(checkedStream(2, plain, scheduled)) {
		t.Error("a scheduled tag is not scheduled")
	}
	if !needsScheduling(checkedStream(2, pinned)) {
		t.Error("a digest not imported yet is not scheduled")
	}
	if needsScheduling(withEvent(checkedStream(2, pinned), "pinned", 2)) {
		t.Error("an imported digest is still scheduled")
	}

	// all three imported at their generation: marking leaves only the scheduled tag (not the imported
	// digest, not the unscheduled one) needing import, so the import carries just that tag
	stream := withEvent(withEvent(withEvent(checkedStream(2, scheduled, pinned, plain), "latest", 2), "pinned", 2), "plain", 2)
	copied := stream.DeepCopy()
	markScheduledTagsForImport(copied)
	if *copied.Spec.Tags[0].Generation != 3 || *copied.Spec.Tags[1].Generation != 2 || *copied.Spec.Tags[2].Generation != 2 {
		t.Errorf("generations %d %d %d", *copied.Spec.Tags[0].Generation, *copied.Spec.Tags[1].Generation, *copied.Spec.Tags[2].Generation)
	}
	if *stream.Spec.Tags[0].Generation != 2 {
		t.Error("the original stream was modified")
	}
	isi := buildImport(copied)
	if isi == nil || len(isi.Spec.Images) != 1 || isi.Spec.Images[0].To.Name != "latest" || !isi.Spec.Images[0].ImportPolicy.Scheduled {
		t.Errorf("scheduled import %+v", isi)
	}
}
