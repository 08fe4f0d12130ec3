// Package imagestreams holds the pure decisions about an image stream's tags that OpenShift's image API makes on
// every write: which spec tags changed, the tag events they produce, how a new event joins a tag's history, and
// which tracking tags follow it. Everything works on openshift/api's v1 types, whose tags are lists; OpenShift's
// server keeps them in maps, so these helpers treat a list as a map keyed by name (the last duplicate wins) and
// keep it sorted by name, as the server returns it.
package imagestreams

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	imagev1 "github.com/openshift/api/image/v1"
	"github.com/openshift/library-go/pkg/image/imageutil"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// NormalizeSpecTags collapses duplicate names (the last one wins, as a map would keep it) and sorts by name.
func NormalizeSpecTags(tags []imagev1.TagReference) []imagev1.TagReference {
	if len(tags) == 0 {
		return nil
	}
	byName := make(map[string]imagev1.TagReference, len(tags))
	for _, tag := range tags {
		byName[tag.Name] = tag
	}
	normalized := make([]imagev1.TagReference, 0, len(byName))
	for _, tag := range byName {
		normalized = append(normalized, tag)
	}
	sort.Slice(normalized, func(i, j int) bool { return normalized[i].Name < normalized[j].Name })
	return normalized
}

// NormalizeStatusTags collapses duplicates, drops entries with neither events nor conditions, and sorts by tag.
func NormalizeStatusTags(tags []imagev1.NamedTagEventList) []imagev1.NamedTagEventList {
	byName := make(map[string]imagev1.NamedTagEventList, len(tags))
	for _, tag := range tags {
		byName[tag.Tag] = tag
	}
	normalized := make([]imagev1.NamedTagEventList, 0, len(byName))
	for _, tag := range byName {
		if len(tag.Items) == 0 && len(tag.Conditions) == 0 {
			continue
		}
		normalized = append(normalized, tag)
	}
	if len(normalized) == 0 {
		return nil
	}
	sort.Slice(normalized, func(i, j int) bool { return normalized[i].Tag < normalized[j].Tag })
	return normalized
}

// SpecTag returns the spec tag called name.
func SpecTag(stream *imagev1.ImageStream, name string) (imagev1.TagReference, bool) {
	for i := len(stream.Spec.Tags) - 1; i >= 0; i-- {
		if stream.Spec.Tags[i].Name == name {
			return stream.Spec.Tags[i], true
		}
	}
	return imagev1.TagReference{}, false
}

// SetSpecTag replaces (or adds) the spec tag of the same name.
func SetSpecTag(stream *imagev1.ImageStream, tag imagev1.TagReference) {
	stream.Spec.Tags = setNamed(stream.Spec.Tags, tag, specTagName)
}

// RemoveSpecTag removes the spec tag called name; false when there was none.
func RemoveSpecTag(stream *imagev1.ImageStream, name string) bool {
	var removed bool
	stream.Spec.Tags, removed = removeNamed(stream.Spec.Tags, name, specTagName)
	return removed
}

// StatusTag returns the history of tag.
func StatusTag(stream *imagev1.ImageStream, name string) (imagev1.NamedTagEventList, bool) {
	for _, tag := range stream.Status.Tags {
		if tag.Tag == name {
			return tag, true
		}
	}
	return imagev1.NamedTagEventList{}, false
}

// SetStatusTag replaces (or adds) the history of the same tag.
func SetStatusTag(stream *imagev1.ImageStream, history imagev1.NamedTagEventList) {
	stream.Status.Tags = setNamed(stream.Status.Tags, history, statusTagName)
}

// RemoveStatusTag removes the history of tag; false when there was none.
func RemoveStatusTag(stream *imagev1.ImageStream, name string) bool {
	var removed bool
	stream.Status.Tags, removed = removeNamed(stream.Status.Tags, name, statusTagName)
	return removed
}

func specTagName(tag imagev1.TagReference) string            { return tag.Name }
func statusTagName(history imagev1.NamedTagEventList) string { return history.Tag }

// setNamed replaces the first item of the same name, or appends item.
func setNamed[T any](items []T, item T, name func(T) string) []T {
	if i := slices.IndexFunc(items, func(existing T) bool { return name(existing) == name(item) }); i >= 0 {
		items[i] = item
		return items
	}
	return append(items, item)
}

// removeNamed drops every item called target; false when there was none.
func removeNamed[T any](items []T, target string, name func(T) string) ([]T, bool) {
	kept := slices.DeleteFunc(items, func(item T) bool { return name(item) == target })
	return kept, len(kept) != len(items)
}

// LatestEvent is the current event of tag ("latest" when empty), or nil.
func LatestEvent(stream *imagev1.ImageStream, tag string) *imagev1.TagEvent {
	if tag == "" {
		tag = imagev1.DefaultImageTag
	}
	history, ok := StatusTag(stream, tag)
	if !ok || len(history.Items) == 0 {
		return nil
	}
	event := history.Items[0]
	return &event
}

// AddTagEvent puts next at the head of tag's history. An event that differs from the current one in only its image
// or only its pull spec updates the current one in place; one that differs in both is prepended. Any change clears
// the tag's conditions. Returns whether anything changed.
func AddTagEvent(stream *imagev1.ImageStream, tag string, next imagev1.TagEvent) bool {
	history, ok := StatusTag(stream, tag)
	if !ok || len(history.Items) == 0 {
		SetStatusTag(stream, imagev1.NamedTagEventList{Tag: tag, Items: []imagev1.TagEvent{next}})
		return true
	}
	current := &history.Items[0]
	sameReference := current.DockerImageReference == next.DockerImageReference
	sameImage := current.Image == next.Image
	switch {
	case sameReference && sameImage && current.Generation == next.Generation:
		return false
	case sameReference && sameImage:
	case sameReference:
		current.Image = next.Image
	case sameImage:
		current.DockerImageReference = next.DockerImageReference
	default:
		history.Items = append([]imagev1.TagEvent{next}, history.Items...)
		history.Conditions = nil
		SetStatusTag(stream, history)
		return true
	}
	current.Generation = next.Generation
	history.Conditions = nil
	SetStatusTag(stream, history)
	return true
}

// UpdateTrackingTags copies event to every spec tag of this stream that follows tag (an ImageStreamTag source in
// the same namespace naming `<tag>` or `<this stream>:<tag>`); other streams are never followed. Returns how many
// histories changed.
func UpdateTrackingTags(stream *imagev1.ImageStream, tag string, event imagev1.TagEvent) int {
	updated := 0
	for _, spec := range stream.Spec.Tags {
		from := spec.From
		if from == nil || from.Kind != "ImageStreamTag" {
			continue
		}
		if from.Namespace != "" && from.Namespace != stream.Namespace {
			continue
		}
		sourceStream, sourceTag := stream.Name, from.Name
		if strings.Contains(from.Name, ":") {
			var ok bool
			if sourceStream, sourceTag, ok = imageutil.SplitImageStreamTag(from.Name); !ok {
				continue
			}
		}
		if sourceStream != stream.Name || sourceTag != tag {
			continue
		}
		if AddTagEvent(stream, spec.Name, event) {
			updated++
		}
	}
	return updated
}

// NotFoundError says no image of a stream matches an ID.
type NotFoundError struct{ ID string }

func (e NotFoundError) Error() string { return fmt.Sprintf("no image in the stream matches %q", e.ID) }

// AmbiguousError says several images of a stream match an ID prefix.
type AmbiguousError struct {
	ID      string
	Matches []string
}

func (e AmbiguousError) Error() string {
	return fmt.Sprintf("multiple images match the prefix %q: %s", e.ID, strings.Join(e.Matches, ", "))
}

// ResolveImageID finds the one image of the stream's histories that id names (a digest or a unique prefix).
func ResolveImageID(stream *imagev1.ImageStream, id string) (*imagev1.TagEvent, error) {
	var found *imagev1.TagEvent
	matches := map[string]bool{}
	for _, history := range stream.Status.Tags {
		for i := range history.Items {
			event := history.Items[i]
			if imageutil.DigestOrImageMatch(event.Image, id) {
				found = &event
				matches[event.Image] = true
			}
		}
	}
	switch len(matches) {
	case 0:
		return nil, NotFoundError{ID: id}
	case 1:
		return &imagev1.TagEvent{
			Created:              metav1.Now(),
			DockerImageReference: found.DockerImageReference,
			Image:                found.Image,
		}, nil
	}
	names := make([]string, 0, len(matches))
	for name := range matches {
		names = append(names, name)
	}
	sort.Strings(names)
	return nil, AmbiguousError{ID: id, Matches: names}
}

// SetTagConditions replaces the conditions of tag's history (creating an empty history for them if needed).
func SetTagConditions(stream *imagev1.ImageStream, tag string, conditions ...imagev1.TagEventCondition) {
	history, _ := StatusTag(stream, tag)
	history.Tag = tag
	history.Conditions = conditions
	SetStatusTag(stream, history)
}

// HasTagCondition reports whether tag already carries a condition like condition: same type, status, reason and
// message (not generation: a failure repeated at a later generation leaves the first one standing, as OpenShift's
// import does).
func HasTagCondition(stream *imagev1.ImageStream, tag string, condition imagev1.TagEventCondition) bool {
	history, ok := StatusTag(stream, tag)
	if !ok {
		return false
	}
	for _, existing := range history.Conditions {
		if existing.Type == condition.Type && existing.Status == condition.Status && existing.Reason == condition.Reason &&
			existing.Message == condition.Message {
			return true
		}
	}
	return false
}
