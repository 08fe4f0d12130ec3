package imagestreams

import (
	imagev1 "github.com/openshift/api/image/v1"
	corev1 "k8s.io/api/core/v1"
)

// TagRefChanged reports whether next differs from old in what makes a spec tag point elsewhere: its source
// (namespace, an empty one being the stream's, and name), reference, import mode, or a generation reset to 0.
func TagRefChanged(old, next imagev1.TagReference, streamNamespace string) bool {
	if next.From == nil || (next.From.Kind == "" && next.From.Name == "") {
		return false
	}
	oldFrom := old.From
	if oldFrom == nil {
		oldFrom = &corev1.ObjectReference{}
	}
	oldNamespace, nextNamespace := oldFrom.Namespace, next.From.Namespace
	if oldNamespace == "" {
		oldNamespace = streamNamespace
	}
	if nextNamespace == "" {
		nextNamespace = streamNamespace
	}
	switch {
	case oldNamespace != nextNamespace, oldFrom.Name != next.From.Name, old.Reference != next.Reference,
		old.ImportPolicy.ImportMode != next.ImportPolicy.ImportMode:
		return true
	}
	// A generation set back to 0 asks for the tag to be looked at again.
	return old.Generation != nil && next.Generation != nil && *old.Generation != *next.Generation && *next.Generation == 0
}

// KeepSpecTagGenerations gives back every existing spec tag the generation it had: a client may only set 0.
func KeepSpecTagGenerations(stream, old *imagev1.ImageStream) {
	for i := range stream.Spec.Tags {
		tag := &stream.Spec.Tags[i]
		if tag.Generation != nil && *tag.Generation == 0 {
			continue
		}
		if previous, ok := SpecTag(old, tag.Name); ok {
			tag.Generation = copyGeneration(previous.Generation)
		}
	}
}

// StampSpecTagGenerations gives every spec tag that is new, changed, or without a generation (or 0) the stream's
// generation.
func StampSpecTagGenerations(stream, old *imagev1.ImageStream) {
	for i := range stream.Spec.Tags {
		tag := &stream.Spec.Tags[i]
		var previous imagev1.TagReference
		existed := false
		if old != nil {
			previous, existed = SpecTag(old, tag.Name)
		}
		if !existed || TagRefChanged(previous, *tag, stream.Namespace) {
			tag.Generation = nil
		}
		if tag.Generation != nil && *tag.Generation != 0 {
			continue
		}
		tag.Generation = copyGeneration(&stream.Generation)
	}
}

// StampStatusGenerations fills the generation of status events a status write left at 0: the stream's when the
// event did not change, else the spec tag's.
func StampStatusGenerations(stream, old *imagev1.ImageStream) {
	for i := range stream.Status.Tags {
		history := &stream.Status.Tags[i]
		if len(history.Items) == 0 || history.Items[0].Generation != 0 {
			continue
		}
		previous, _ := StatusTag(old, history.Tag)
		if len(previous.Items) == 0 || !tagEventChanged(previous.Items[0], history.Items[0]) {
			history.Items[0].Generation = stream.Generation
			continue
		}
		spec, ok := SpecTag(stream, history.Tag)
		if !ok || spec.Generation == nil {
			history.Items[0].Generation = stream.Generation
			continue
		}
		history.Items[0].Generation = *spec.Generation
	}
}

func tagEventChanged(old, next imagev1.TagEvent) bool {
	return old.Image != next.Image || old.DockerImageReference != next.DockerImageReference ||
		old.Generation > next.Generation
}

func copyGeneration(generation *int64) *int64 {
	if generation == nil {
		return nil
	}
	value := *generation
	return &value
}
