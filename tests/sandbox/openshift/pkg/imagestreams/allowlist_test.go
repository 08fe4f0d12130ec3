package imagestreams

import (
	"testing"

	imagev1 "github.com/openshift/api/image/v1"
	"github.com/openshift/library-go/pkg/image/reference"
)

func mustAllowlist(t *testing.T, internal string, entries ...AllowedRegistry) *Allowlist {
	t.Helper()
	list, err := NewAllowlist(entries, internal)
	if err != nil {
		t.Fatal(err)
	}
	return list
}

func mustParse(t *testing.T, pullSpec string) reference.DockerImageReference {
	t.Helper()
	ref, err := reference.Parse(pullSpec)
	if err != nil {
		t.Fatalf("%s: %v", pullSpec, err)
	}
	return ref
}

func secure(domain string) AllowedRegistry { return AllowedRegistry{DomainName: domain} }
func insecure(domain string) AllowedRegistry {
	return AllowedRegistry{DomainName: domain, Insecure: true}
}

func TestNewAllowlist(t *testing.T) {
	for _, entries := range [][]AllowedRegistry{nil, {}} {
		list, err := NewAllowlist(entries, internalRegistry)
		if list != nil || err != nil {
			t.Errorf("no entries: %v, %v; want nil (everything allowed)", list, err)
		}
	}
	if _, err := NewAllowlist([]AllowedRegistry{secure("quay.io"), secure("a:b:c")}, internalRegistry); err == nil ||
		err.Error() != `failed to parse allowed registry "a:b:c": too many colons` {
		t.Errorf("three colons: %v", err)
	}
	if _, err := NewAllowlist([]AllowedRegistry{secure("quay.io")}, "a:b:c"); err == nil {
		t.Error("an internal registry with three colons is accepted")
	}
}

func TestNilAllowlistAllowsEverything(t *testing.T) {
	var list *Allowlist
	for _, spec := range []string{"ghcr.io/ns/app:1", "busybox", "insecure.local:80/x"} {
		for _, insecure := range []bool{false, true} {
			if err := list.Admit(mustParse(t, spec), insecure); err != nil {
				t.Errorf("%s: %v", spec, err)
			}
		}
	}
	list.AllowRepository("ghcr.io/ns/app") // no panic
	if list.Copy() != nil {
		t.Error("the copy of nil is nil")
	}
	if AllowReferencesOf(nil, newStream("ns", "app", 1)) != nil {
		t.Error("AllowReferencesOf(nil) must stay nil")
	}
}

func TestAllowlistAdmit(t *testing.T) {
	list := mustAllowlist(t, internalRegistry,
		secure("quay.io"),
		secure("*.example.com"),
		secure("reg?.local"),
		secure("registry.local:5000"),
		insecure("insecure.local"),
		secure("ports.local:*"),
		secure("docker.io"),
	)
	for _, tc := range []struct {
		pullSpec string
		insecure bool
		allowed  bool
	}{
		{"quay.io/ns/app:1", false, true},
		{"quay.io/ns/app@" + digest("a"), false, true},
		{"quay.io:443/ns/app", false, true},
		{"quay.io:5000/ns/app", false, false},
		{"quay.io:5000/ns/app", true, false},
		{"quay.io/ns/app", true, true},
		{"mirror.example.com/ns/app", false, true},
		{"a.b.example.com/ns/app", false, true},
		{"example.com/ns/app", false, false},
		{"reg1.local/app", false, true},
		{"reg12.local/app", false, false},
		{"registry.local:5000/app", false, true},
		{"registry.local/app", false, false},
		{"registry.local/app", true, false},
		{"insecure.local/app", false, false},
		{"insecure.local/app", true, true},
		{"insecure.local:80/app", false, true},
		{"insecure.local:443/app", true, false},
		{"ports.local:1234/app", false, true},
		{"ports.local/app", false, true},
		{internalRegistry + "/ns/app:latest", false, true},
		{"image-registry.openshift-image-registry.svc/ns/app", false, false},
		{"busybox", false, true},
		{"library/busybox:1.36", false, true},
		{"docker.io/library/busybox", false, true},
		{"registry-1.docker.io/library/busybox", false, true},
		{"index.docker.io/library/busybox", false, true},
		{"busybox", true, true},
		{"ghcr.io/ns/app", false, false},
		{"ghcr.io/ns/app", true, false},
	} {
		name := tc.pullSpec
		if tc.insecure {
			name += " (insecure)"
		}
		t.Run(name, func(t *testing.T) {
			err := list.Admit(mustParse(t, tc.pullSpec), tc.insecure)
			if (err == nil) != tc.allowed {
				t.Errorf("allowed = %v (%v), want %v", err == nil, err, tc.allowed)
			}
		})
	}
}

func TestAllowlistDockerHubEntries(t *testing.T) {
	// docker.io stands for its v1 and v2 hosts too; references naming docker.io or its v1 host are checked as the v2
	// host, so a v2 host entry covers them but not a reference without registry.
	for _, tc := range []struct {
		entry    string
		pullSpec string
		allowed  bool
	}{
		{"docker.io:*", "registry-1.docker.io:5000/library/busybox", true},
		{"registry-1.docker.io", "docker.io/library/busybox", true},
		{"registry-1.docker.io", "busybox", false},
		{"index.docker.io", "docker.io/library/busybox", false},
		{"index.docker.io", "index.docker.io/library/busybox", false}, // the v1 host is looked at as the v2 one
	} {
		t.Run(tc.entry+" "+tc.pullSpec, func(t *testing.T) {
			err := mustAllowlist(t, "", secure(tc.entry)).Admit(mustParse(t, tc.pullSpec), false)
			if (err == nil) != tc.allowed {
				t.Errorf("allowed = %v (%v), want %v", err == nil, err, tc.allowed)
			}
		})
	}
}

func TestAllowlistMessages(t *testing.T) {
	const internalEntry = `"image-registry.openshift-image-registry.svc:5000"`
	for _, tc := range []struct {
		name     string
		internal string
		entries  []AllowedRegistry
		pullSpec string
		insecure bool
		want     string
	}{
		{
			name:     "the internal registry first, then the entries as given",
			internal: internalRegistry,
			entries:  []AllowedRegistry{secure("quay.io"), secure("docker.io")},
			pullSpec: "ghcr.io/ns/app:1",
			want:     `registry "ghcr.io" not allowed by whitelist: ` + internalEntry + `, "quay.io:443", "docker.io:443"`,
		},
		{
			name:     "ports as configured, 80 for an insecure entry",
			internal: internalRegistry,
			entries:  []AllowedRegistry{secure("registry.local:5000"), insecure("insecure.local"), secure("*.example.com:*")},
			pullSpec: "ghcr.io/ns/app:1",
			want:     `registry "ghcr.io" not allowed by whitelist: ` + internalEntry + `, "registry.local:5000", "insecure.local:80", "*.example.com:*"`,
		},
		{
			name:     "the registry as written, with its port",
			internal: internalRegistry,
			entries:  []AllowedRegistry{secure("quay.io")},
			pullSpec: "quay.io:5000/ns/app",
			want:     `registry "quay.io:5000" not allowed by whitelist: ` + internalEntry + `, "quay.io:443"`,
		},
		{
			name:     "no registry: docker.io with the port looked at",
			internal: internalRegistry,
			entries:  []AllowedRegistry{secure("quay.io")},
			pullSpec: "busybox",
			want:     `registry "docker.io:443" not allowed by whitelist: ` + internalEntry + `, "quay.io:443"`,
		},
		{
			name:     "no registry, insecure: docker.io without port",
			internal: internalRegistry,
			entries:  []AllowedRegistry{secure("quay.io")},
			pullSpec: "busybox",
			insecure: true,
			want:     `registry "docker.io" not allowed by whitelist: ` + internalEntry + `, "quay.io:443"`,
		},
		{
			name:     "docker.io spelled out",
			internal: internalRegistry,
			entries:  []AllowedRegistry{secure("quay.io")},
			pullSpec: "docker.io/library/busybox",
			want:     `registry "docker.io" not allowed by whitelist: ` + internalEntry + `, "quay.io:443"`,
		},
		{
			name:     "without internal registry",
			entries:  []AllowedRegistry{secure("quay.io")},
			pullSpec: "ghcr.io/ns/app",
			want:     `registry "ghcr.io" not allowed by whitelist: "quay.io:443"`,
		},
		{
			name:     "duplicates listed once",
			internal: internalRegistry,
			entries:  []AllowedRegistry{secure("quay.io"), secure("quay.io"), secure("quay.io:443")},
			pullSpec: "ghcr.io/ns/app",
			want:     `registry "ghcr.io" not allowed by whitelist: ` + internalEntry + `, "quay.io:443"`,
		},
		{
			name:     "five entries are all shown",
			internal: internalRegistry,
			entries:  []AllowedRegistry{secure("a.io"), secure("b.io"), secure("c.io"), secure("d.io")},
			pullSpec: "ghcr.io/ns/app",
			want:     `registry "ghcr.io" not allowed by whitelist: ` + internalEntry + `, "a.io:443", "b.io:443", "c.io:443", "d.io:443"`,
		},
		{
			name:     "more than five: four shown and a count",
			internal: internalRegistry,
			entries:  []AllowedRegistry{secure("a.io"), secure("b.io"), secure("c.io"), secure("d.io"), secure("e.io"), secure("f.io")},
			pullSpec: "ghcr.io/ns/app",
			want:     `registry "ghcr.io" not allowed by whitelist: ` + internalEntry + `, "a.io:443", "b.io:443", "c.io:443", and 3 more ...`,
		},
		{
			name:     "six without internal registry",
			entries:  []AllowedRegistry{secure("a.io"), secure("b.io"), secure("c.io"), secure("d.io"), secure("e.io"), secure("f.io")},
			pullSpec: "ghcr.io/ns/app",
			want:     `registry "ghcr.io" not allowed by whitelist: "a.io:443", "b.io:443", "c.io:443", "d.io:443", and 2 more ...`,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := mustAllowlist(t, tc.internal, tc.entries...).Admit(mustParse(t, tc.pullSpec), tc.insecure)
			if err == nil || err.Error() != tc.want {
				t.Errorf("got  %v\nwant %s", err, tc.want)
			}
		})
	}
}

func TestAllowRepository(t *testing.T) {
	list := mustAllowlist(t, internalRegistry, secure("quay.io"))
	extended := list.Copy()
	extended.AllowRepository("ghcr.io/ns/app:1")
	extended.AllowRepository("busybox:1.36")
	extended.AllowRepository("Not A Pull Spec") // ignored

	for _, tc := range []struct {
		pullSpec          string
		original, allowed bool
	}{
		{"ghcr.io/ns/app:1", false, true},
		{"ghcr.io/ns/app:2", false, true},
		{"ghcr.io/ns/app@" + digest("a"), false, true},
		{"ghcr.io/ns/other:1", false, false},
		{"ghcr.io/other/app:1", false, false},
		{"docker.io/library/busybox:latest", false, true},
		{"busybox", false, true},
		{"docker.io/library/alpine", false, false},
		{"quay.io/ns/app", true, true},
	} {
		t.Run(tc.pullSpec, func(t *testing.T) {
			ref := mustParse(t, tc.pullSpec)
			if err := extended.Admit(ref, false); (err == nil) != tc.allowed {
				t.Errorf("extended: allowed = %v (%v), want %v", err == nil, err, tc.allowed)
			}
			if err := list.Admit(ref, false); (err == nil) != tc.original {
				t.Errorf("original: allowed = %v (%v), want %v", err == nil, err, tc.original)
			}
		})
	}

	// A copy of an extended list keeps the repositories, and extending the copy leaves the list alone.
	again := extended.Copy()
	again.AllowRepository("ghcr.io/ns/third")
	if again.Admit(mustParse(t, "ghcr.io/ns/app:9"), false) != nil || again.Admit(mustParse(t, "ghcr.io/ns/third"), false) != nil {
		t.Error("the copy lost or missed a repository")
	}
	if extended.Admit(mustParse(t, "ghcr.io/ns/third"), false) == nil {
		t.Error("extending a copy changed the list it was copied from")
	}
}

func TestAllowReferencesOf(t *testing.T) {
	list := mustAllowlist(t, internalRegistry, secure("quay.io"))
	old := newStream("ns", "app", 2)
	old.Spec.DockerImageRepository = "ghcr.io/ns/repository"
	old.Spec.Tags = []imagev1.TagReference{
		tagRef("docker", "DockerImage", "ghcr.io/ns/docker:1"),
		tagRef("istag", "ImageStreamTag", "ghcr.io/ns/istag:1"),
		tagRef("isimage", "ImageStreamImage", "ghcr.io/ns/isimage@"+digest("a")),
		{Name: "nofrom"},
	}
	old.Status.Tags = []imagev1.NamedTagEventList{history("docker", event("ghcr.io/ns/status@"+digest("b"), digest("b"), 1, at(0)))}

	allow := AllowReferencesOf(list, old)
	for _, tc := range []struct {
		pullSpec string
		allowed  bool
	}{
		{"ghcr.io/ns/repository:any", true},
		{"ghcr.io/ns/docker:2", true},
		{"ghcr.io/ns/status:latest", true},
		{"ghcr.io/ns/istag:1", false},
		{"ghcr.io/ns/isimage@" + digest("a"), false},
		{"ghcr.io/ns/new", false},
		{"quay.io/ns/app", true},
	} {
		if err := allow.Admit(mustParse(t, tc.pullSpec), false); (err == nil) != tc.allowed {
			t.Errorf("%s: allowed = %v (%v), want %v", tc.pullSpec, err == nil, err, tc.allowed)
		}
	}
	if list.Admit(mustParse(t, "ghcr.io/ns/docker:2"), false) == nil {
		t.Error("AllowReferencesOf changed the list it extends")
	}
}
