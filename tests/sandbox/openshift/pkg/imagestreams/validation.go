package imagestreams

import (
	"fmt"
	"regexp"

	imagev1 "github.com/openshift/api/image/v1"
	"github.com/openshift/library-go/pkg/image/reference"
	"k8s.io/apimachinery/pkg/api/validation"
	"k8s.io/apimachinery/pkg/api/validation/path"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// nameComponent is the repository path component grammar OpenShift holds image stream names to (older and
// stricter than distribution's: one separator between alphanumerics).
var (
	nameComponent         = regexp.MustCompile(`[a-z0-9]+(?:[._-][a-z0-9]+)*`)
	anchoredNameComponent = regexp.MustCompile(`^` + nameComponent.String() + `$`)
)

// nameTotalLengthMax is the longest repository name a registry accepts (namespace/name).
const nameTotalLengthMax = 255

// ValidateName checks an image stream name (also used for ImageStreamImport names).
func ValidateName(name string, prefix bool) []string {
	if reasons := path.ValidatePathSegmentName(name, prefix); len(reasons) != 0 {
		return reasons
	}
	if !anchoredNameComponent.MatchString(name) {
		return []string{fmt.Sprintf("must match %q", nameComponent.String())}
	}
	return nil
}

func insecureRepository(annotations map[string]string) bool {
	return annotations[imagev1.InsecureRepositoryAnnotation] == "true"
}

// Validate checks a whole stream (metadata, spec, status references) against the registry allowlist.
func Validate(stream *imagev1.ImageStream, allow *Allowlist) field.ErrorList {
	errs := validation.ValidateObjectMeta(&stream.ObjectMeta, true, ValidateName, field.NewPath("metadata"))
	if len(stream.Namespace+"/"+stream.Name) > nameTotalLengthMax {
		errs = append(errs, field.Invalid(field.NewPath("metadata", "name"), stream.Name,
			fmt.Sprintf("'namespace/name' cannot be longer than %d characters", nameTotalLengthMax)))
	}
	insecure := insecureRepository(stream.Annotations)
	if repository := stream.Spec.DockerImageRepository; repository != "" {
		repositoryPath := field.NewPath("spec", "dockerImageRepository")
		ref, err := reference.Parse(repository)
		switch {
		case err != nil:
			errs = append(errs, field.Invalid(repositoryPath, repository, err.Error()))
		case ref.Tag != "" || ref.ID != "":
			if ref.Tag != "" {
				errs = append(errs, field.Invalid(repositoryPath, repository, "the repository name may not contain a tag"))
			}
			if ref.ID != "" {
				errs = append(errs, field.Invalid(repositoryPath, repository, "the repository name may not contain an ID"))
			}
		default:
			if err := allow.Admit(ref, insecure); err != nil {
				errs = append(errs, field.Forbidden(repositoryPath, err.Error()))
			}
		}
	}
	for _, tag := range stream.Spec.Tags {
		errs = append(errs, ValidateTagReference(tag, insecure, allow, field.NewPath("spec", "tags").Key(tag.Name))...)
	}
	for _, history := range stream.Status.Tags {
		tagInsecure := insecure
		if spec, ok := SpecTag(stream, history.Tag); ok {
			tagInsecure = tagInsecure || spec.ImportPolicy.Insecure
		}
		for i, event := range history.Items {
			eventPath := field.NewPath("status", "tags").Key(history.Tag).Child("items").Index(i).Child("dockerImageReference")
			if event.DockerImageReference == "" {
				errs = append(errs, field.Required(eventPath, ""))
				continue
			}
			ref, err := reference.Parse(event.DockerImageReference)
			if err != nil {
				errs = append(errs, field.Invalid(eventPath, event.DockerImageReference, err.Error()))
				continue
			}
			if err := allow.Admit(ref, tagInsecure); err != nil {
				errs = append(errs, field.Forbidden(eventPath, err.Error()))
			}
		}
	}
	return errs
}

// ValidateUpdate checks an update; what the old stream already referenced stays allowed.
func ValidateUpdate(stream, old *imagev1.ImageStream, allow *Allowlist) field.ErrorList {
	errs := validation.ValidateObjectMetaUpdate(&stream.ObjectMeta, &old.ObjectMeta, field.NewPath("metadata"))
	return append(errs, Validate(stream, AllowReferencesOf(allow, old))...)
}

// AllowReferencesOf extends allow with every pull spec old already holds, so such references can stay or go.
func AllowReferencesOf(allow *Allowlist, old *imagev1.ImageStream) *Allowlist {
	if allow == nil {
		return nil
	}
	allow = allow.Copy()
	if old.Spec.DockerImageRepository != "" {
		allow.AllowRepository(old.Spec.DockerImageRepository)
	}
	for _, tag := range old.Spec.Tags {
		if tag.From != nil && tag.From.Kind == "DockerImage" {
			allow.AllowRepository(tag.From.Name)
		}
	}
	for _, history := range old.Status.Tags {
		for _, event := range history.Items {
			allow.AllowRepository(event.DockerImageReference)
		}
	}
	return allow
}

// ValidateStatusUpdate checks a status write: metadata unchanged, new references parse and are allowed.
func ValidateStatusUpdate(stream, old *imagev1.ImageStream, allow *Allowlist) field.ErrorList {
	errs := validation.ValidateObjectMetaUpdate(&stream.ObjectMeta, &old.ObjectMeta, field.NewPath("metadata"))
	known := map[string]bool{}
	for _, history := range old.Status.Tags {
		for _, event := range history.Items {
			known[event.DockerImageReference] = true
		}
	}
	insecure := insecureRepository(stream.Annotations)
	for _, history := range stream.Status.Tags {
		tagInsecure := insecure
		if spec, ok := SpecTag(stream, history.Tag); ok {
			tagInsecure = tagInsecure || spec.ImportPolicy.Insecure
		}
		for i, event := range history.Items {
			if known[event.DockerImageReference] {
				continue
			}
			eventPath := field.NewPath("status", "tags").Key(history.Tag).Child("items").Index(i).Child("dockerImageReference")
			ref, err := reference.Parse(event.DockerImageReference)
			if err != nil {
				errs = append(errs, field.Invalid(eventPath, event.DockerImageReference, err.Error()))
				continue
			}
			if err := allow.Admit(ref, tagInsecure); err != nil {
				errs = append(errs, field.Forbidden(eventPath, err.Error()))
			}
		}
	}
	return errs
}

// ValidateTagReference checks one spec tag: its source, scheduling, reference policy and import mode.
func ValidateTagReference(tag imagev1.TagReference, insecureRepository bool, allow *Allowlist, tagPath *field.Path) field.ErrorList {
	var errs field.ErrorList
	if from := tag.From; from != nil {
		if from.Name == "" {
			errs = append(errs, field.Required(tagPath.Child("from", "name"), ""))
		}
		switch from.Kind {
		case "DockerImage":
			ref, err := reference.Parse(from.Name)
			if err != nil && from.Name != "" {
				errs = append(errs, field.Invalid(tagPath.Child("from", "name"), from.Name, err.Error()))
			} else if err := allow.Admit(ref, tag.ImportPolicy.Insecure || insecureRepository); err != nil {
				errs = append(errs, field.Forbidden(tagPath.Child("from", "name"), err.Error()))
			}
		case "ImageStreamImage", "ImageStreamTag":
			if tag.ImportPolicy.Scheduled {
				errs = append(errs, field.Invalid(tagPath.Child("importPolicy", "scheduled"), tag.ImportPolicy.Scheduled,
					"only tags pointing to Docker repositories may be scheduled for background import"))
			}
		default:
			errs = append(errs, field.Required(tagPath.Child("from", "kind"),
				"valid values are 'DockerImage', 'ImageStreamImage', 'ImageStreamTag'"))
		}
	}
	switch tag.ReferencePolicy.Type {
	case imagev1.SourceTagReferencePolicy, imagev1.LocalTagReferencePolicy:
	default:
		errs = append(errs, field.Invalid(tagPath.Child("referencePolicy", "type"), tag.ReferencePolicy.Type,
			fmt.Sprintf("valid values are %q, %q", imagev1.SourceTagReferencePolicy, imagev1.LocalTagReferencePolicy)))
	}
	return append(errs, ValidateImportPolicy(tag.ImportPolicy, tagPath.Child("importPolicy"))...)
}

// ValidateImportPolicy checks the import mode.
func ValidateImportPolicy(policy imagev1.TagImportPolicy, policyPath *field.Path) field.ErrorList {
	switch policy.ImportMode {
	case "", imagev1.ImportModeLegacy, imagev1.ImportModePreserveOriginal:
		return nil
	}
	return field.ErrorList{field.Invalid(policyPath.Child("importMode"), policy.ImportMode,
		fmt.Sprintf("invalid import mode, valid modes are '', '%s', '%s'", imagev1.ImportModeLegacy, imagev1.ImportModePreserveOriginal))}
}
