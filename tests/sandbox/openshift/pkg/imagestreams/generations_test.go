package imagestreams

import (
	"fmt"
	"testing"

	imagev1 "github.com/openshift/api/image/v1"
)

func TestTagRefChanged(t *testing.T) {
	base := tagRef("latest", "DockerImage", "quay.io/ns/app:1")
	change := func(f func(*imagev1.TagReference)) imagev1.TagReference {
		tag := base
		from := *base.From
		tag.From = &from
		f(&tag)
		return tag
	}
	for _, tc := range []struct {
		name      string
		old, next imagev1.TagReference
		want      bool
	}{
		{"identical", base, base, false},
		{"next without from", base, imagev1.TagReference{Name: "latest"}, false},
		{"next with an empty from", base, change(func(t *imagev1.TagReference) { t.From.Kind, t.From.Name = "", "" }), false},
		{"next with only a kind", base, change(func(t *imagev1.TagReference) { t.From.Name = "" }), true},
		{"old without from", imagev1.TagReference{Name: "latest"}, base, true},
		{"other name", base, change(func(t *imagev1.TagReference) { t.From.Name = "quay.io/ns/app:2" }), true},
		{"other kind, same name", base, change(func(t *imagev1.TagReference) { t.From.Kind = "ImageStreamTag" }), false},
		{"the stream's namespace spelled out", base, change(func(t *imagev1.TagReference) { t.From.Namespace = "ns" }), false},
		{"the stream's namespace dropped", withNamespace(base, "ns"), base, false},
		{"another namespace", base, change(func(t *imagev1.TagReference) { t.From.Namespace = "other" }), true},
		{"from another namespace back to the stream's", withNamespace(base, "other"), base, true},
		{"reference set", base, asReference(base), true},
		{"reference cleared", asReference(base), base, true},
		{"import mode", base, change(func(t *imagev1.TagReference) { t.ImportPolicy.ImportMode = imagev1.ImportModePreserveOriginal }), true},
		{"scheduled", base, change(func(t *imagev1.TagReference) { t.ImportPolicy.Scheduled = true }), false},
		{"insecure", base, change(func(t *imagev1.TagReference) { t.ImportPolicy.Insecure = true }), false},
		{"reference policy", base, change(func(t *imagev1.TagReference) { t.ReferencePolicy.Type = imagev1.LocalTagReferencePolicy }), false},
		{"annotations", base, change(func(t *imagev1.TagReference) { t.Annotations = map[string]string{"a": "b"} }), false},
		{"generation reset to 0", withGeneration(base, gen(3)), withGeneration(base, gen(0)), true},
		{"generation kept", withGeneration(base, gen(3)), withGeneration(base, gen(3)), false},
		{"generation raised", withGeneration(base, gen(3)), withGeneration(base, gen(5)), false},
		{"generation lowered but not to 0", withGeneration(base, gen(3)), withGeneration(base, gen(1)), false},
		{"generation 0 kept", withGeneration(base, gen(0)), withGeneration(base, gen(0)), false},
		{"generation 0 on a tag without one", base, withGeneration(base, gen(0)), false},
		{"generation dropped", withGeneration(base, gen(3)), base, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := TagRefChanged(tc.old, tc.next, "ns"); got != tc.want {
				t.Errorf("TagRefChanged = %v, want %v", got, tc.want)
			}
		})
	}
}

func generationOf(stream *imagev1.ImageStream, tag string) string {
	spec, ok := SpecTag(stream, tag)
	switch {
	case !ok:
		return "missing"
	case spec.Generation == nil:
		return "nil"
	}
	return fmt.Sprint(*spec.Generation)
}

func TestKeepSpecTagGenerations(t *testing.T) {
	old := newStream("ns", "app", 4)
	old.Spec.Tags = []imagev1.TagReference{
		withGeneration(tagRef("raised", "DockerImage", "q/a:1"), gen(2)),
		withGeneration(tagRef("reset", "DockerImage", "q/a:1"), gen(2)),
		withGeneration(tagRef("dropped", "DockerImage", "q/a:1"), gen(3)),
		tagRef("old-nil", "DockerImage", "q/a:1"),
		withGeneration(tagRef("changed", "DockerImage", "q/a:1"), gen(2)),
	}
	stream := newStream("ns", "app", 4)
	stream.Spec.Tags = []imagev1.TagReference{
		withGeneration(tagRef("raised", "DockerImage", "q/a:1"), gen(9)),
		withGeneration(tagRef("reset", "DockerImage", "q/a:1"), gen(0)),
		tagRef("dropped", "DockerImage", "q/a:1"),
		withGeneration(tagRef("old-nil", "DockerImage", "q/a:1"), gen(7)),
		withGeneration(tagRef("changed", "DockerImage", "q/a:2"), gen(1)),
		withGeneration(tagRef("new", "DockerImage", "q/a:1"), gen(5)),
		tagRef("new-nil", "DockerImage", "q/a:1"),
	}
	KeepSpecTagGenerations(stream, old)
	for tag, want := range map[string]string{
		"raised":  "2", // a client cannot set a generation...
		"reset":   "0", // ...except 0
		"dropped": "3",
		"old-nil": "nil",
		"changed": "2", // even when the source changed: the stamp comes later
		"new":     "5", // tags the old stream lacks are left alone
		"new-nil": "nil",
	} {
		if got := generationOf(stream, tag); got != want {
			t.Errorf("%s: generation %s, want %s", tag, got, want)
		}
	}
}

func TestStampSpecTagGenerations(t *testing.T) {
	old := newStream("ns", "app", 4)
	old.Spec.Tags = []imagev1.TagReference{
		withGeneration(tagRef("unchanged", "DockerImage", "q/a:1"), gen(2)),
		withGeneration(tagRef("source-changed", "DockerImage", "q/a:1"), gen(2)),
		withGeneration(tagRef("reset", "DockerImage", "q/a:1"), gen(2)),
		withGeneration(tagRef("reference-changed", "DockerImage", "q/a:1"), gen(2)),
		tagRef("unchanged-nil", "DockerImage", "q/a:1"),
		withGeneration(tagRef("zero", "DockerImage", "q/a:1"), gen(0)),
		withGeneration(tagRef("policy-changed", "DockerImage", "q/a:1"), gen(2)),
	}
	stream := newStream("ns", "app", 5)
	stream.Spec.Tags = []imagev1.TagReference{
		withGeneration(tagRef("unchanged", "DockerImage", "q/a:1"), gen(2)),
		withGeneration(tagRef("source-changed", "DockerImage", "q/a:2"), gen(2)),
		withGeneration(tagRef("reset", "DockerImage", "q/a:1"), gen(0)),
		asReference(withGeneration(tagRef("reference-changed", "DockerImage", "q/a:1"), gen(2))),
		tagRef("unchanged-nil", "DockerImage", "q/a:1"),
		withGeneration(tagRef("zero", "DockerImage", "q/a:1"), gen(0)),
		func() imagev1.TagReference {
			tag := withGeneration(tagRef("policy-changed", "DockerImage", "q/a:1"), gen(2))
			tag.ReferencePolicy.Type = imagev1.LocalTagReferencePolicy
			return tag
		}(),
		withGeneration(tagRef("new", "DockerImage", "q/a:1"), gen(1)),
		tagRef("new-nil", "DockerImage", "q/a:1"),
		withGeneration(imagev1.TagReference{Name: "no-from"}, gen(2)),
	}
	StampSpecTagGenerations(stream, old)
	for tag, want := range map[string]string{
		"unchanged":         "2",
		"source-changed":    "5",
		"reset":             "5",
		"reference-changed": "5",
		"unchanged-nil":     "5",
		"zero":              "5",
		"policy-changed":    "2", // the reference policy is not part of what makes a tag point elsewhere
		"new":               "5",
		"new-nil":           "5",
		"no-from":           "5", // a tag without source is new here
	} {
		if got := generationOf(stream, tag); got != want {
			t.Errorf("%s: generation %s, want %s", tag, got, want)
		}
	}

	created := newStream("ns", "app", 1)
	created.Spec.Tags = []imagev1.TagReference{
		withGeneration(tagRef("a", "DockerImage", "q/a:1"), gen(7)),
		tagRef("b", "ImageStreamTag", "a"),
	}
	StampSpecTagGenerations(created, nil)
	for _, tag := range []string{"a", "b"} {
		if got := generationOf(created, tag); got != "1" {
			t.Errorf("create: %s has generation %s, want the stream's 1", tag, got)
		}
	}
}

func TestStampSpecTagGenerationsNoFromExisting(t *testing.T) {
	// A tag without a source never counts as changed, so an existing one keeps a generation it has.
	old := newStream("ns", "app", 4)
	old.Spec.Tags = []imagev1.TagReference{withGeneration(imagev1.TagReference{Name: "no-from"}, gen(2))}
	stream := newStream("ns", "app", 5)
	stream.Spec.Tags = []imagev1.TagReference{withGeneration(imagev1.TagReference{Name: "no-from"}, gen(2))}
	StampSpecTagGenerations(stream, old)
	if got := generationOf(stream, "no-from"); got != "2" {
		t.Errorf("generation %s, want 2", got)
	}
}

// The update path as a whole: the client's generations are thrown away (except 0), then changed tags are stamped.
func TestSpecTagGenerationsOnUpdate(t *testing.T) {
	old := newStream("ns", "app", 3)
	old.Spec.Tags = []imagev1.TagReference{
		withGeneration(tagRef("kept", "DockerImage", "q/a:1"), gen(2)),
		withGeneration(tagRef("forged", "DockerImage", "q/a:1"), gen(2)),
		withGeneration(tagRef("reimport", "DockerImage", "q/a:1"), gen(2)),
		withGeneration(tagRef("retarget", "DockerImage", "q/a:1"), gen(2)),
	}
	stream := newStream("ns", "app", 4)
	stream.Spec.Tags = []imagev1.TagReference{
		withGeneration(tagRef("kept", "DockerImage", "q/a:1"), gen(2)),
		withGeneration(tagRef("forged", "DockerImage", "q/a:1"), gen(100)),
		withGeneration(tagRef("reimport", "DockerImage", "q/a:1"), gen(0)),
		withGeneration(tagRef("retarget", "DockerImage", "q/a:2"), gen(100)),
		withGeneration(tagRef("added", "DockerImage", "q/a:1"), gen(100)),
	}
	KeepSpecTagGenerations(stream, old)
	StampSpecTagGenerations(stream, old)
	for tag, want := range map[string]string{"kept": "2", "forged": "2", "reimport": "4", "retarget": "4", "added": "4"} {
		if got := generationOf(stream, tag); got != want {
			t.Errorf("%s: generation %s, want %s", tag, got, want)
		}
	}
}

func TestStampStatusGenerations(t *testing.T) {
	const ref = "quay.io/ns/app@sha256:aaaa"
	previous := event(ref, digest("a"), 2, at(1))
	legacy := event(ref, digest("a"), 0, at(0)) // written before generations existed
	for _, tc := range []struct {
		name     string
		old      []imagev1.TagEvent // current history of the tag in the old stream
		next     []imagev1.TagEvent
		spec     *imagev1.TagReference
		wantTop  int64
		wantSame bool // the history is left exactly as written
	}{
		{name: "empty history is left alone", next: nil, wantSame: true},
		{name: "a generation set by the writer is kept", old: []imagev1.TagEvent{previous}, next: []imagev1.TagEvent{event(ref, digest("b"), 3, at(2))}, wantTop: 3},
		{name: "new tag gets the stream's generation", next: []imagev1.TagEvent{event(ref, digest("b"), 0, at(2))}, spec: ptrTag(withGeneration(tagRef("t", "DockerImage", "q/a"), gen(4))), wantTop: 6},
		{name: "unchanged event gets the stream's generation", old: []imagev1.TagEvent{legacy}, next: []imagev1.TagEvent{legacy, previous}, spec: ptrTag(withGeneration(tagRef("t", "DockerImage", "q/a"), gen(4))), wantTop: 6},
		{name: "an old event with a generation is changed by a write at 0", old: []imagev1.TagEvent{previous}, next: []imagev1.TagEvent{event(ref, digest("a"), 0, at(1))}, spec: ptrTag(withGeneration(tagRef("t", "DockerImage", "q/a"), gen(4))), wantTop: 4},
		{name: "changed image gets the spec tag's generation", old: []imagev1.TagEvent{previous}, next: []imagev1.TagEvent{event(ref, digest("b"), 0, at(2))}, spec: ptrTag(withGeneration(tagRef("t", "DockerImage", "q/a"), gen(4))), wantTop: 4},
		{name: "changed reference gets the spec tag's generation", old: []imagev1.TagEvent{previous}, next: []imagev1.TagEvent{event("quay.io/ns/other@sha256:aaaa", digest("a"), 0, at(2))}, spec: ptrTag(withGeneration(tagRef("t", "DockerImage", "q/a"), gen(4))), wantTop: 4},
		{name: "changed without a spec tag gets the stream's generation", old: []imagev1.TagEvent{previous}, next: []imagev1.TagEvent{event(ref, digest("b"), 0, at(2))}, wantTop: 6},
		{name: "changed with a spec tag without generation gets the stream's generation", old: []imagev1.TagEvent{previous}, next: []imagev1.TagEvent{event(ref, digest("b"), 0, at(2))}, spec: ptrTag(tagRef("t", "DockerImage", "q/a")), wantTop: 6},
	} {
		t.Run(tc.name, func(t *testing.T) {
			old := newStream("ns", "app", 6)
			if tc.old != nil {
				old.Status.Tags = []imagev1.NamedTagEventList{history("t", tc.old...)}
			}
			stream := newStream("ns", "app", 6)
			if tc.spec != nil {
				stream.Spec.Tags = []imagev1.TagReference{*tc.spec}
			}
			written := history("t", tc.next...)
			written.Items = append([]imagev1.TagEvent(nil), tc.next...)
			stream.Status.Tags = []imagev1.NamedTagEventList{written}
			StampStatusGenerations(stream, old)
			got := stream.Status.Tags[0]
			if tc.wantSame {
				if len(got.Items) != len(tc.next) {
					t.Errorf("history changed: %+v", got)
				}
				return
			}
			if got.Items[0].Generation != tc.wantTop {
				t.Errorf("current event generation %d, want %d", got.Items[0].Generation, tc.wantTop)
			}
			for i := 1; i < len(got.Items); i++ {
				if got.Items[i] != tc.next[i] {
					t.Errorf("older event %d changed: %+v", i, got.Items[i])
				}
			}
		})
	}
}

// The old event's generation being newer than the written one's counts as a change.
func TestStampStatusGenerationsOlderGeneration(t *testing.T) {
	const ref = "quay.io/ns/app@sha256:aaaa"
	old := newStream("ns", "app", 6)
	old.Status.Tags = []imagev1.NamedTagEventList{history("t", event(ref, digest("a"), 5, at(1)))}
	stream := newStream("ns", "app", 6)
	stream.Spec.Tags = []imagev1.TagReference{withGeneration(tagRef("t", "DockerImage", "q/a"), gen(4))}
	stream.Status.Tags = []imagev1.NamedTagEventList{history("t", event(ref, digest("a"), 0, at(1)))}
	StampStatusGenerations(stream, old)
	if got := stream.Status.Tags[0].Items[0].Generation; got != 4 {
		t.Errorf("generation %d, want the spec tag's 4", got)
	}

	// Several tags at once, each on its own.
	stream = newStream("ns", "app", 6)
	stream.Spec.Tags = []imagev1.TagReference{withGeneration(tagRef("b", "DockerImage", "q/a"), gen(4))}
	stream.Status.Tags = []imagev1.NamedTagEventList{
		history("a", event(ref, digest("a"), 0, at(1))),
		history("b", event(ref, digest("b"), 0, at(1))),
	}
	old = newStream("ns", "app", 6)
	old.Status.Tags = []imagev1.NamedTagEventList{history("b", event(ref, digest("a"), 1, at(1)))}
	StampStatusGenerations(stream, old)
	if a, b := stream.Status.Tags[0].Items[0].Generation, stream.Status.Tags[1].Items[0].Generation; a != 6 || b != 4 {
		t.Errorf("generations a=%d (want 6), b=%d (want 4)", a, b)
	}
}

func ptrTag(tag imagev1.TagReference) *imagev1.TagReference {
	tag.Name = "t"
	return &tag
}

func TestTagEventChanged(t *testing.T) {
	base := event("quay.io/ns/app@sha256:aaaa", digest("a"), 3, at(1))
	for _, tc := range []struct {
		name string
		next imagev1.TagEvent
		want bool
	}{
		{"same", base, false},
		{"other created time", event(base.DockerImageReference, base.Image, 3, at(9)), false},
		{"newer generation", event(base.DockerImageReference, base.Image, 4, at(1)), false},
		{"older generation", event(base.DockerImageReference, base.Image, 2, at(1)), true},
		{"other image", event(base.DockerImageReference, digest("b"), 3, at(1)), true},
		{"other reference", event("quay.io/ns/app@sha256:bbbb", base.Image, 3, at(1)), true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tagEventChanged(base, tc.next); got != tc.want {
				t.Errorf("tagEventChanged = %v, want %v", got, tc.want)
			}
		})
	}
}
