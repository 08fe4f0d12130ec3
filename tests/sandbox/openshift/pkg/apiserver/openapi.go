package apiserver

import (
	"github.com/openshift/api/openapi/generated_openapi"
	"k8s.io/apimachinery/pkg/version"
	"k8s.io/kube-openapi/pkg/common"
	"k8s.io/kube-openapi/pkg/validation/spec"
)

// openAPIDefinitions are openshift/api's generated definitions plus version.Info, which every API server serves
// at /version and openshift/api does not generate.
func openAPIDefinitions(ref common.ReferenceCallback) map[string]common.OpenAPIDefinition {
	definitions := generated_openapi.GetOpenAPIDefinitions(ref)
	definitions[version.Info{}.OpenAPIModelName()] = versionInfoDefinition()
	return definitions
}

func versionInfoDefinition() common.OpenAPIDefinition {
	text := func(description string) spec.Schema {
		return spec.Schema{SchemaProps: spec.SchemaProps{Type: []string{"string"}, Default: "", Description: description}}
	}
	required := []string{"major", "minor", "gitVersion", "gitCommit", "gitTreeState", "buildDate", "goVersion", "compiler", "platform"}
	properties := map[string]spec.Schema{
		"major":                 text("Major is the major version of the binary version"),
		"minor":                 text("Minor is the minor version of the binary version"),
		"emulationMajor":        text("EmulationMajor is the major version of the emulation version"),
		"emulationMinor":        text("EmulationMinor is the minor version of the emulation version"),
		"minCompatibilityMajor": text("MinCompatibilityMajor is the major version of the minimum compatibility version"),
		"minCompatibilityMinor": text("MinCompatibilityMinor is the minor version of the minimum compatibility version"),
	}
	for _, name := range required[2:] {
		properties[name] = text("")
	}
	return common.OpenAPIDefinition{Schema: spec.Schema{SchemaProps: spec.SchemaProps{
		Description: "Info contains versioning information.",
		Type:        []string{"object"},
		Properties:  properties,
		Required:    required,
	}}}
}
