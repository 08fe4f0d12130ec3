package imagestreams

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	imagev1 "github.com/openshift/api/image/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

func TestParseFromReference(t *testing.T) {
	stream := newStream("ns", "app", 1)
	for _, tc := range []struct {
		kind, name              string
		wantStream, wantTagOrID string
		wantErr                 string
	}{
		{kind: "ImageStreamTag", name: "v1", wantStream: "app", wantTagOrID: "v1"},
		{kind: "ImageStreamTag", name: "other:v1", wantStream: "other", wantTagOrID: "v1"},
		{kind: "ImageStreamTag", name: "other:", wantStream: "other", wantTagOrID: ""},
		{kind: "ImageStreamTag", name: "a:b:c", wantErr: `invalid from.name "a:b:c" - it must be of the form <tag> or <stream>:<tag>`},
		{kind: "ImageStreamImage", name: "sha256:abc", wantStream: "app", wantTagOrID: "sha256:abc"},
		{kind: "ImageStreamImage", name: "other@sha256:abc", wantStream: "other", wantTagOrID: "sha256:abc"},
		{kind: "ImageStreamImage", name: "a@b@c", wantErr: `invalid from.name "a@b@c" - it must be of the form <id> or <stream>@<id>`},
		{kind: "DockerImage", name: "quay.io/ns/app:1", wantErr: `invalid from.kind "DockerImage" - only ImageStreamTag and ImageStreamImage are allowed`},
		{kind: "", name: "v1", wantErr: `invalid from.kind "" - only ImageStreamTag and ImageStreamImage are allowed`},
	} {
		t.Run(tc.kind+" "+tc.name, func(t *testing.T) {
			gotStream, gotTagOrID, err := ParseFromReference(stream, tc.kind, tc.name)
			if tc.wantErr != "" {
				if err == nil || err.Error() != tc.wantErr {
					t.Errorf("error %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil || gotStream != tc.wantStream || gotTagOrID != tc.wantTagOrID {
				t.Errorf("got %q, %q, %v; want %q, %q", gotStream, gotTagOrID, err, tc.wantStream, tc.wantTagOrID)
			}
		})
	}
}

// fakeStreams is a StreamGetter over a fixed set of streams that records what it was asked for.
type fakeStreams struct {
	streams map[string]*imagev1.ImageStream // namespace/name
	err     error                           // returned for every read when set
	asked   []string
}

func (f *fakeStreams) get(_ context.Context, namespace, name string) (*imagev1.ImageStream, error) {
	f.asked = append(f.asked, namespace+"/"+name)
	if f.err != nil {
		return nil, f.err
	}
	if stream, ok := f.streams[namespace+"/"+name]; ok {
		return stream.DeepCopy(), nil
	}
	return nil, apierrors.NewNotFound(schema.GroupResource{Group: "image.openshift.io", Resource: "imagestreams"}, name)
}

func streamWith(namespace, name string, histories ...imagev1.NamedTagEventList) *imagev1.ImageStream {
	stream := newStream(namespace, name, 1)
	stream.Status.Tags = histories
	return stream
}

// resolveCase describes one ResolveChangedTags call: the new stream's spec and status, the old stream (nil on
// create) and the streams the getter knows.
type resolveCase struct {
	name       string
	old        *imagev1.ImageStream
	spec       []imagev1.TagReference
	status     []imagev1.NamedTagEventList
	others     []*imagev1.ImageStream
	getterErr  error
	registry   string
	wantEvents map[string]imagev1.TagEvent // tag -> current event (Created is not compared); tags not named have none
	ignore     map[string]bool             // tags whose status is not checked
	wantLen    map[string]int              // tag -> history length, when it matters
	wantSpec   map[string]string           // tag -> spec generation after the call
	wantErrs   []*field.Error
	wantAsked  []string
	// follow runs FollowChangedHistories after the resolution (creates and imports; not spec updates).
	follow bool
}

const streamGeneration = 7

func runResolve(t *testing.T, tc resolveCase) *imagev1.ImageStream {
	t.Helper()
	stream := newStream("ns", "app", streamGeneration)
	stream.Spec.Tags = tc.spec
	stream.Status.Tags = tc.status
	getter := &fakeStreams{streams: map[string]*imagev1.ImageStream{}, err: tc.getterErr}
	for _, other := range tc.others {
		getter.streams[other.Namespace+"/"+other.Name] = other
	}
	registry := tc.registry
	if registry == "-" {
		registry = ""
	} else if registry == "" {
		registry = internalRegistry
	}
	errs := ResolveChangedTags(context.Background(), tc.old, stream, getter.get, registry)
	if tc.follow {
		FollowChangedHistories(stream, tc.old)
	}

	// OpenShift walks the tags of a map: the order of the errors is not part of its behaviour.
	if got, want := errorStrings(errs), errorStrings(tc.wantErrs); !reflect.DeepEqual(got, want) {
		t.Errorf("errors\n got %q\nwant %q", got, want)
	}
	if !reflect.DeepEqual(getter.asked, tc.wantAsked) {
		t.Errorf("streams read %v, want %v", getter.asked, tc.wantAsked)
	}
	for _, h := range stream.Status.Tags {
		if tc.ignore[h.Tag] {
			continue
		}
		want, ok := tc.wantEvents[h.Tag]
		switch {
		case !ok && len(h.Items) > 0:
			t.Errorf("tag %s got events %+v, want none", h.Tag, h.Items)
		case ok && len(h.Items) == 0:
			t.Errorf("tag %s has no event, want %+v", h.Tag, want)
		case ok:
			got := h.Items[0]
			got.Created = want.Created
			if got != want {
				t.Errorf("tag %s current event\n got %+v\nwant %+v", h.Tag, h.Items[0], want)
			}
		}
	}
	for tag := range tc.wantEvents {
		if _, ok := StatusTag(stream, tag); !ok {
			t.Errorf("tag %s has no history", tag)
		}
	}
	for tag, want := range tc.wantLen {
		if h, _ := StatusTag(stream, tag); len(h.Items) != want {
			t.Errorf("tag %s has %d events, want %d", tag, len(h.Items), want)
		}
	}
	for tag, want := range tc.wantSpec {
		if got := generationOf(stream, tag); got != want {
			t.Errorf("spec tag %s generation %s, want %s", tag, got, want)
		}
	}
	return stream
}

// errorStrings renders errors (type, field, value and detail), sorted.
func errorStrings(errs []*field.Error) []string {
	out := []string{}
	for _, err := range errs {
		out = append(out, err.Error())
	}
	sort.Strings(out)
	return out
}

func TestResolveChangedTagsOnCreate(t *testing.T) {
	imgA, imgB := digest("aa"), digest("bb")
	quayA := "quay.io/ns/app@" + imgA
	sourceEvent := event(quayA, imgA, 3, at(1))
	for _, tc := range []resolveCase{
		{
			name:       "a DockerImage reference tag points at its pull spec, with no image",
			spec:       []imagev1.TagReference{asReference(tagRef("ref", "DockerImage", "quay.io/ns/app:1"))},
			wantEvents: map[string]imagev1.TagEvent{"ref": {DockerImageReference: "quay.io/ns/app:1", Generation: streamGeneration}},
			wantSpec:   map[string]string{"ref": "7"},
		},
		{
			name:     "a DockerImage tag to import is left to the importer",
			spec:     []imagev1.TagReference{tagRef("imported", "DockerImage", "quay.io/ns/app:1")},
			wantSpec: map[string]string{"imported": "nil"},
		},
		{
			name:     "a tag without source",
			spec:     []imagev1.TagReference{{Name: "empty"}},
			wantSpec: map[string]string{"empty": "nil"},
		},
		{
			name: "a DockerImage tag without name is not a valid source",
			spec: []imagev1.TagReference{asReference(tagRef("noname", "DockerImage", ""))},
			wantErrs: []*field.Error{field.Invalid(field.NewPath("spec", "tags").Key("noname").Child("from", "name"), "",
				"must be of the form <tag>, <repo>:<tag>, <id>, or <repo>@<id>")},
		},
		{
			name: "an unknown kind",
			spec: []imagev1.TagReference{tagRef("odd", "Image", "v1")},
			wantErrs: []*field.Error{field.Invalid(field.NewPath("spec", "tags").Key("odd").Child("from", "name"), "v1",
				"must be of the form <tag>, <repo>:<tag>, <id>, or <repo>@<id>")},
		},
		{
			name: "a malformed ImageStreamTag name",
			spec: []imagev1.TagReference{tagRef("odd", "ImageStreamTag", "a:b:c")},
			wantErrs: []*field.Error{field.Invalid(field.NewPath("spec", "tags").Key("odd").Child("from", "name"), "a:b:c",
				"must be of the form <tag>, <repo>:<tag>, <id>, or <repo>@<id>")},
		},
		{
			name:       "an ImageStreamTag of another stream is copied with the stream's generation",
			spec:       []imagev1.TagReference{tagRef("copy", "ImageStreamTag", "other:v1")},
			others:     []*imagev1.ImageStream{streamWith("ns", "other", history("v1", sourceEvent, event("quay.io/ns/app@"+imgB, imgB, 1, at(0))))},
			wantEvents: map[string]imagev1.TagEvent{"copy": {DockerImageReference: quayA, Image: imgA, Generation: streamGeneration}},
			wantLen:    map[string]int{"copy": 1},
			wantSpec:   map[string]string{"copy": "7"},
			wantAsked:  []string{"ns/other"},
		},
		{
			name:       "an ImageStreamTag of another namespace",
			spec:       []imagev1.TagReference{withNamespace(tagRef("copy", "ImageStreamTag", "base:v1"), "shared")},
			others:     []*imagev1.ImageStream{streamWith("shared", "base", history("v1", sourceEvent))},
			wantEvents: map[string]imagev1.TagEvent{"copy": {DockerImageReference: quayA, Image: imgA, Generation: streamGeneration}},
			wantAsked:  []string{"shared/base"},
		},
		{
			name:      "the same stream name in another namespace is another stream",
			spec:      []imagev1.TagReference{withNamespace(tagRef("copy", "ImageStreamTag", "app:v1"), "shared")},
			status:    []imagev1.NamedTagEventList{history("v1", sourceEvent)},
			others:    []*imagev1.ImageStream{streamWith("shared", "app")},
			wantAsked: []string{"shared/app"},
			wantEvents: map[string]imagev1.TagEvent{
				"v1": sourceEvent,
			},
		},
		{
			name:       "an empty tag means latest",
			spec:       []imagev1.TagReference{tagRef("copy", "ImageStreamTag", "other:")},
			others:     []*imagev1.ImageStream{streamWith("ns", "other", history("latest", sourceEvent))},
			wantEvents: map[string]imagev1.TagEvent{"copy": {DockerImageReference: quayA, Image: imgA, Generation: streamGeneration}},
			wantAsked:  []string{"ns/other"},
		},
		{
			name: "a missing source stream",
			spec: []imagev1.TagReference{tagRef("copy", "ImageStreamTag", "missing:v1")},
			wantErrs: []*field.Error{
				field.NotFound(field.NewPath("spec", "tags").Key("copy").Child("from", "name"), "missing:v1"),
			},
			wantSpec:  map[string]string{"copy": "nil"},
			wantAsked: []string{"ns/missing"},
		},
		{
			name:      "a failing read of the source stream",
			spec:      []imagev1.TagReference{tagRef("copy", "ImageStreamTag", "other:v1")},
			getterErr: errors.New("etcd is down"),
			wantErrs: []*field.Error{
				field.Invalid(field.NewPath("spec", "tags").Key("copy").Child("from", "name"), "other:v1", "unable to retrieve image stream: etcd is down"),
			},
			wantAsked: []string{"ns/other"},
		},
		{
			name:      "a missing source tag is accepted and resolves to nothing",
			spec:      []imagev1.TagReference{tagRef("copy", "ImageStreamTag", "other:v9")},
			others:    []*imagev1.ImageStream{streamWith("ns", "other", history("v1", sourceEvent))},
			wantSpec:  map[string]string{"copy": "nil"},
			wantAsked: []string{"ns/other"},
		},
		{
			name:      "a source tag with only conditions resolves to nothing",
			spec:      []imagev1.TagReference{tagRef("copy", "ImageStreamTag", "other:v1")},
			others:    []*imagev1.ImageStream{streamWith("ns", "other", imagev1.NamedTagEventList{Tag: "v1", Conditions: []imagev1.TagEventCondition{failedCondition(1)}})},
			wantAsked: []string{"ns/other"},
		},
		{
			name:       "an ImageStreamImage of another stream",
			spec:       []imagev1.TagReference{tagRef("pinned", "ImageStreamImage", "other@"+imgA)},
			others:     []*imagev1.ImageStream{streamWith("ns", "other", history("v1", event("quay.io/ns/app@"+imgB, imgB, 1, at(0))), history("v2", sourceEvent))},
			wantEvents: map[string]imagev1.TagEvent{"pinned": {DockerImageReference: quayA, Image: imgA, Generation: streamGeneration}},
			wantSpec:   map[string]string{"pinned": "7"},
			wantAsked:  []string{"ns/other"},
		},
		{
			name:       "an ImageStreamImage by a short ID",
			spec:       []imagev1.TagReference{tagRef("pinned", "ImageStreamImage", "other@aa")},
			others:     []*imagev1.ImageStream{streamWith("ns", "other", history("v1", event("quay.io/ns/app@"+imgB, imgB, 1, at(0))), history("v2", sourceEvent))},
			wantEvents: map[string]imagev1.TagEvent{"pinned": {DockerImageReference: quayA, Image: imgA, Generation: streamGeneration}},
			wantAsked:  []string{"ns/other"},
		},
		{
			name:   "a missing ImageStreamImage",
			spec:   []imagev1.TagReference{tagRef("pinned", "ImageStreamImage", "other@"+imgB)},
			others: []*imagev1.ImageStream{streamWith("ns", "other", history("v1", sourceEvent))},
			wantErrs: []*field.Error{field.Invalid(field.NewPath("spec", "tags").Key("pinned").Child("from", "name"), "other@"+imgB,
				"error generating tag event: "+apierrors.NewNotFound(schema.GroupResource{Group: "image.openshift.io", Resource: "imagestreamimage"}, imgB).Error())},
			wantSpec:  map[string]string{"pinned": "nil"},
			wantAsked: []string{"ns/other"},
		},
		{
			name: "an ambiguous ImageStreamImage",
			spec: []imagev1.TagReference{tagRef("pinned", "ImageStreamImage", "other@sha256:")},
			others: []*imagev1.ImageStream{streamWith("ns", "other",
				history("v1", event("quay.io/ns/app@"+imgB, imgB, 1, at(0))), history("v2", sourceEvent))},
			wantErrs: []*field.Error{field.Invalid(field.NewPath("spec", "tags").Key("pinned").Child("from", "name"), "other@sha256:",
				"error generating tag event: "+apierrors.NewConflict(schema.GroupResource{Group: "image.openshift.io", Resource: "imagestreamimage"}, "sha256:",
					fmt.Errorf("multiple images match the prefix %q: %s, %s", "sha256:", imgA, imgB)).Error())},
			wantAsked: []string{"ns/other"},
		},
		{
			name: "errors of several tags are all reported",
			spec: []imagev1.TagReference{
				tagRef("a", "ImageStreamTag", "missing:v1"),
				asReference(tagRef("b", "DockerImage", "quay.io/ns/app:1")),
				tagRef("c", "ImageStreamTag", "a:b:c"),
			},
			wantErrs: []*field.Error{
				field.NotFound(field.NewPath("spec", "tags").Key("a").Child("from", "name"), "missing:v1"),
				field.Invalid(field.NewPath("spec", "tags").Key("c").Child("from", "name"), "a:b:c", "must be of the form <tag>, <repo>:<tag>, <id>, or <repo>@<id>"),
			},
			wantEvents: map[string]imagev1.TagEvent{"b": {DockerImageReference: "quay.io/ns/app:1", Generation: streamGeneration}},
			wantAsked:  []string{"ns/missing"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) { runResolve(t, tc) })
	}
}

func TestResolveChangedTagsSameStream(t *testing.T) {
	img := digest("aa")
	internal := internalPullSpec("ns", "app", img)
	source := event(internal, img, 3, at(1))
	// The getter fails on every read: a tag of this stream must not be read through it. The source history "v1"
	// is not checked: OpenShift copies an ImageStreamTag of the same stream through a pointer into that history and
	// so stamps the new generation on it too (see the report); an ImageStreamImage is resolved into a new event.
	for _, tc := range []resolveCase{
		{
			name:       "a bare tag",
			old:        streamWith("ns", "app", history("v1", source)),
			spec:       []imagev1.TagReference{tagRef("copy", "ImageStreamTag", "v1")},
			status:     []imagev1.NamedTagEventList{history("v1", source)},
			getterErr:  errors.New("must not be called"),
			wantEvents: map[string]imagev1.TagEvent{"copy": {DockerImageReference: internal, Image: img, Generation: streamGeneration}},
			ignore:     map[string]bool{"v1": true},
			wantSpec:   map[string]string{"copy": "7"},
		},
		{
			name:       "the stream's own name",
			old:        streamWith("ns", "app", history("v1", source)),
			spec:       []imagev1.TagReference{withNamespace(tagRef("copy", "ImageStreamTag", "app:v1"), "ns")},
			status:     []imagev1.NamedTagEventList{history("v1", source)},
			getterErr:  errors.New("must not be called"),
			wantEvents: map[string]imagev1.TagEvent{"copy": {DockerImageReference: internal, Image: img, Generation: streamGeneration}},
			ignore:     map[string]bool{"v1": true},
		},
		{
			name:       "an image ID of the stream",
			old:        streamWith("ns", "app", history("v1", source)),
			spec:       []imagev1.TagReference{tagRef("pinned", "ImageStreamImage", img)},
			status:     []imagev1.NamedTagEventList{history("v1", source)},
			getterErr:  errors.New("must not be called"),
			wantEvents: map[string]imagev1.TagEvent{"v1": source, "pinned": {DockerImageReference: internal, Image: img, Generation: streamGeneration}},
		},
	} {
		t.Run(tc.name, func(t *testing.T) { runResolve(t, tc) })
	}
}

func TestResolveChangedTagsInternalRegistry(t *testing.T) {
	img := digest("aa")
	for _, tc := range []struct {
		name      string
		tag       imagev1.TagReference
		sourceRef string
		registry  string
		wantRef   string
	}{
		{
			name:      "the source stream's internal pull spec is pointed at this stream",
			tag:       tagRef("copy", "ImageStreamTag", "other:v1"),
			sourceRef: internalPullSpec("ns", "other", img),
			wantRef:   internalPullSpec("ns", "app", img),
		},
		{
			name:      "also from another namespace",
			tag:       withNamespace(tagRef("copy", "ImageStreamTag", "other:v1"), "shared"),
			sourceRef: internalPullSpec("shared", "other", img),
			wantRef:   internalPullSpec("ns", "app", img),
		},
		{
			name:      "also for an ImageStreamImage",
			tag:       tagRef("copy", "ImageStreamImage", "other@"+img),
			sourceRef: internalPullSpec("ns", "other", img),
			wantRef:   internalPullSpec("ns", "app", img),
		},
		{
			name:      "a tagged internal pull spec keeps its tag",
			tag:       tagRef("copy", "ImageStreamTag", "other:v1"),
			sourceRef: internalRegistry + "/ns/other:v1",
			wantRef:   internalRegistry + "/ns/app:v1",
		},
		{
			name:      "not for a reference tag",
			tag:       asReference(tagRef("copy", "ImageStreamTag", "other:v1")),
			sourceRef: internalPullSpec("ns", "other", img),
			wantRef:   internalPullSpec("ns", "other", img),
		},
		{
			name:      "not for a pull spec of an external registry",
			tag:       tagRef("copy", "ImageStreamTag", "other:v1"),
			sourceRef: "quay.io/ns/other@" + img,
			wantRef:   "quay.io/ns/other@" + img,
		},
		{
			name:      "not for an internal pull spec of a third stream",
			tag:       tagRef("copy", "ImageStreamTag", "other:v1"),
			sourceRef: internalPullSpec("ns", "third", img),
			wantRef:   internalPullSpec("ns", "third", img),
		},
		{
			name:      "not for an internal pull spec of the source's name in another namespace",
			tag:       tagRef("copy", "ImageStreamTag", "other:v1"),
			sourceRef: internalPullSpec("elsewhere", "other", img),
			wantRef:   internalPullSpec("elsewhere", "other", img),
		},
		{
			name:      "not for another registry with the same path",
			tag:       tagRef("copy", "ImageStreamTag", "other:v1"),
			sourceRef: "registry.example.com:5000/ns/other@" + img,
			wantRef:   "registry.example.com:5000/ns/other@" + img,
		},
		{
			name:      "not when there is no internal registry",
			tag:       tagRef("copy", "ImageStreamTag", "other:v1"),
			sourceRef: internalPullSpec("ns", "other", img),
			registry:  "-",
			wantRef:   internalPullSpec("ns", "other", img),
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			namespace := "ns"
			if tc.tag.From.Namespace != "" {
				namespace = tc.tag.From.Namespace
			}
			runResolve(t, resolveCase{
				spec:       []imagev1.TagReference{tc.tag},
				others:     []*imagev1.ImageStream{streamWith(namespace, "other", history("v1", event(tc.sourceRef, img, 1, at(1))))},
				registry:   tc.registry,
				wantEvents: map[string]imagev1.TagEvent{"copy": {DockerImageReference: tc.wantRef, Image: img, Generation: streamGeneration}},
				wantAsked:  []string{namespace + "/other"},
			})
		})
	}
}

func TestResolveChangedTagsOnUpdate(t *testing.T) {
	imgOld, imgNew := digest("01"), digest("02")
	oldEvent := event("quay.io/ns/app@"+imgOld, imgOld, 3, at(1))
	newEvent := event("quay.io/ns/app@"+imgNew, imgNew, 5, at(2))
	other := streamWith("ns", "other", history("v1", newEvent))

	unchanged := withGeneration(tagRef("copy", "ImageStreamTag", "other:v1"), gen(3))
	oldStream := streamWith("ns", "app", history("copy", oldEvent))
	oldStream.Spec.Tags = []imagev1.TagReference{unchanged}

	for _, tc := range []resolveCase{
		{
			name:       "an unchanged tag is not resolved again",
			old:        oldStream,
			spec:       []imagev1.TagReference{unchanged},
			status:     []imagev1.NamedTagEventList{history("copy", oldEvent)},
			others:     []*imagev1.ImageStream{other},
			wantEvents: map[string]imagev1.TagEvent{"copy": oldEvent},
			wantSpec:   map[string]string{"copy": "3"},
		},
		{
			name:       "an unchanged tag whose source has no event is not touched either",
			old:        oldStream,
			spec:       []imagev1.TagReference{unchanged},
			others:     []*imagev1.ImageStream{other},
			wantSpec:   map[string]string{"copy": "3"},
			wantEvents: map[string]imagev1.TagEvent{},
		},
		{
			name:       "a generation reset to 0 resolves the tag again",
			old:        oldStream,
			spec:       []imagev1.TagReference{withGeneration(unchanged, gen(0))},
			status:     []imagev1.NamedTagEventList{history("copy", oldEvent)},
			others:     []*imagev1.ImageStream{other},
			wantEvents: map[string]imagev1.TagEvent{"copy": {DockerImageReference: newEvent.DockerImageReference, Image: imgNew, Generation: streamGeneration}},
			wantLen:    map[string]int{"copy": 2},
			wantSpec:   map[string]string{"copy": "7"},
			wantAsked:  []string{"ns/other"},
		},
		{
			name:       "a new source resolves the tag again",
			old:        oldStream,
			spec:       []imagev1.TagReference{withGeneration(tagRef("copy", "ImageStreamTag", "third:v1"), gen(3))},
			status:     []imagev1.NamedTagEventList{history("copy", oldEvent)},
			others:     []*imagev1.ImageStream{streamWith("ns", "third", history("v1", newEvent))},
			wantEvents: map[string]imagev1.TagEvent{"copy": {DockerImageReference: newEvent.DockerImageReference, Image: imgNew, Generation: streamGeneration}},
			wantSpec:   map[string]string{"copy": "7"},
			wantAsked:  []string{"ns/third"},
		},
		{
			name:       "a tag the old stream lacks is resolved",
			old:        oldStream,
			spec:       []imagev1.TagReference{unchanged, asReference(tagRef("added", "DockerImage", "quay.io/ns/app:2"))},
			status:     []imagev1.NamedTagEventList{history("copy", oldEvent)},
			others:     []*imagev1.ImageStream{other},
			wantEvents: map[string]imagev1.TagEvent{"copy": oldEvent, "added": {DockerImageReference: "quay.io/ns/app:2", Generation: streamGeneration}},
			wantSpec:   map[string]string{"copy": "3", "added": "7"},
		},
		{
			name: "a reference tag pointing at the same pull spec again at a new generation updates in place",
			old: func() *imagev1.ImageStream {
				s := streamWith("ns", "app", history("ref", event("quay.io/ns/app:1", "", 3, at(1))))
				s.Spec.Tags = []imagev1.TagReference{asReference(withGeneration(tagRef("ref", "DockerImage", "quay.io/ns/app:1"), gen(3)))}
				return s
			}(),
			spec:       []imagev1.TagReference{asReference(withGeneration(tagRef("ref", "DockerImage", "quay.io/ns/app:1"), gen(0)))},
			status:     []imagev1.NamedTagEventList{history("ref", event("quay.io/ns/app:1", "", 3, at(1)))},
			wantEvents: map[string]imagev1.TagEvent{"ref": {DockerImageReference: "quay.io/ns/app:1", Generation: streamGeneration}},
			wantLen:    map[string]int{"ref": 1},
			wantSpec:   map[string]string{"ref": "7"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) { runResolve(t, tc) })
	}
}

func TestResolveChangedTagsTracking(t *testing.T) {
	imgOld, imgNew := digest("01"), digest("02")
	oldEvent := event("quay.io/ns/app@"+imgOld, imgOld, 3, at(1))
	tracking := []imagev1.TagReference{
		withGeneration(tagRef("bare", "ImageStreamTag", "v1"), gen(3)),
		withGeneration(tagRef("qualified", "ImageStreamTag", "app:v1"), gen(3)),
		withGeneration(withNamespace(tagRef("other-namespace", "ImageStreamTag", "app:v1"), "elsewhere"), gen(3)),
		withGeneration(tagRef("other-stream", "ImageStreamTag", "other:v1"), gen(3)),
	}
	oldStatus := []imagev1.NamedTagEventList{
		history("bare", oldEvent), history("qualified", oldEvent), history("other-namespace", oldEvent),
		history("other-stream", oldEvent), history("v1", oldEvent),
	}
	old := newStream("ns", "app", 3)
	old.Spec.Tags = append([]imagev1.TagReference{asReference(withGeneration(tagRef("v1", "DockerImage", "quay.io/ns/app@"+imgOld), gen(3)))}, tracking...)
	old.Status.Tags = oldStatus

	t.Run("tags of this stream follow a changed tag", func(t *testing.T) {
		followed := imagev1.TagEvent{DockerImageReference: "quay.io/ns/app@" + imgNew, Generation: streamGeneration}
		stream := runResolve(t, resolveCase{
			follow: true,
			old:    old,
			spec:   append([]imagev1.TagReference{asReference(tagRef("v1", "DockerImage", "quay.io/ns/app@"+imgNew))}, tracking...),
			status: append([]imagev1.NamedTagEventList(nil), oldStatus...),
			wantEvents: map[string]imagev1.TagEvent{
				"v1": followed, "bare": followed, "qualified": followed,
				"other-namespace": oldEvent, "other-stream": oldEvent,
			},
			wantLen:  map[string]int{"v1": 2, "bare": 2, "qualified": 2, "other-namespace": 1},
			wantSpec: map[string]string{"v1": "7", "bare": "3", "qualified": "3", "other-namespace": "3", "other-stream": "3"},
		})
		if v1, bare := LatestEvent(stream, "v1"), LatestEvent(stream, "bare"); v1 == nil || bare == nil || *v1 != *bare {
			t.Errorf("the follower gets the very event: %+v vs %+v", v1, bare)
		}
	})

	t.Run("a spec update alone leaves the followers to the next import", func(t *testing.T) {
		moved := imagev1.TagEvent{DockerImageReference: "quay.io/ns/app@" + imgNew, Generation: streamGeneration}
		runResolve(t, resolveCase{
			old:    old,
			spec:   append([]imagev1.TagReference{asReference(tagRef("v1", "DockerImage", "quay.io/ns/app@"+imgNew))}, tracking...),
			status: append([]imagev1.NamedTagEventList(nil), oldStatus...),
			wantEvents: map[string]imagev1.TagEvent{
				"v1": moved, "bare": oldEvent, "qualified": oldEvent, "other-namespace": oldEvent, "other-stream": oldEvent,
			},
			wantLen:  map[string]int{"v1": 2, "bare": 1, "qualified": 1},
			wantSpec: map[string]string{"v1": "7", "bare": "3", "qualified": "3", "other-namespace": "3", "other-stream": "3"},
		})
	})

	t.Run("no change, no following", func(t *testing.T) {
		stale := append([]imagev1.NamedTagEventList(nil), oldStatus...)
		stale = append(stale[:4], history("v1", event("quay.io/ns/app@"+imgNew, imgNew, 3, at(5)))) // v1 moved, the followers did not
		same := old.DeepCopy()
		same.Status.Tags = stale
		runResolve(t, resolveCase{
			follow: true,
			old:    same,
			spec:   append([]imagev1.TagReference(nil), old.Spec.Tags...),
			status: append([]imagev1.NamedTagEventList(nil), stale...),
			wantEvents: map[string]imagev1.TagEvent{
				"v1": stale[4].Items[0], "bare": oldEvent, "qualified": oldEvent, "other-namespace": oldEvent, "other-stream": oldEvent,
			},
		})
	})

	t.Run("a history with only conditions has nothing to follow", func(t *testing.T) {
		conditionOnly := imagev1.NamedTagEventList{Tag: "v1", Conditions: []imagev1.TagEventCondition{failedCondition(3)}}
		runResolve(t, resolveCase{
			follow:     true,
			spec:       []imagev1.TagReference{tagRef("latest", "ImageStreamTag", "v1"), tagRef("v1", "DockerImage", "quay.io/ns/app:1")},
			status:     []imagev1.NamedTagEventList{conditionOnly},
			wantEvents: map[string]imagev1.TagEvent{},
		})
	})

	t.Run("on create every history is followed", func(t *testing.T) {
		// "latest" sorts before "v1", so it is looked at while v1 has no event yet.
		followed := imagev1.TagEvent{DockerImageReference: "quay.io/ns/app@" + imgNew, Generation: streamGeneration}
		runResolve(t, resolveCase{
			follow: true,
			spec: []imagev1.TagReference{
				tagRef("latest", "ImageStreamTag", "v1"),
				asReference(tagRef("v1", "DockerImage", "quay.io/ns/app@"+imgNew)),
			},
			wantEvents: map[string]imagev1.TagEvent{"v1": followed, "latest": followed},
			wantLen:    map[string]int{"latest": 1},
			wantSpec:   map[string]string{"v1": "7"}, // latest's depends on the order OpenShift meets the tags in
		})
	})

	t.Run("a tag written by this call is followed", func(t *testing.T) {
		img := digest("03")
		source := event("quay.io/ns/app@"+img, img, 2, at(3))
		followed := imagev1.TagEvent{DockerImageReference: source.DockerImageReference, Image: img, Generation: streamGeneration}
		runResolve(t, resolveCase{
			follow: true,
			old:    newStream("ns", "app", 6),
			spec:   []imagev1.TagReference{tagRef("copy", "ImageStreamTag", "other:v1"), tagRef("follower", "ImageStreamTag", "copy")},
			others: []*imagev1.ImageStream{streamWith("ns", "other", history("v1", source))},
			wantEvents: map[string]imagev1.TagEvent{
				"copy": followed, "follower": followed,
			},
			wantAsked: []string{"ns/other"},
		})
	})
}

// Tags an ImageStreamTag copies keep the source event's creation time on an update; a DockerImage reference or an
// ImageStreamImage gets a new one.
func TestResolveChangedTagsCreatedTimes(t *testing.T) {
	img := digest("aa")
	source := event("quay.io/ns/other@"+img, img, 1, at(1))
	stream := newStream("ns", "app", 2)
	stream.Spec.Tags = []imagev1.TagReference{
		tagRef("copy", "ImageStreamTag", "other:v1"),
		tagRef("pinned", "ImageStreamImage", "other@"+img),
		asReference(tagRef("ref", "DockerImage", "quay.io/ns/app:1")),
	}
	getter := &fakeStreams{streams: map[string]*imagev1.ImageStream{"ns/other": streamWith("ns", "other", history("v1", source))}}
	before := metav1.NewTime(time.Now().Add(-time.Second))
	if errs := ResolveChangedTags(context.Background(), newStream("ns", "app", 1), stream, getter.get, internalRegistry); len(errs) != 0 {
		t.Fatal(errs)
	}
	if got := LatestEvent(stream, "copy"); got == nil || !got.Created.Equal(&source.Created) {
		t.Errorf("copy: %+v", got)
	}
	for _, tag := range []string{"pinned", "ref"} {
		if got := LatestEvent(stream, tag); got == nil || got.Created.Before(&before) {
			t.Errorf("%s: %+v", tag, got)
		}
	}
	if !strings.HasPrefix(LatestEvent(stream, "pinned").DockerImageReference, "quay.io/ns/other@") {
		t.Errorf("pinned: %+v", LatestEvent(stream, "pinned"))
	}
}
