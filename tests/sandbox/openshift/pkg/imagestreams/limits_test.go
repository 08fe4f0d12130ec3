package imagestreams

import (
	"strings"
	"testing"

	imagev1 "github.com/openshift/api/image/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/sets"
)

func limitRange(items ...corev1.LimitRangeItem) *corev1.LimitRange {
	return &corev1.LimitRange{ObjectMeta: metav1.ObjectMeta{Name: "limits", Namespace: "ns"}, Spec: corev1.LimitRangeSpec{Limits: items}}
}

func streamLimit(images, tags string) corev1.LimitRangeItem {
	item := corev1.LimitRangeItem{Type: imagev1.LimitTypeImageStream, Max: corev1.ResourceList{}}
	if images != "" {
		item.Max[imagev1.ResourceImageStreamImages] = resource.MustParse(images)
	}
	if tags != "" {
		item.Max[imagev1.ResourceImageStreamTags] = resource.MustParse(tags)
	}
	return item
}

func quantities(list corev1.ResourceList) map[corev1.ResourceName]int64 {
	out := map[corev1.ResourceName]int64{}
	for name, quantity := range list {
		out[name] = quantity.Value()
	}
	return out
}

func TestMaxLimits(t *testing.T) {
	images, tags := imagev1.ResourceImageStreamImages, imagev1.ResourceImageStreamTags
	for _, tc := range []struct {
		name   string
		ranges []*corev1.LimitRange
		want   map[corev1.ResourceName]int64
	}{
		{name: "no ranges", want: map[corev1.ResourceName]int64{}},
		{
			name: "no image stream limits",
			ranges: []*corev1.LimitRange{limitRange(
				corev1.LimitRangeItem{Type: corev1.LimitTypeContainer, Max: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("1")}},
				// the image stream resources under another type do not count
				corev1.LimitRangeItem{Type: corev1.LimitTypePod, Max: corev1.ResourceList{images: resource.MustParse("1")}},
				corev1.LimitRangeItem{Type: imagev1.LimitTypeImage, Max: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("1Gi"), tags: resource.MustParse("1")}},
			)},
			want: map[corev1.ResourceName]int64{},
		},
		{
			name:   "one range",
			ranges: []*corev1.LimitRange{limitRange(streamLimit("10", "5"))},
			want:   map[corev1.ResourceName]int64{images: 10, tags: 5},
		},
		{
			name:   "the lowest maximum of each resource across ranges",
			ranges: []*corev1.LimitRange{limitRange(streamLimit("10", "5")), limitRange(streamLimit("20", "2")), limitRange(streamLimit("15", ""))},
			want:   map[corev1.ResourceName]int64{images: 10, tags: 2},
		},
		{
			name:   "the lowest maximum within one range",
			ranges: []*corev1.LimitRange{limitRange(streamLimit("10", ""), streamLimit("3", "8"))},
			want:   map[corev1.ResourceName]int64{images: 3, tags: 8},
		},
		{
			name:   "only one resource limited",
			ranges: []*corev1.LimitRange{limitRange(streamLimit("", "4"))},
			want:   map[corev1.ResourceName]int64{tags: 4},
		},
		{
			name: "other resources of the image stream type are ignored",
			ranges: []*corev1.LimitRange{limitRange(corev1.LimitRangeItem{
				Type: imagev1.LimitTypeImageStream,
				Max:  corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("1Gi"), images: resource.MustParse("7")},
			})},
			want: map[corev1.ResourceName]int64{images: 7},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := MaxLimits(tc.ranges)
			if q := quantities(got); !mapsEqual(q, tc.want) {
				t.Errorf("got %v, want %v", q, tc.want)
			}
		})
	}
}

func mapsEqual(a, b map[corev1.ResourceName]int64) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

func TestUsage(t *testing.T) {
	stream := newStream("ns", "app", 1)
	stream.Spec.Tags = []imagev1.TagReference{
		tagRef("a", "DockerImage", "busybox"),
		tagRef("b", "DockerImage", "docker.io/library/busybox:latest"), // the same image as a
		tagRef("c", "DockerImage", "quay.io/ns/app:1"),
		tagRef("d", "ImageStreamTag", "other:v1"),
		withNamespace(tagRef("e", "ImageStreamTag", "other:v1"), "ns"), // the same as d
		withNamespace(tagRef("f", "ImageStreamTag", "other:v1"), "shared"),
		tagRef("g", "ImageStreamTag", "v1"), // not a <stream>:<tag>: not counted
		tagRef("h", "ImageStreamImage", "other@"+digest("1")),
		tagRef("i", "ImageStreamImage", "other"), // no ID: not counted
		tagRef("j", "DockerImage", "Not A Pull Spec"),
		tagRef("k", "Image", "whatever"),
		{Name: "l"},
	}
	stream.Status.Tags = []imagev1.NamedTagEventList{
		history("a", event("busybox@"+digest("a"), digest("a"), 1, at(0)), event("busybox@"+digest("b"), digest("b"), 1, at(0))),
		history("c", event("quay.io/ns/app@"+digest("a"), digest("a"), 1, at(0)), event("quay.io/ns/app:1", "", 1, at(0))),
	}
	usage, specRefs, statusRefs := Usage(stream)
	// Pull specs in the daemon's minimal form, image stream tags as namespace/stream:tag, image stream images as
	// namespace/stream@id.
	wantSpec := sets.New(
		"docker.io/busybox",
		"quay.io/ns/app:1",
		"ns/other:v1",
		"shared/other:v1",
		"ns/other@"+digest("1"),
	)
	if !specRefs.Equal(wantSpec) {
		t.Errorf("spec references %v, want %v", sets.List(specRefs), sets.List(wantSpec))
	}
	if want := sets.New(digest("a"), digest("b")); !statusRefs.Equal(want) {
		t.Errorf("status references %v, want %v", sets.List(statusRefs), sets.List(want))
	}
	if got := quantities(usage); !mapsEqual(got, map[corev1.ResourceName]int64{imagev1.ResourceImageStreamTags: 5, imagev1.ResourceImageStreamImages: 2}) {
		t.Errorf("usage %v", got)
	}

	usage, specRefs, statusRefs = Usage(nil)
	if specRefs.Len() != 0 || statusRefs.Len() != 0 || !mapsEqual(quantities(usage), map[corev1.ResourceName]int64{imagev1.ResourceImageStreamTags: 0, imagev1.ResourceImageStreamImages: 0}) {
		t.Errorf("nil stream: %v %v %v", usage, specRefs, statusRefs)
	}
}

// streamWithRefs has a DockerImage spec tag for each of specFrom and a status history for each of images.
func streamWithRefs(specFrom []string, images []string) *imagev1.ImageStream {
	stream := newStream("ns", "app", 1)
	for i, from := range specFrom {
		stream.Spec.Tags = append(stream.Spec.Tags, tagRef("t"+string(rune('a'+i)), "DockerImage", from))
	}
	for i, image := range images {
		stream.Status.Tags = append(stream.Status.Tags, history("s"+string(rune('a'+i)), event("quay.io/ns/app@"+image, image, 1, at(0))))
	}
	return stream
}

func TestVerifyLimits(t *testing.T) {
	limits := MaxLimits([]*corev1.LimitRange{limitRange(streamLimit("1", "2"))})
	tagsOver := func(used int) string {
		return "requested usage of openshift.io/image-tags exceeds the maximum limit per openshift.io/ImageStream (" + string(rune('0'+used)) + " > 2)"
	}
	imagesOver := func(used int) string {
		return "requested usage of openshift.io/images exceeds the maximum limit per openshift.io/ImageStream (" + string(rune('0'+used)) + " > 1)"
	}
	a, b, c, d := "quay.io/ns/a:1", "quay.io/ns/b:1", "quay.io/ns/c:1", "quay.io/ns/d:1"
	img1, img2, img3 := digest("1"), digest("2"), digest("3")
	for _, tc := range []struct {
		name     string
		limits   corev1.ResourceList
		old, new *imagev1.ImageStream
		want     []string // messages the error holds; none: no error
	}{
		{name: "no limits", old: nil, new: streamWithRefs([]string{a, b, c}, []string{img1, img2})},
		{name: "create within the limits", limits: limits, old: nil, new: streamWithRefs([]string{a, b}, []string{img1})},
		{name: "create over the tag limit", limits: limits, old: nil, new: streamWithRefs([]string{a, b, c}, nil), want: []string{tagsOver(3)}},
		{name: "create over the image limit", limits: limits, old: nil, new: streamWithRefs(nil, []string{img1, img2}), want: []string{imagesOver(2)}},
		{name: "create over both", limits: limits, old: nil, new: streamWithRefs([]string{a, b, c}, []string{img1, img2}), want: []string{tagsOver(3), imagesOver(2)}},
		{name: "an update adding a reference over the limit", limits: limits, old: streamWithRefs([]string{a, b}, nil), new: streamWithRefs([]string{a, b, c}, nil), want: []string{tagsOver(3)}},
		{
			name:   "an update adding nothing passes although over the limit",
			limits: limits,
			old:    streamWithRefs([]string{a, b, c, d}, []string{img1, img2, img3}),
			new:    streamWithRefs([]string{a, b, c, d}, []string{img1, img2, img3}),
		},
		{
			name:   "an update removing references passes although still over the limit",
			limits: limits,
			old:    streamWithRefs([]string{a, b, c, d}, []string{img1, img2, img3}),
			new:    streamWithRefs([]string{a, b, c}, []string{img1, img2}),
		},
		{
			name:   "an update swapping a reference for a new one is checked",
			limits: limits,
			old:    streamWithRefs([]string{a, b, c}, nil),
			new:    streamWithRefs([]string{a, b, d}, nil),
			want:   []string{tagsOver(3)},
		},
		{
			name:   "an update swapping an image for a new one is checked",
			limits: limits,
			old:    streamWithRefs(nil, []string{img1, img2}),
			new:    streamWithRefs(nil, []string{img1, img3}),
			want:   []string{imagesOver(2)},
		},
		{
			name:   "an update adding an image is checked against both limits",
			limits: limits,
			old:    streamWithRefs([]string{a, b, c}, nil),
			new:    streamWithRefs([]string{a, b, c}, []string{img1}),
			want:   []string{tagsOver(3)},
		},
		{
			name:   "an update adding a reference within the limits",
			limits: limits,
			old:    streamWithRefs([]string{a}, nil),
			new:    streamWithRefs([]string{a, b}, []string{img1}),
		},
		{
			name:   "only the limited resource is checked",
			limits: MaxLimits([]*corev1.LimitRange{limitRange(streamLimit("", "2"))}),
			old:    nil,
			new:    streamWithRefs([]string{a}, []string{img1, img2, img3}),
		},
		{
			name:   "the same image under two tags counts once",
			limits: limits,
			old:    nil,
			new:    streamWithRefs([]string{a, "quay.io/ns/a:1", b}, []string{img1, img1}),
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := VerifyLimits(tc.limits, tc.old, tc.new)
			if len(tc.want) == 0 {
				if err != nil {
					t.Errorf("unexpected error: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("no error, want %v", tc.want)
			}
			for _, message := range tc.want {
				if !strings.Contains(err.Error(), message) {
					t.Errorf("error %q lacks %q", err, message)
				}
			}
			if len(tc.want) == 1 && err.Error() != tc.want[0] {
				t.Errorf("error %q, want exactly %q", err, tc.want[0])
			}
		})
	}
}
