// Package imagestreamimport serves imagestreamimports: a synchronous import of the images named in the request,
// with the namespace's pull secrets, written into the stream (created when missing) when spec.import is true.
package imagestreamimport

import (
	"context"
	"fmt"
	"time"

	imagev1 "github.com/openshift/api/image/v1"
	"github.com/openshift/library-go/pkg/authorization/authorizationutil"
	"github.com/openshift/library-go/pkg/image/reference"
	authorizationv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"
	genericapirequest "k8s.io/apiserver/pkg/endpoints/request"
	"k8s.io/apiserver/pkg/registry/rest"
	"k8s.io/client-go/kubernetes"
	"k8s.io/klog/v2"

	"github.com/openshift-ops/images/tests/sandbox/openshift/pkg/apis/image"
	"github.com/openshift-ops/images/tests/sandbox/openshift/pkg/imagestreams"
	"github.com/openshift-ops/images/tests/sandbox/openshift/pkg/importer"
	"github.com/openshift-ops/images/tests/sandbox/openshift/pkg/registry/imagestream"
)

// REST serves imagestreamimports (create only).
type REST struct {
	Streams  *imagestream.Storage
	Images   rest.StandardStorage
	Kube     kubernetes.Interface
	Importer *importer.Importer
}

var (
	_ rest.Creater              = &REST{}
	_ rest.Scoper               = &REST{}
	_ rest.SingularNameProvider = &REST{}
)

func (r *REST) New() runtime.Object     { return &imagev1.ImageStreamImport{} }
func (r *REST) Destroy()                {}
func (r *REST) NamespaceScoped() bool   { return true }
func (r *REST) GetSingularName() string { return "imagestreamimport" }

// Validate checks the request as OpenShift does.
func Validate(isi *imagev1.ImageStreamImport) field.ErrorList {
	imagesPath := field.NewPath("spec", "images")
	var errs field.ErrorList
	for i, spec := range isi.Spec.Images {
		if spec.From.Kind != "DockerImage" {
			errs = append(errs, field.Invalid(imagesPath.Index(i).Child("from", "kind"), spec.From.Kind, "only DockerImage is supported"))
			continue
		}
		if spec.To != nil && spec.To.Name == "" {
			errs = append(errs, field.Invalid(imagesPath.Index(i).Child("to", "name"), spec.To.Name, "the name of the target tag must be specified"))
		}
		if spec.From.Name == "" {
			errs = append(errs, field.Required(imagesPath.Index(i).Child("from", "name"), ""))
		} else if _, err := reference.Parse(spec.From.Name); err != nil {
			errs = append(errs, field.Invalid(imagesPath.Index(i).Child("from", "name"), spec.From.Name, err.Error()))
		}
		errs = append(errs, imagestreams.ValidateImportPolicy(spec.ImportPolicy, imagesPath.Index(i).Child("importPolicy"))...)
	}
	if isi.Spec.Repository != nil {
		// The sandbox imports single images only (what oc tag, oc import-image and the controllers ask for).
		errs = append(errs, field.NotSupported(field.NewPath("spec", "repository"), "repository", []string{"images"}))
	}
	if len(isi.Spec.Images) == 0 && isi.Spec.Repository == nil {
		errs = append(errs, field.Invalid(imagesPath, nil, "you must specify at least one image or a repository import"))
	}
	return append(errs, validation.ValidateObjectMeta(&isi.ObjectMeta, true, imagestreams.ValidateName, field.NewPath("metadata"))...)
}

// Create imports and, with spec.import, writes the result into the stream.
func (r *REST) Create(ctx context.Context, obj runtime.Object, createValidation rest.ValidateObjectFunc, _ *metav1.CreateOptions) (runtime.Object, error) {
	isi := obj.(*imagev1.ImageStreamImport)
	requested := isi.ObjectMeta
	namespace, ok := genericapirequest.NamespaceFrom(ctx)
	if !ok {
		return nil, apierrors.NewBadRequest("a namespace must be specified to import images")
	}
	isi.Namespace = namespace
	rest.FillObjectMetaSystemFields(isi)
	image.DefaultImageStreamImport(isi)
	if errs := Validate(isi); len(errs) > 0 {
		return nil, apierrors.NewInvalid(image.Kind("ImageStreamImport"), isi.Name, errs)
	}
	if createValidation != nil {
		if err := createValidation(ctx, isi.DeepCopyObject()); err != nil {
			return nil, err
		}
	}
	if err := r.checkAllowedRegistries(ctx, isi); err != nil {
		return nil, err
	}

	create := false
	var stream *imagev1.ImageStream
	found, err := r.Streams.Streams.Get(ctx, isi.Name, &metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
		if requested.ResourceVersion != "" || requested.UID != "" {
			return nil, err
		}
		create = true
		stream = &imagev1.ImageStream{ObjectMeta: metav1.ObjectMeta{Name: isi.Name, Namespace: namespace}}
	case err != nil:
		return nil, err
	default:
		stream = found.(*imagev1.ImageStream)
		if requested.ResourceVersion != "" && requested.ResourceVersion != stream.ResourceVersion {
			return nil, apierrors.NewConflict(image.Resource("imagestream"), requested.Name,
				fmt.Errorf("the image stream was updated from %q to %q", requested.ResourceVersion, stream.ResourceVersion))
		}
		if requested.UID != "" && requested.UID != stream.UID {
			return nil, apierrors.NewNotFound(image.Resource("imagestream"), requested.Name)
		}
	}

	keyring, err := r.keyring(ctx, namespace)
	if err != nil {
		// As in OpenShift, a pull secret that cannot be read fails every image of the request.
		klog.V(2).Infof("import into %s/%s: %v", namespace, isi.Name, err)
	}
	r.importImages(ctx, isi, keyring, err)

	if !isi.Spec.Import {
		clearManifests(isi)
		return isi, nil
	}
	if stream.Annotations == nil {
		stream.Annotations = map[string]string{}
	}
	now := metav1.Now()
	_, checked := stream.Annotations[imagev1.DockerImageRepositoryCheckAnnotation]
	original := stream.DeepCopy()
	if err := r.applyResults(ctx, isi, stream, stream.Generation+1, now); err != nil {
		return nil, err
	}
	clearManifests(isi)
	image.DefaultImageStream(stream)
	stream.Spec.Tags = imagestreams.NormalizeSpecTags(stream.Spec.Tags)
	stream.Status.Tags = imagestreams.NormalizeStatusTags(stream.Status.Tags)
	changed := !equalStreams(original, stream)

	var written runtime.Object
	switch {
	case create:
		stream.Annotations[imagev1.DockerImageRepositoryCheckAnnotation] = now.UTC().Format(time.RFC3339)
		written, err = r.Streams.Internal.Create(ctx, stream, rest.ValidateAllObjectFunc, &metav1.CreateOptions{})
	case checked && !changed:
		written = original
	default:
		stream.Annotations[imagev1.DockerImageRepositoryCheckAnnotation] = now.UTC().Format(time.RFC3339)
		written, _, err = r.Streams.Internal.Update(ctx, stream.Name, rest.DefaultUpdatedObjectInfo(stream),
			rest.ValidateAllObjectFunc, rest.ValidateAllObjectUpdateFunc, false, &metav1.UpdateOptions{})
	}
	if err != nil {
		return nil, err
	}
	isi.Status.Import = written.(*imagev1.ImageStream).DeepCopy()
	isi.Status.Import.TypeMeta = metav1.TypeMeta{} // embedded: OpenShift's answer has no kind of its own there
	return isi, nil
}

func equalStreams(a, b *imagev1.ImageStream) bool {
	return apiequality.Semantic.DeepEqual(a, b)
}

// checkAllowedRegistries applies the registry allowlist unless the caller may create images (or mappings).
func (r *REST) checkAllowedRegistries(ctx context.Context, isi *imagev1.ImageStreamImport) error {
	caller, ok := genericapirequest.UserFrom(ctx)
	if !ok {
		return apierrors.NewBadRequest("unable to get user from context")
	}
	for _, resource := range []string{"images", "imagestreammapping"} {
		review := authorizationutil.AddUserToSAR(caller, &authorizationv1.SubjectAccessReview{
			Spec: authorizationv1.SubjectAccessReviewSpec{ResourceAttributes: &authorizationv1.ResourceAttributes{
				Verb: "create", Group: image.GroupName, Resource: resource,
			}},
		})
		answer, err := r.Kube.AuthorizationV1().SubjectAccessReviews().Create(ctx, review, metav1.CreateOptions{})
		if err != nil {
			return err
		}
		if answer.Status.Allowed {
			return nil
		}
	}
	allow, err := r.Streams.Strategy.Policy.Allowlist(ctx)
	if err != nil {
		return apierrors.NewInternalError(err)
	}
	var errs field.ErrorList
	for i, spec := range isi.Spec.Images {
		ref, err := reference.Parse(spec.From.Name)
		if err != nil {
			continue
		}
		if err := allow.Admit(ref, spec.ImportPolicy.Insecure); err != nil {
			errs = append(errs, field.Forbidden(field.NewPath("spec", "images").Index(i).Child("from", "name"), err.Error()))
		}
	}
	if len(errs) > 0 {
		return apierrors.NewInvalid(image.Kind("ImageStreamImport"), isi.Name, errs)
	}
	return nil
}

// keyring reads the namespace's pull secrets, as the imagestreams/secrets subresource lists them.
func (r *REST) keyring(ctx context.Context, namespace string) (*importer.Keyring, error) {
	secrets, err := r.Kube.CoreV1().Secrets(namespace).List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, err
	}
	var pullSecrets []corev1.Secret
	for _, secret := range secrets.Items {
		if secret.Type == corev1.SecretTypeDockercfg || secret.Type == corev1.SecretTypeDockerConfigJson {
			pullSecrets = append(pullSecrets, secret)
		}
	}
	return importer.KeyringFromSecrets(pullSecrets)
}

func (r *REST) importImages(ctx context.Context, isi *imagev1.ImageStreamImport, keyring *importer.Keyring, keyringErr error) {
	isi.Status.Images = make([]imagev1.ImageImportStatus, len(isi.Spec.Images))
	for i, spec := range isi.Spec.Images {
		status := &isi.Status.Images[i]
		if keyringErr != nil {
			status.Status = apierrors.NewInternalError(keyringErr).ErrStatus
			continue
		}
		ref, err := reference.Parse(spec.From.Name)
		status.Tag = ref.Tag // the source's tag, as OpenShift reports it (not the tag imported into)
		if err != nil {
			status.Status = apierrors.NewInvalid(image.Kind("DockerImage"), spec.From.Name,
				field.ErrorList{field.Invalid(field.NewPath("from", "name"), spec.From.Name, err.Error())}).ErrStatus
			continue
		}
		imported, err := r.Importer.Import(ctx, ref, spec.ImportPolicy.Insecure, keyring, spec.ImportPolicy.ImportMode)
		if err != nil {
			klog.V(2).Infof("import of %s failed: %v", spec.From.Name, err)
			if typed, ok := err.(apierrors.APIStatus); ok {
				status.Status = typed.Status()
			} else {
				status.Status = apierrors.NewInternalError(err).ErrStatus
			}
			continue
		}
		status.Status = metav1.Status{Status: metav1.StatusSuccess}
		status.Image = imported
	}
}

// applyResults creates the imported images and points each requested tag at its image (or records why not).
func (r *REST) applyResults(ctx context.Context, isi *imagev1.ImageStreamImport, stream *imagev1.ImageStream, nextGeneration int64, now metav1.Time) error {
	for i, spec := range isi.Spec.Images {
		if spec.To == nil {
			continue
		}
		tag := spec.To.Name
		status := isi.Status.Images[i]
		if status.Image == nil || status.Status.Status != metav1.StatusSuccess {
			recordFailure(stream, tag, status, nextGeneration, now)
			ensureSpecTag(stream, tag, spec.From.Name, spec.ImportPolicy, spec.ReferencePolicy, false)
			continue
		}
		imported := status.Image
		ref, err := reference.Parse(imported.DockerImageReference)
		pullSpec := imported.DockerImageReference
		if err == nil {
			ref.ID = imported.Name
			pullSpec = ref.MostSpecific().Exact()
		}
		event := imagev1.TagEvent{Created: now, DockerImageReference: pullSpec, Image: imported.Name, Generation: nextGeneration}
		if tagChanged(stream, tag, event) {
			ensureSpecTag(stream, tag, spec.From.Name, spec.ImportPolicy, spec.ReferencePolicy, true)
			imagestreams.AddTagEvent(stream, tag, event)
		}
		specTag, _ := imagestreams.SpecTag(stream, tag)
		specTag.ImportPolicy = spec.ImportPolicy
		imagestreams.SetSpecTag(stream, specTag)
		imagestreams.SetTagConditions(stream, tag)
		created, err := r.createImage(ctx, imported)
		if err != nil {
			return err
		}
		isi.Status.Images[i].Image = created
	}
	return nil
}

// createImage stores an imported image without its manifest and configuration text (OpenShift keeps them out of
// etcd); an image that exists already is answered as imported, not re-read.
func (r *REST) createImage(ctx context.Context, img *imagev1.Image) (*imagev1.Image, error) {
	stored := img.DeepCopy()
	stored.DockerImageManifest, stored.DockerImageConfig = "", ""
	created, err := r.Images.Create(ctx, stored, rest.ValidateAllObjectFunc, &metav1.CreateOptions{})
	switch {
	case apierrors.IsAlreadyExists(err):
		return stored, nil
	case err != nil:
		return nil, err
	}
	answer := created.(*imagev1.Image)
	answer.TypeMeta = metav1.TypeMeta{}
	return answer, nil
}

func tagChanged(stream *imagev1.ImageStream, tag string, event imagev1.TagEvent) bool {
	current := imagestreams.LatestEvent(stream, tag)
	spec, ok := imagestreams.SpecTag(stream, tag)
	if current == nil || !ok || spec.Generation == nil {
		return true
	}
	return current.DockerImageReference != event.DockerImageReference || current.Image != event.Image ||
		*spec.Generation > current.Generation
}

// recordFailure sets the ImportSuccess=False condition and resets the spec tag's generation, once per failure.
func recordFailure(stream *imagev1.ImageStream, tag string, status imagev1.ImageImportStatus, nextGeneration int64, now metav1.Time) {
	message := status.Status.Message
	if message == "" {
		message = "unknown error prevented import"
	}
	condition := imagev1.TagEventCondition{
		Type:               imagev1.ImportSuccess,
		Status:             corev1.ConditionFalse,
		Message:            message,
		Reason:             string(status.Status.Reason),
		Generation:         nextGeneration,
		LastTransitionTime: now,
	}
	if imagestreams.HasTagCondition(stream, tag, condition) {
		return
	}
	imagestreams.SetTagConditions(stream, tag, condition)
	if spec, ok := imagestreams.SpecTag(stream, tag); ok {
		zero := int64(0)
		spec.Generation = &zero
		imagestreams.SetSpecTag(stream, spec)
	}
}

// ensureSpecTag points tag at from (with reset, or when the stream has no such tag), asking for its generation.
func ensureSpecTag(stream *imagev1.ImageStream, tag, from string, importPolicy imagev1.TagImportPolicy, referencePolicy imagev1.TagReferencePolicy, reset bool) {
	spec, ok := imagestreams.SpecTag(stream, tag)
	if ok && !reset {
		return
	}
	spec.Name = tag
	spec.From = &corev1.ObjectReference{Kind: "DockerImage", Name: from}
	zero := int64(0)
	spec.Generation = &zero
	spec.ImportPolicy = importPolicy
	if spec.ReferencePolicy.Type == "" {
		spec.ReferencePolicy = referencePolicy
	}
	imagestreams.SetSpecTag(stream, spec)
}

func clearManifests(isi *imagev1.ImageStreamImport) {
	for i := range isi.Status.Images {
		if !isi.Spec.Images[i].IncludeManifest && isi.Status.Images[i].Image != nil {
			isi.Status.Images[i].Image.DockerImageManifest = ""
			isi.Status.Images[i].Image.DockerImageConfig = ""
		}
	}
}
