package imagestreams

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	imagev1 "github.com/openshift/api/image/v1"
	corev1 "k8s.io/api/core/v1"
)

func specNames(tags []imagev1.TagReference) []string {
	names := []string{}
	for _, tag := range tags {
		names = append(names, tag.Name)
	}
	return names
}

func TestNormalizeSpecTags(t *testing.T) {
	for _, tc := range []struct {
		name  string
		in    []imagev1.TagReference
		want  []string
		froms map[string]string // tag -> expected from.name
	}{
		{name: "nil", in: nil, want: []string{}},
		{name: "empty", in: []imagev1.TagReference{}, want: []string{}},
		{
			name: "sorted by name",
			in:   []imagev1.TagReference{tagRef("v2", "DockerImage", "q/a:2"), tagRef("latest", "DockerImage", "q/a:l"), tagRef("v1", "DockerImage", "q/a:1")},
			want: []string{"latest", "v1", "v2"},
		},
		{
			name:  "duplicates collapse, the last one wins",
			in:    []imagev1.TagReference{tagRef("b", "DockerImage", "first"), tagRef("a", "DockerImage", "a"), tagRef("b", "DockerImage", "second"), tagRef("b", "DockerImage", "third")},
			want:  []string{"a", "b"},
			froms: map[string]string{"a": "a", "b": "third"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := NormalizeSpecTags(tc.in)
			if names := specNames(got); !reflect.DeepEqual(names, tc.want) {
				t.Fatalf("names %v, want %v", names, tc.want)
			}
			for _, tag := range got {
				if want, ok := tc.froms[tag.Name]; ok && tag.From.Name != want {
					t.Errorf("tag %s from %q, want %q", tag.Name, tag.From.Name, want)
				}
			}
		})
	}
}

func TestNormalizeStatusTags(t *testing.T) {
	ev := func(image string) imagev1.TagEvent { return event("q/a@"+digest(image), digest(image), 1, at(0)) }
	onlyCondition := imagev1.NamedTagEventList{Tag: "failing", Conditions: []imagev1.TagEventCondition{failedCondition(1)}}
	for _, tc := range []struct {
		name string
		in   []imagev1.NamedTagEventList
		want []imagev1.NamedTagEventList
	}{
		{name: "nil", in: nil, want: nil},
		{name: "only empty histories", in: []imagev1.NamedTagEventList{{Tag: "a"}, {Tag: "b", Items: []imagev1.TagEvent{}}}, want: nil},
		{
			name: "sorted, empty ones dropped, conditions alone kept",
			in:   []imagev1.NamedTagEventList{history("v2", ev("2")), {Tag: "empty"}, onlyCondition, history("v1", ev("1"))},
			want: []imagev1.NamedTagEventList{onlyCondition, history("v1", ev("1")), history("v2", ev("2"))},
		},
		{
			name: "duplicates collapse, the last one wins",
			in:   []imagev1.NamedTagEventList{history("a", ev("1")), history("b", ev("b")), history("a", ev("2"), ev("1"))},
			want: []imagev1.NamedTagEventList{history("a", ev("2"), ev("1")), history("b", ev("b"))},
		},
		{
			name: "an empty last duplicate wins and is dropped",
			in:   []imagev1.NamedTagEventList{history("a", ev("1")), {Tag: "a"}},
			want: nil,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := NormalizeStatusTags(tc.in); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

func TestSpecTagAccessors(t *testing.T) {
	stream := newStream("ns", "app", 1)
	if _, ok := SpecTag(stream, "latest"); ok {
		t.Fatal("found a tag in an empty stream")
	}
	SetSpecTag(stream, tagRef("latest", "DockerImage", "q/a:1"))
	SetSpecTag(stream, tagRef("v1", "DockerImage", "q/a:v1"))
	SetSpecTag(stream, tagRef("latest", "DockerImage", "q/a:2"))
	if names := specNames(stream.Spec.Tags); !reflect.DeepEqual(names, []string{"latest", "v1"}) {
		t.Fatalf("set replaces in place and appends new tags: %v", names)
	}
	if tag, ok := SpecTag(stream, "latest"); !ok || tag.From.Name != "q/a:2" {
		t.Errorf("SpecTag(latest) = %+v, %v", tag, ok)
	}
	if !RemoveSpecTag(stream, "latest") || RemoveSpecTag(stream, "latest") {
		t.Error("RemoveSpecTag reports whether it removed something")
	}
	if names := specNames(stream.Spec.Tags); !reflect.DeepEqual(names, []string{"v1"}) {
		t.Errorf("after remove: %v", names)
	}
}

func TestStatusTagAccessors(t *testing.T) {
	stream := newStream("ns", "app", 1)
	if _, ok := StatusTag(stream, "latest"); ok {
		t.Fatal("found a history in an empty stream")
	}
	if LatestEvent(stream, "latest") != nil {
		t.Fatal("latest event of a missing tag")
	}
	first := event("q/a@"+digest("1"), digest("1"), 1, at(1))
	second := event("q/a@"+digest("2"), digest("2"), 2, at(2))
	SetStatusTag(stream, history("latest", first))
	SetStatusTag(stream, history("v1", first))
	SetStatusTag(stream, history("latest", second, first))
	if len(stream.Status.Tags) != 2 {
		t.Fatalf("set replaces in place: %+v", stream.Status.Tags)
	}
	if got := LatestEvent(stream, "latest"); got == nil || *got != second {
		t.Errorf("LatestEvent(latest) = %+v", got)
	}
	if got := LatestEvent(stream, ""); got == nil || *got != second {
		t.Errorf("the empty tag means latest: %+v", got)
	}
	// LatestEvent hands out a copy.
	LatestEvent(stream, "latest").Image = "changed"
	if stream.Status.Tags[0].Items[0].Image != digest("2") {
		t.Error("LatestEvent returned a pointer into the stream")
	}
	SetStatusTag(stream, imagev1.NamedTagEventList{Tag: "empty"})
	if LatestEvent(stream, "empty") != nil {
		t.Error("latest event of an empty history")
	}
	if !RemoveStatusTag(stream, "latest") || RemoveStatusTag(stream, "latest") {
		t.Error("RemoveStatusTag reports whether it removed something")
	}
	if _, ok := StatusTag(stream, "latest"); ok {
		t.Error("history still there after remove")
	}
}

func TestAddTagEvent(t *testing.T) {
	const (
		refA = "quay.io/ns/app@sha256:aaaa"
		refB = "quay.io/ns/app@sha256:bbbb"
	)
	older := event("quay.io/ns/app@sha256:0000", digest("0"), 1, at(0))
	current := event(refA, digest("a"), 2, at(1))
	conditions := []imagev1.TagEventCondition{failedCondition(2)}

	for _, tc := range []struct {
		name        string
		existing    *imagev1.NamedTagEventList // nil: no history
		next        imagev1.TagEvent
		wantChanged bool
		want        imagev1.NamedTagEventList
	}{
		{
			name:        "first event of a new tag",
			next:        event(refB, digest("b"), 3, at(5)),
			wantChanged: true,
			want:        history("latest", event(refB, digest("b"), 3, at(5))),
		},
		{
			name:        "a history with only conditions gets the event and loses the conditions",
			existing:    &imagev1.NamedTagEventList{Tag: "latest", Conditions: conditions},
			next:        event(refB, digest("b"), 3, at(5)),
			wantChanged: true,
			want:        history("latest", event(refB, digest("b"), 3, at(5))),
		},
		{
			name:        "same reference, image and generation is a no-op that keeps the conditions",
			existing:    &imagev1.NamedTagEventList{Tag: "latest", Items: []imagev1.TagEvent{current, older}, Conditions: conditions},
			next:        event(refA, digest("a"), 2, at(9)),
			wantChanged: false,
			want:        imagev1.NamedTagEventList{Tag: "latest", Items: []imagev1.TagEvent{current, older}, Conditions: conditions},
		},
		{
			name:        "only the generation differs: updated in place",
			existing:    &imagev1.NamedTagEventList{Tag: "latest", Items: []imagev1.TagEvent{current, older}, Conditions: conditions},
			next:        event(refA, digest("a"), 7, at(9)),
			wantChanged: true,
			want:        history("latest", event(refA, digest("a"), 7, at(1)), older),
		},
		{
			name:        "same reference, new image: updated in place",
			existing:    &imagev1.NamedTagEventList{Tag: "latest", Items: []imagev1.TagEvent{current, older}, Conditions: conditions},
			next:        event(refA, digest("c"), 7, at(9)),
			wantChanged: true,
			want:        history("latest", event(refA, digest("c"), 7, at(1)), older),
		},
		{
			name:        "same image, new reference: updated in place",
			existing:    &imagev1.NamedTagEventList{Tag: "latest", Items: []imagev1.TagEvent{current, older}, Conditions: conditions},
			next:        event(refB, digest("a"), 2, at(9)),
			wantChanged: true,
			want:        history("latest", event(refB, digest("a"), 2, at(1)), older),
		},
		{
			name:        "new reference and image: prepended",
			existing:    &imagev1.NamedTagEventList{Tag: "latest", Items: []imagev1.TagEvent{current, older}, Conditions: conditions},
			next:        event(refB, digest("b"), 2, at(9)),
			wantChanged: true,
			want:        history("latest", event(refB, digest("b"), 2, at(9)), current, older),
		},
		{
			name:        "an earlier event of the history does not matter",
			existing:    &imagev1.NamedTagEventList{Tag: "latest", Items: []imagev1.TagEvent{current, older}},
			next:        older,
			wantChanged: true,
			want:        history("latest", older, current, older),
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			stream := newStream("ns", "app", 3)
			other := history("other", older)
			stream.Status.Tags = []imagev1.NamedTagEventList{other}
			if tc.existing != nil {
				stream.Status.Tags = append(stream.Status.Tags, *tc.existing)
			}
			if changed := AddTagEvent(stream, "latest", tc.next); changed != tc.wantChanged {
				t.Errorf("changed = %v, want %v", changed, tc.wantChanged)
			}
			got, _ := StatusTag(stream, "latest")
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("history\n got %+v\nwant %+v", got, tc.want)
			}
			if o, _ := StatusTag(stream, "other"); !reflect.DeepEqual(o, other) {
				t.Errorf("another tag's history changed: %+v", o)
			}
		})
	}
}

func TestUpdateTrackingTags(t *testing.T) {
	stale := event("quay.io/ns/app@"+digest("0"), digest("0"), 1, at(0))
	next := event("quay.io/ns/app@"+digest("1"), digest("1"), 4, at(1))

	stream := newStream("ns", "app", 4)
	stream.Spec.Tags = []imagev1.TagReference{
		tagRef("v1", "DockerImage", "quay.io/ns/app:v1"),
		tagRef("bare", "ImageStreamTag", "v1"),
		tagRef("qualified", "ImageStreamTag", "app:v1"),
		withNamespace(tagRef("same-namespace", "ImageStreamTag", "app:v1"), "ns"),
		withNamespace(tagRef("other-namespace", "ImageStreamTag", "app:v1"), "other"),
		tagRef("other-stream", "ImageStreamTag", "other:v1"),
		tagRef("other-tag", "ImageStreamTag", "v2"),
		tagRef("prefix-tag", "ImageStreamTag", "v"),
		tagRef("docker-named-like-the-tag", "DockerImage", "v1"),
		tagRef("image", "ImageStreamImage", "app@"+digest("0")),
		{Name: "no-from"},
		tagRef("up-to-date", "ImageStreamTag", "v1"),
	}
	stream.Status.Tags = []imagev1.NamedTagEventList{
		history("bare", stale),
		history("other-namespace", stale),
		history("up-to-date", next),
	}

	if updated := UpdateTrackingTags(stream, "v1", next); updated != 3 {
		t.Errorf("updated %d histories, want 3 (bare, qualified, same-namespace)", updated)
	}
	for _, tag := range []string{"bare", "qualified", "same-namespace", "up-to-date"} {
		if got := LatestEvent(stream, tag); got == nil || *got != next {
			t.Errorf("%s follows v1: latest event %+v", tag, got)
		}
	}
	if h, _ := StatusTag(stream, "bare"); len(h.Items) != 2 {
		t.Errorf("bare: the new event joins the history as any other: %+v", h.Items)
	}
	for _, tag := range []string{"v1", "other-stream", "other-tag", "prefix-tag", "docker-named-like-the-tag", "image", "no-from"} {
		if _, ok := StatusTag(stream, tag); ok {
			t.Errorf("%s does not follow v1 but got a history", tag)
		}
	}
	if got := LatestEvent(stream, "other-namespace"); got == nil || *got != stale {
		t.Errorf("a tag of another namespace is not followed: %+v", got)
	}
}

func TestUpdateTrackingTagsEmptyTagMeansLatest(t *testing.T) {
	next := event("quay.io/ns/app@"+digest("1"), digest("1"), 4, at(1))
	stream := newStream("ns", "app", 4)
	stream.Spec.Tags = []imagev1.TagReference{tagRef("follower", "ImageStreamTag", "app:")}
	if UpdateTrackingTags(stream, "v1", next) != 0 {
		t.Error("`app:` follows latest, not v1")
	}
	if UpdateTrackingTags(stream, "latest", next) != 1 {
		t.Error("`app:` follows latest")
	}
}

func TestResolveImageID(t *testing.T) {
	const (
		hexShared = "aaaa1111"
		hexOther  = "aaaa2222"
		hexUnique = "bbbb"
	)
	shared, other, unique := digest(hexShared), digest(hexOther), digest(hexUnique)
	stream := newStream("ns", "app", 3)
	stream.Status.Tags = []imagev1.NamedTagEventList{
		history("v1", event("quay.io/ns/app@"+shared, shared, 1, at(1)), event("quay.io/ns/app@"+unique, unique, 1, at(2))),
		history("v2", event("quay.io/ns/app@"+shared, shared, 2, at(3))),
		history("v3", event("quay.io/ns/app@"+other, other, 2, at(4))),
	}
	before := time.Now().Add(-time.Second)

	for _, tc := range []struct {
		name      string
		id        string
		wantImage string
		wantErr   error
	}{
		{name: "full digest of an image in two histories", id: shared, wantImage: shared},
		{name: "hex prefix", id: hexUnique, wantImage: unique},
		{name: "digest prefix", id: "sha256:" + hexUnique, wantImage: unique},
		{name: "full hex", id: unique[len("sha256:"):], wantImage: unique},
		{name: "ambiguous prefix", id: "aaaa", wantErr: AmbiguousError{ID: "aaaa", Matches: []string{shared, other}}},
		{name: "ambiguous algorithm prefix", id: "sha256:", wantErr: AmbiguousError{ID: "sha256:", Matches: []string{shared, other, unique}}},
		{name: "no match", id: "cccc", wantErr: NotFoundError{ID: "cccc"}},
		{name: "no match of a digest", id: digest("cccc"), wantErr: NotFoundError{ID: digest("cccc")}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ResolveImageID(stream, tc.id)
			if tc.wantErr != nil {
				if got != nil || !reflect.DeepEqual(err, tc.wantErr) {
					t.Fatalf("got %+v, %#v; want error %#v", got, err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.Image != tc.wantImage || got.DockerImageReference != "quay.io/ns/app@"+tc.wantImage {
				t.Errorf("resolved %+v", got)
			}
			if got.Generation != 0 {
				t.Errorf("the resolved event carries no generation: %d", got.Generation)
			}
			if got.Created.Time.Before(before) {
				t.Errorf("the resolved event is created now, not copied: %v", got.Created)
			}
		})
	}

	var ambiguous AmbiguousError
	_, err := ResolveImageID(stream, "aaaa")
	if !errors.As(err, &ambiguous) {
		t.Fatalf("not an AmbiguousError: %v", err)
	}
	wantMessage := `multiple images match the prefix "aaaa": ` + shared + ", " + other
	if err.Error() != wantMessage {
		t.Errorf("message %q, want %q", err.Error(), wantMessage)
	}
	var notFound NotFoundError
	if _, err := ResolveImageID(newStream("ns", "empty", 1), "aaaa"); !errors.As(err, &notFound) || notFound.ID != "aaaa" ||
		!strings.Contains(err.Error(), `"aaaa"`) {
		t.Errorf("empty stream: %v", err)
	}
}

func TestTagConditions(t *testing.T) {
	stream := newStream("ns", "app", 2)
	failed := failedCondition(2)
	if HasTagCondition(stream, "latest", failed) {
		t.Fatal("condition on a missing tag")
	}
	SetTagConditions(stream, "latest", failed)
	if h, ok := StatusTag(stream, "latest"); !ok || len(h.Items) != 0 || !reflect.DeepEqual(h.Conditions, []imagev1.TagEventCondition{failed}) {
		t.Fatalf("SetTagConditions creates a history holding only the condition: %+v", h)
	}

	AddTagEvent(stream, "v1", event("q/a@"+digest("1"), digest("1"), 1, at(1)))
	SetTagConditions(stream, "v1", failed)
	if h, _ := StatusTag(stream, "v1"); len(h.Items) != 1 || len(h.Conditions) != 1 {
		t.Errorf("SetTagConditions keeps the events: %+v", h)
	}
	SetTagConditions(stream, "v1")
	if h, _ := StatusTag(stream, "v1"); len(h.Items) != 1 || len(h.Conditions) != 0 {
		t.Errorf("SetTagConditions with none clears them: %+v", h)
	}

	for _, tc := range []struct {
		name   string
		change func(*imagev1.TagEventCondition)
		want   bool
	}{
		{"same", func(*imagev1.TagEventCondition) {}, true},
		{"other type", func(c *imagev1.TagEventCondition) { c.Type = "Other" }, false},
		{"other status", func(c *imagev1.TagEventCondition) { c.Status = corev1.ConditionTrue }, false},
		{"other reason", func(c *imagev1.TagEventCondition) { c.Reason = "Unauthorized" }, false},
		{"other message", func(c *imagev1.TagEventCondition) { c.Message = "registry down" }, false},
		{"other time", func(c *imagev1.TagEventCondition) { c.LastTransitionTime = at(30) }, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			condition := failed
			tc.change(&condition)
			if got := HasTagCondition(stream, "latest", condition); got != tc.want {
				t.Errorf("HasTagCondition = %v, want %v", got, tc.want)
			}
		})
	}
}
