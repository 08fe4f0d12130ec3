package imagestreams

import (
	"fmt"
	"sort"
	"strings"
	"testing"

	imagev1 "github.com/openshift/api/image/v1"
	"github.com/openshift/library-go/pkg/image/reference"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// wantError is an expected validation error: its type, field and, when set, its exact detail.
type wantError struct {
	Type   field.ErrorType
	Field  string
	Detail string
}

func (w wantError) String() string { return fmt.Sprintf("%s %s %q", w.Type, w.Field, w.Detail) }

func checkErrors(t *testing.T, got field.ErrorList, want ...wantError) {
	t.Helper()
	rendered := func(e wantError) string { return string(e.Type) + " " + e.Field }
	gotKeys, wantKeys := []string{}, []string{}
	for _, err := range got {
		gotKeys = append(gotKeys, rendered(wantError{Type: err.Type, Field: err.Field}))
	}
	for _, w := range want {
		wantKeys = append(wantKeys, rendered(w))
	}
	sort.Strings(gotKeys)
	sort.Strings(wantKeys)
	if strings.Join(gotKeys, "\n") != strings.Join(wantKeys, "\n") {
		t.Errorf("errors\n got %v\nwant %v\n(all: %v)", gotKeys, wantKeys, got)
		return
	}
	for _, w := range want {
		if w.Detail == "" {
			continue
		}
		found := false
		for _, err := range got {
			if err.Type == w.Type && err.Field == w.Field && err.Detail == w.Detail {
				found = true
			}
		}
		if !found {
			t.Errorf("no error %s; got %v", w, got)
		}
	}
}

func TestValidateName(t *testing.T) {
	for _, name := range []string{"app", "my-app", "my.app", "my_app", "a", "1", "app2", "a.b-c_d"} {
		if reasons := ValidateName(name, false); len(reasons) != 0 {
			t.Errorf("%q: %v", name, reasons)
		}
	}
	for _, name := range []string{"App", "-app", "app-", ".app", "app.", "_app", "app_", "a..b", "a.-b", "a/b", "a%b", "a:b", "a b", ".", ".."} {
		if reasons := ValidateName(name, false); len(reasons) == 0 {
			t.Errorf("%q accepted", name)
		}
	}
}

const (
	tagsKind     = "valid values are 'DockerImage', 'ImageStreamImage', 'ImageStreamTag'"
	policyValues = `valid values are "Source", "Local"`
	modeValues   = "invalid import mode, valid modes are '', 'Legacy', 'PreserveOriginal'"
	scheduled    = "only tags pointing to Docker repositories may be scheduled for background import"
)

func TestValidateTagReference(t *testing.T) {
	allow := mustAllowlist(t, internalRegistry, secure("quay.io"), insecure("insecure.local"))
	path := field.NewPath("spec", "tags").Key("t")
	parseError := func(spec string) string {
		_, err := reference.Parse(spec)
		if err == nil {
			t.Fatalf("%q parses", spec)
		}
		return err.Error()
	}
	withPolicy := func(tag imagev1.TagReference, f func(*imagev1.TagReference)) imagev1.TagReference {
		f(&tag)
		return tag
	}
	for _, tc := range []struct {
		name               string
		tag                imagev1.TagReference
		insecureRepository bool
		allow              *Allowlist
		want               []wantError
	}{
		{name: "DockerImage", tag: tagRef("t", "DockerImage", "quay.io/ns/app:1"), allow: allow},
		{name: "ImageStreamTag", tag: tagRef("t", "ImageStreamTag", "other:v1"), allow: allow},
		{name: "ImageStreamImage", tag: tagRef("t", "ImageStreamImage", "other@"+digest("a")), allow: allow},
		{name: "local reference policy", tag: withPolicy(tagRef("t", "ImageStreamTag", "v1"), func(t *imagev1.TagReference) {
			t.ReferencePolicy.Type = imagev1.LocalTagReferencePolicy
		})},
		{name: "no source", tag: imagev1.TagReference{Name: "t", ReferencePolicy: imagev1.TagReferencePolicy{Type: imagev1.SourceTagReferencePolicy}}},
		{
			name: "no reference policy",
			tag:  imagev1.TagReference{Name: "t"},
			want: []wantError{{field.ErrorTypeInvalid, "spec.tags[t].referencePolicy.type", policyValues}},
		},
		{
			name: "unknown reference policy",
			tag:  withPolicy(tagRef("t", "DockerImage", "quay.io/ns/app"), func(t *imagev1.TagReference) { t.ReferencePolicy.Type = "Remote" }),
			want: []wantError{{field.ErrorTypeInvalid, "spec.tags[t].referencePolicy.type", policyValues}},
		},
		{
			name: "no kind",
			tag:  tagRef("t", "", "v1"),
			want: []wantError{{field.ErrorTypeRequired, "spec.tags[t].from.kind", tagsKind}},
		},
		{
			name: "unknown kind",
			tag:  tagRef("t", "Image", "v1"),
			want: []wantError{{field.ErrorTypeRequired, "spec.tags[t].from.kind", tagsKind}},
		},
		{
			name: "empty source",
			tag:  tagRef("t", "", ""),
			want: []wantError{{field.ErrorTypeRequired, "spec.tags[t].from.kind", tagsKind}, {Type: field.ErrorTypeRequired, Field: "spec.tags[t].from.name"}},
		},
		{
			name: "ImageStreamTag without name",
			tag:  tagRef("t", "ImageStreamTag", ""),
			want: []wantError{{Type: field.ErrorTypeRequired, Field: "spec.tags[t].from.name"}},
		},
		{
			name: "ImageStreamImage without name",
			tag:  tagRef("t", "ImageStreamImage", ""),
			want: []wantError{{Type: field.ErrorTypeRequired, Field: "spec.tags[t].from.name"}},
		},
		{
			name: "DockerImage without name, everything allowed",
			tag:  tagRef("t", "DockerImage", ""),
			want: []wantError{{Type: field.ErrorTypeRequired, Field: "spec.tags[t].from.name"}},
		},
		{
			name:  "DockerImage without name is checked as docker.io",
			tag:   tagRef("t", "DockerImage", ""),
			allow: allow,
			want: []wantError{
				{Type: field.ErrorTypeRequired, Field: "spec.tags[t].from.name"},
				{field.ErrorTypeForbidden, "spec.tags[t].from.name", `registry "docker.io:443" not allowed by whitelist: "` + internalRegistry + `", "quay.io:443", "insecure.local:80"`},
			},
		},
		{
			name:  "DockerImage that does not parse",
			tag:   tagRef("t", "DockerImage", "Quay.io/NS/App"),
			allow: allow,
			want:  []wantError{{field.ErrorTypeInvalid, "spec.tags[t].from.name", parseError("Quay.io/NS/App")}},
		},
		{
			name:  "DockerImage of a registry not allowed",
			tag:   tagRef("t", "DockerImage", "ghcr.io/ns/app:1"),
			allow: allow,
			want:  []wantError{{field.ErrorTypeForbidden, "spec.tags[t].from.name", `registry "ghcr.io" not allowed by whitelist: "` + internalRegistry + `", "quay.io:443", "insecure.local:80"`}},
		},
		{
			name:  "insecure registry, secure tag",
			tag:   tagRef("t", "DockerImage", "insecure.local/ns/app:1"),
			allow: allow,
			want:  []wantError{{Type: field.ErrorTypeForbidden, Field: "spec.tags[t].from.name"}},
		},
		{
			name:  "insecure registry, insecure tag",
			tag:   withPolicy(tagRef("t", "DockerImage", "insecure.local/ns/app:1"), func(t *imagev1.TagReference) { t.ImportPolicy.Insecure = true }),
			allow: allow,
		},
		{
			name:               "insecure registry, insecure repository",
			tag:                tagRef("t", "DockerImage", "insecure.local/ns/app:1"),
			insecureRepository: true,
			allow:              allow,
		},
		{
			name: "scheduled DockerImage",
			tag:  withPolicy(tagRef("t", "DockerImage", "quay.io/ns/app"), func(t *imagev1.TagReference) { t.ImportPolicy.Scheduled = true }),
		},
		{
			name: "scheduled ImageStreamTag",
			tag:  withPolicy(tagRef("t", "ImageStreamTag", "v1"), func(t *imagev1.TagReference) { t.ImportPolicy.Scheduled = true }),
			want: []wantError{{field.ErrorTypeInvalid, "spec.tags[t].importPolicy.scheduled", scheduled}},
		},
		{
			name: "scheduled ImageStreamImage",
			tag:  withPolicy(tagRef("t", "ImageStreamImage", "other@"+digest("a")), func(t *imagev1.TagReference) { t.ImportPolicy.Scheduled = true }),
			want: []wantError{{field.ErrorTypeInvalid, "spec.tags[t].importPolicy.scheduled", scheduled}},
		},
		{
			name: "import modes",
			tag: withPolicy(tagRef("t", "DockerImage", "quay.io/ns/app"), func(t *imagev1.TagReference) {
				t.ImportPolicy.ImportMode = imagev1.ImportModePreserveOriginal
			}),
		},
		{
			name: "legacy import mode",
			tag: withPolicy(tagRef("t", "DockerImage", "quay.io/ns/app"), func(t *imagev1.TagReference) {
				t.ImportPolicy.ImportMode = imagev1.ImportModeLegacy
			}),
		},
		{
			name: "unknown import mode",
			tag: withPolicy(tagRef("t", "DockerImage", "quay.io/ns/app"), func(t *imagev1.TagReference) {
				t.ImportPolicy.ImportMode = "Everything"
			}),
			want: []wantError{{field.ErrorTypeInvalid, "spec.tags[t].importPolicy.importMode", modeValues}},
		},
		{
			name: "everything wrong at once",
			tag: imagev1.TagReference{
				Name:         "t",
				From:         fromRef("Image", ""),
				ImportPolicy: imagev1.TagImportPolicy{ImportMode: "legacy", Scheduled: true},
			},
			want: []wantError{
				{Type: field.ErrorTypeRequired, Field: "spec.tags[t].from.name"},
				{field.ErrorTypeRequired, "spec.tags[t].from.kind", tagsKind},
				{field.ErrorTypeInvalid, "spec.tags[t].referencePolicy.type", policyValues},
				{field.ErrorTypeInvalid, "spec.tags[t].importPolicy.importMode", modeValues},
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			checkErrors(t, ValidateTagReference(tc.tag, tc.insecureRepository, tc.allow, path), tc.want...)
		})
	}
}

func validStream() *imagev1.ImageStream {
	stream := newStream("ns", "app", 3)
	stream.Spec.Tags = []imagev1.TagReference{
		tagRef("v1", "DockerImage", "quay.io/ns/app:1"),
		tagRef("latest", "ImageStreamTag", "v1"),
	}
	stream.Status.Tags = []imagev1.NamedTagEventList{
		history("v1", event("quay.io/ns/app@"+digest("1"), digest("1"), 3, at(1)), event("quay.io/ns/app@"+digest("0"), digest("0"), 1, at(0))),
		history("latest", event("quay.io/ns/app@"+digest("1"), digest("1"), 3, at(1))),
	}
	return stream
}

func TestValidate(t *testing.T) {
	allow := mustAllowlist(t, internalRegistry, secure("quay.io"), insecure("insecure.local"))
	notAllowed := func(registry string) string {
		return `registry "` + registry + `" not allowed by whitelist: "` + internalRegistry + `", "quay.io:443", "insecure.local:80"`
	}
	for _, tc := range []struct {
		name   string
		change func(*imagev1.ImageStream)
		want   []wantError
	}{
		{name: "valid", change: func(*imagev1.ImageStream) {}},
		{
			name:   "no namespace",
			change: func(s *imagev1.ImageStream) { s.Namespace = "" },
			want:   []wantError{{Type: field.ErrorTypeRequired, Field: "metadata.namespace"}},
		},
		{
			name:   "bad name",
			change: func(s *imagev1.ImageStream) { s.Name = "App" },
			want:   []wantError{{Type: field.ErrorTypeInvalid, Field: "metadata.name"}},
		},
		{
			name:   "namespace/name of 255 characters",
			change: func(s *imagev1.ImageStream) { s.Namespace, s.Name = strings.Repeat("n", 54), strings.Repeat("a", 200) },
		},
		{
			name:   "namespace/name of 256 characters",
			change: func(s *imagev1.ImageStream) { s.Namespace, s.Name = strings.Repeat("n", 55), strings.Repeat("a", 200) },
			want:   []wantError{{field.ErrorTypeInvalid, "metadata.name", "'namespace/name' cannot be longer than 255 characters"}},
		},
		{
			name:   "repository",
			change: func(s *imagev1.ImageStream) { s.Spec.DockerImageRepository = "quay.io/ns/app" },
		},
		{
			name:   "repository that does not parse",
			change: func(s *imagev1.ImageStream) { s.Spec.DockerImageRepository = "Quay.io/NS/App" },
			want:   []wantError{{Type: field.ErrorTypeInvalid, Field: "spec.dockerImageRepository"}},
		},
		{
			name:   "repository with a tag",
			change: func(s *imagev1.ImageStream) { s.Spec.DockerImageRepository = "quay.io/ns/app:1" },
			want:   []wantError{{field.ErrorTypeInvalid, "spec.dockerImageRepository", "the repository name may not contain a tag"}},
		},
		{
			name:   "repository with an ID",
			change: func(s *imagev1.ImageStream) { s.Spec.DockerImageRepository = "quay.io/ns/app@" + digest("1") },
			want:   []wantError{{field.ErrorTypeInvalid, "spec.dockerImageRepository", "the repository name may not contain an ID"}},
		},
		{
			name:   "repository of a registry not allowed",
			change: func(s *imagev1.ImageStream) { s.Spec.DockerImageRepository = "ghcr.io/ns/app" },
			want:   []wantError{{field.ErrorTypeForbidden, "spec.dockerImageRepository", notAllowed("ghcr.io")}},
		},
		{
			name: "repository of an insecure registry in an insecure stream",
			change: func(s *imagev1.ImageStream) {
				s.Spec.DockerImageRepository = "insecure.local/ns/app"
				s.Annotations = map[string]string{imagev1.InsecureRepositoryAnnotation: "true"}
			},
		},
		{
			name:   "repository of an insecure registry",
			change: func(s *imagev1.ImageStream) { s.Spec.DockerImageRepository = "insecure.local/ns/app" },
			want:   []wantError{{Type: field.ErrorTypeForbidden, Field: "spec.dockerImageRepository"}},
		},
		{
			name: "spec tags are checked under their names",
			change: func(s *imagev1.ImageStream) {
				s.Spec.Tags = append(s.Spec.Tags, tagRef("bad", "Image", "v1"), tagRef("ext", "DockerImage", "ghcr.io/ns/app"))
			},
			want: []wantError{
				{field.ErrorTypeRequired, "spec.tags[bad].from.kind", tagsKind},
				{field.ErrorTypeForbidden, "spec.tags[ext].from.name", notAllowed("ghcr.io")},
			},
		},
		{
			name: "spec tags of an insecure stream",
			change: func(s *imagev1.ImageStream) {
				s.Spec.Tags = append(s.Spec.Tags, tagRef("ext", "DockerImage", "insecure.local/ns/app"))
				s.Annotations = map[string]string{imagev1.InsecureRepositoryAnnotation: "true"}
			},
		},
		{
			name: "the insecure annotation must be true",
			change: func(s *imagev1.ImageStream) {
				s.Spec.Tags = append(s.Spec.Tags, tagRef("ext", "DockerImage", "insecure.local/ns/app"))
				s.Annotations = map[string]string{imagev1.InsecureRepositoryAnnotation: "yes"}
			},
			want: []wantError{{Type: field.ErrorTypeForbidden, Field: "spec.tags[ext].from.name"}},
		},
		{
			name: "status events",
			change: func(s *imagev1.ImageStream) {
				s.Status.Tags = append(s.Status.Tags, history("odd",
					event("", digest("2"), 1, at(0)),
					event("Quay.io/NS/App", digest("3"), 1, at(0)),
					event("ghcr.io/ns/app@"+digest("4"), digest("4"), 1, at(0)),
					event("quay.io/ns/app@"+digest("5"), digest("5"), 1, at(0)),
				))
			},
			want: []wantError{
				{Type: field.ErrorTypeRequired, Field: "status.tags[odd].items[0].dockerImageReference"},
				{Type: field.ErrorTypeInvalid, Field: "status.tags[odd].items[1].dockerImageReference"},
				{field.ErrorTypeForbidden, "status.tags[odd].items[2].dockerImageReference", notAllowed("ghcr.io")},
			},
		},
		{
			name: "status events of an insecure registry",
			change: func(s *imagev1.ImageStream) {
				insecureTag := tagRef("insecure", "DockerImage", "quay.io/ns/app")
				insecureTag.ImportPolicy.Insecure = true
				s.Spec.Tags = append(s.Spec.Tags, insecureTag)
				s.Status.Tags = append(s.Status.Tags,
					history("insecure", event("insecure.local/ns/app@"+digest("4"), digest("4"), 1, at(0))),
					history("secure", event("insecure.local/ns/app@"+digest("4"), digest("4"), 1, at(0))),
				)
			},
			want: []wantError{{Type: field.ErrorTypeForbidden, Field: "status.tags[secure].items[0].dockerImageReference"}},
		},
		{
			name: "status events of an insecure stream",
			change: func(s *imagev1.ImageStream) {
				s.Annotations = map[string]string{imagev1.InsecureRepositoryAnnotation: "true"}
				s.Status.Tags = append(s.Status.Tags, history("secure", event("insecure.local/ns/app@"+digest("4"), digest("4"), 1, at(0))))
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			stream := validStream()
			tc.change(stream)
			checkErrors(t, Validate(stream, allow), tc.want...)
		})
	}

	// Without allowlist only the form is checked.
	stream := validStream()
	stream.Spec.DockerImageRepository = "ghcr.io/ns/app"
	stream.Spec.Tags = append(stream.Spec.Tags, tagRef("ext", "DockerImage", "ghcr.io/ns/app"))
	stream.Status.Tags = append(stream.Status.Tags, history("ext", event("", "", 1, at(0))))
	checkErrors(t, Validate(stream, nil), wantError{Type: field.ErrorTypeRequired, Field: "status.tags[ext].items[0].dockerImageReference"})
}

func TestValidateUpdate(t *testing.T) {
	allow := mustAllowlist(t, internalRegistry, secure("quay.io"))
	old := validStream()
	old.ResourceVersion = "1"
	old.Spec.DockerImageRepository = "ghcr.io/ns/repository"
	old.Spec.Tags = append(old.Spec.Tags, tagRef("ext", "DockerImage", "ghcr.io/ns/docker:1"), tagRef("istag", "ImageStreamTag", "ghcr.io/ns/istag:1"))
	old.Status.Tags = append(old.Status.Tags, history("ext", event("ghcr.io/ns/status@"+digest("9"), digest("9"), 1, at(0))))

	for _, tc := range []struct {
		name   string
		change func(*imagev1.ImageStream)
		want   []wantError
	}{
		{name: "unchanged", change: func(*imagev1.ImageStream) {}},
		{
			name:   "another tag of an old repository",
			change: func(s *imagev1.ImageStream) { SetSpecTag(s, tagRef("ext", "DockerImage", "ghcr.io/ns/docker:2")) },
		},
		{
			name:   "the old stream's repository",
			change: func(s *imagev1.ImageStream) { SetSpecTag(s, tagRef("repo", "DockerImage", "ghcr.io/ns/repository:1")) },
		},
		{
			name:   "a repository of the old status",
			change: func(s *imagev1.ImageStream) { SetSpecTag(s, tagRef("status", "DockerImage", "ghcr.io/ns/status:2")) },
		},
		{
			name:   "an ImageStreamTag name is no repository",
			change: func(s *imagev1.ImageStream) { SetSpecTag(s, tagRef("new", "DockerImage", "ghcr.io/ns/istag:1")) },
			want:   []wantError{{Type: field.ErrorTypeForbidden, Field: "spec.tags[new].from.name"}},
		},
		{
			name:   "a new repository",
			change: func(s *imagev1.ImageStream) { SetSpecTag(s, tagRef("new", "DockerImage", "ghcr.io/ns/new:1")) },
			want:   []wantError{{Type: field.ErrorTypeForbidden, Field: "spec.tags[new].from.name"}},
		},
		{
			name:   "the name cannot change",
			change: func(s *imagev1.ImageStream) { s.Name = "renamed" },
			want:   []wantError{{Type: field.ErrorTypeInvalid, Field: "metadata.name"}},
		},
		{
			name:   "the rules of a create apply",
			change: func(s *imagev1.ImageStream) { SetSpecTag(s, tagRef("bad", "Image", "v1")) },
			want:   []wantError{{field.ErrorTypeRequired, "spec.tags[bad].from.kind", tagsKind}},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			stream := old.DeepCopy()
			tc.change(stream)
			checkErrors(t, ValidateUpdate(stream, old, allow), tc.want...)
		})
	}
	if allow.Admit(mustParse(t, "ghcr.io/ns/docker:2"), false) == nil {
		t.Error("ValidateUpdate extended the allowlist it was given")
	}
}

func TestValidateStatusUpdate(t *testing.T) {
	allow := mustAllowlist(t, internalRegistry, secure("quay.io"), insecure("insecure.local"))
	old := validStream()
	old.ResourceVersion = "1"
	old.Status.Tags = append(old.Status.Tags, history("ext", event("ghcr.io/ns/app@"+digest("9"), digest("9"), 1, at(0))))

	for _, tc := range []struct {
		name   string
		allow  *Allowlist
		change func(*imagev1.ImageStream)
		want   []wantError
	}{
		{name: "unchanged", allow: allow, change: func(*imagev1.ImageStream) {}},
		{
			name:  "a reference the old stream held may move",
			allow: allow,
			change: func(s *imagev1.ImageStream) {
				RemoveStatusTag(s, "ext")
				AddTagEvent(s, "moved", event("ghcr.io/ns/app@"+digest("9"), digest("9"), 1, at(0)))
			},
		},
		{
			name:  "another image of an old repository is new",
			allow: allow,
			change: func(s *imagev1.ImageStream) {
				AddTagEvent(s, "ext", event("ghcr.io/ns/app@"+digest("8"), digest("8"), 2, at(1)))
			},
			want: []wantError{{Type: field.ErrorTypeForbidden, Field: "status.tags[ext].items[0].dockerImageReference"}},
		},
		{
			name:  "a new reference is checked at every place",
			allow: allow,
			change: func(s *imagev1.ImageStream) {
				AddTagEvent(s, "a", event("ghcr.io/ns/new@"+digest("7"), digest("7"), 1, at(1)))
				AddTagEvent(s, "b", event("ghcr.io/ns/new@"+digest("7"), digest("7"), 1, at(1)))
			},
			want: []wantError{
				{Type: field.ErrorTypeForbidden, Field: "status.tags[a].items[0].dockerImageReference"},
				{Type: field.ErrorTypeForbidden, Field: "status.tags[b].items[0].dockerImageReference"},
			},
		},
		{
			name:  "an allowed registry",
			allow: allow,
			change: func(s *imagev1.ImageStream) {
				AddTagEvent(s, "v1", event("quay.io/ns/app@"+digest("7"), digest("7"), 4, at(1)))
			},
		},
		{
			name:   "a reference that does not parse, even with everything allowed",
			change: func(s *imagev1.ImageStream) { AddTagEvent(s, "v1", event("Quay.io/NS/App", digest("7"), 4, at(1))) },
			want:   []wantError{{Type: field.ErrorTypeInvalid, Field: "status.tags[v1].items[0].dockerImageReference"}},
		},
		{
			name:   "an empty new reference does not parse",
			change: func(s *imagev1.ImageStream) { AddTagEvent(s, "v1", event("", digest("7"), 4, at(1))) },
			want:   []wantError{{Type: field.ErrorTypeInvalid, Field: "status.tags[v1].items[0].dockerImageReference"}},
		},
		{
			name:  "insecure tag",
			allow: allow,
			change: func(s *imagev1.ImageStream) {
				insecureTag := tagRef("insecure", "DockerImage", "insecure.local/ns/app")
				insecureTag.ImportPolicy.Insecure = true
				s.Spec.Tags = append(s.Spec.Tags, insecureTag)
				AddTagEvent(s, "insecure", event("insecure.local/ns/app@"+digest("7"), digest("7"), 4, at(1)))
				AddTagEvent(s, "secure", event("insecure.local/ns/other@"+digest("7"), digest("7"), 4, at(1)))
			},
			want: []wantError{{Type: field.ErrorTypeForbidden, Field: "status.tags[secure].items[0].dockerImageReference"}},
		},
		{
			name:  "insecure stream",
			allow: allow,
			change: func(s *imagev1.ImageStream) {
				AddTagEvent(s, "secure", event("insecure.local/ns/other@"+digest("7"), digest("7"), 4, at(1)))
				s.Annotations = map[string]string{imagev1.InsecureRepositoryAnnotation: "true"}
			},
		},
		{
			name:   "metadata name cannot change",
			allow:  allow,
			change: func(s *imagev1.ImageStream) { s.Name = "renamed" },
			want:   []wantError{{Type: field.ErrorTypeInvalid, Field: "metadata.name"}},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			stream := old.DeepCopy()
			tc.change(stream)
			checkErrors(t, ValidateStatusUpdate(stream, old, tc.allow), tc.want...)
		})
	}
}
