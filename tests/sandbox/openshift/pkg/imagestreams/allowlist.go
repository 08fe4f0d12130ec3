package imagestreams

import (
	"fmt"
	"net"
	"path"
	"strings"

	"github.com/openshift/library-go/pkg/image/reference"
)

// AllowedRegistry is one entry of images.config.openshift.io's spec.allowedRegistriesForImport.
type AllowedRegistry struct {
	DomainName string `json:"domainName"`
	Insecure   bool   `json:"insecure,omitempty"`
}

type hostPortGlob struct{ host, port string }

// Allowlist decides which registries image references may name, as OpenShift's registry allowlist does: an empty
// configuration allows everything; otherwise a host glob with an optional port glob (443 by default, 80 for an
// insecure entry), the internal registry always allowed, and repositories already in the object let through.
type Allowlist struct {
	globs        []hostPortGlob
	repositories map[string]bool
}

// NewAllowlist builds the allowlist; nil when entries is empty (every registry is allowed).
func NewAllowlist(entries []AllowedRegistry, internalRegistry string) (*Allowlist, error) {
	if len(entries) == 0 {
		return nil, nil
	}
	list := &Allowlist{repositories: map[string]bool{}}
	if internalRegistry != "" {
		if err := list.add(internalRegistry, false); err != nil {
			return nil, err
		}
	}
	for _, entry := range entries {
		if err := list.add(entry.DomainName, entry.Insecure); err != nil {
			return nil, err
		}
	}
	return list, nil
}

func (a *Allowlist) add(domain string, insecure bool) error {
	parts := strings.SplitN(domain, ":", 3)
	glob := hostPortGlob{host: parts[0], port: "443"}
	switch len(parts) {
	case 1:
		if insecure {
			glob.port = "80"
		}
	case 2:
		glob.port = parts[1]
	default:
		return fmt.Errorf("failed to parse allowed registry %q: too many colons", domain)
	}
	for _, existing := range a.globs {
		if existing == glob {
			return nil
		}
	}
	a.globs = append(a.globs, glob)
	return nil
}

// Copy returns an allowlist that can be extended without changing this one.
func (a *Allowlist) Copy() *Allowlist {
	if a == nil {
		return nil
	}
	copied := &Allowlist{globs: append([]hostPortGlob(nil), a.globs...), repositories: map[string]bool{}}
	for repository := range a.repositories {
		copied.repositories[repository] = true
	}
	return copied
}

// AllowRepository lets every reference to pullSpec's repository through (references an object already held).
func (a *Allowlist) AllowRepository(pullSpec string) {
	if a == nil {
		return
	}
	if ref, err := reference.Parse(pullSpec); err == nil {
		a.repositories[ref.DockerClientDefaults().AsRepository().Exact()] = true
	}
}

// Admit returns an error naming the registry and the allowed ones when ref's registry is not allowed. insecure
// tags may use either port.
func (a *Allowlist) Admit(ref reference.DockerImageReference, insecure bool) error {
	if a == nil {
		return nil
	}
	if a.repositories[ref.DockerClientDefaults().AsRepository().Exact()] {
		return nil
	}
	var host, port string
	if insecure {
		var err error
		host, port, err = net.SplitHostPort(ref.Registry)
		if err != nil || port == "" {
			host, port = ref.Registry, ""
		}
		if host == "" {
			host, _ = ref.RegistryHostPort(false)
		}
	} else {
		host, port = ref.RegistryHostPort(false)
	}
	matches := func(candidate string) bool {
		for _, glob := range a.globs {
			if !globMatch(glob.host, candidate) {
				continue
			}
			if port == "" {
				if glob.port == "80" || glob.port == "443" || glob.port == "*" {
					return true
				}
				continue
			}
			if globMatch(glob.port, port) {
				return true
			}
		}
		return false
	}
	if (host == reference.DockerDefaultV1Registry || host == reference.DockerDefaultV2Registry) && matches(reference.DockerDefaultRegistry) {
		return nil
	}
	if matches(host) {
		return nil
	}
	registry := ref.Registry
	if registry == "" {
		registry = host
		if port != "" {
			registry = net.JoinHostPort(host, port)
		}
	}
	allowed := make([]string, 0, len(a.globs))
	for _, glob := range a.globs {
		allowed = append(allowed, fmt.Sprintf("%q", net.JoinHostPort(glob.host, glob.port)))
	}
	const shown = 5
	if len(allowed) <= shown {
		return fmt.Errorf("registry %q not allowed by whitelist: %s", registry, strings.Join(allowed, ", "))
	}
	return fmt.Errorf("registry %q not allowed by whitelist: %s, and %d more ...", registry,
		strings.Join(allowed[:shown-1], ", "), len(allowed)-shown+1)
}

// globMatch matches * and ? in pattern; hostnames and ports hold no path separator, so path.Match fits.
func globMatch(pattern, value string) bool {
	matched, err := path.Match(pattern, value)
	return err == nil && matched
}
