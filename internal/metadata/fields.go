package metadata

import (
	"encoding/json"
	"errors"
	"strconv"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/labelgroup/labelgroup-operator/api/v1alpha1"
)

// IsGroupManager says whether manager is the field manager of a LabelGroup.
func IsGroupManager(manager string) bool {
	return strings.HasPrefix(manager, ManagerPrefix)
}

// OwnedByGroups reads, from a pod's managed fields, the labels and annotations
// that each group's manager owns (its applies to the pod itself, not a
// subresource). Entries of other managers are skipped; nil when no group owns
// anything.
func OwnedByGroups(entries []metav1.ManagedFieldsEntry) map[string]map[Key]bool {
	var owned map[string]map[Key]bool
	for _, e := range entries {
		if !IsGroupManager(e.Manager) || e.Operation != metav1.ManagedFieldsOperationApply || e.Subresource != "" || e.FieldsV1 == nil {
			continue
		}
		keys := metadataKeys(e.FieldsV1.Raw)
		if len(keys) == 0 {
			continue
		}
		if owned == nil {
			owned = map[string]map[Key]bool{}
		}
		owned[e.Manager] = keys
	}
	return owned
}

// metadataKeys returns the labels and annotations a FieldsV1 set holds:
// {"f:metadata":{"f:labels":{"f:team":{}},"f:annotations":{...}}}.
func metadataKeys(raw []byte) map[Key]bool {
	var fields struct {
		Metadata struct {
			Labels      map[string]json.RawMessage `json:"f:labels"`
			Annotations map[string]json.RawMessage `json:"f:annotations"`
		} `json:"f:metadata"`
	}
	if err := json.Unmarshal(raw, &fields); err != nil {
		return nil
	}
	keys := map[Key]bool{}
	for k := range fields.Metadata.Labels {
		if name, ok := strings.CutPrefix(k, "f:"); ok {
			keys[Key{v1alpha1.MetadataKindLabel, name}] = true
		}
	}
	for k := range fields.Metadata.Annotations {
		if name, ok := strings.CutPrefix(k, "f:"); ok {
			keys[Key{v1alpha1.MetadataKindAnnotation, name}] = true
		}
	}
	return keys
}

// ApplyConflicts returns the keys that a server-side apply could not take and
// the manager holding each, read from the causes of the API server's conflict
// error; ok is false when err is not such a conflict, or names a field that is
// not a label or an annotation.
func ApplyConflicts(err error) (conflicts []Conflict, ok bool) {
	var status apierrors.APIStatus
	if !apierrors.IsConflict(err) || !errors.As(err, &status) || status.Status().Details == nil {
		return nil, false
	}
	for _, cause := range status.Status().Details.Causes {
		if cause.Type != metav1.CauseTypeFieldManagerConflict {
			continue
		}
		key, okKey := keyOfPath(cause.Field)
		manager, okManager := managerOfMessage(cause.Message)
		if !okKey || !okManager {
			return nil, false
		}
		conflicts = append(conflicts, Conflict{Key: key, Manager: manager})
	}
	return conflicts, len(conflicts) > 0
}

// keyOfPath reads a field path such as .metadata.labels.example.com/team.
func keyOfPath(path string) (Key, bool) {
	if name, ok := strings.CutPrefix(path, ".metadata.labels."); ok {
		return Key{v1alpha1.MetadataKindLabel, name}, true
	}
	if name, ok := strings.CutPrefix(path, ".metadata.annotations."); ok {
		return Key{v1alpha1.MetadataKindAnnotation, name}, true
	}
	return Key{}, false
}

// managerOfMessage reads the manager of a cause message such as
// `conflict with "kubectl" using v1 at 2001-02-03T04:05:06Z`.
func managerOfMessage(message string) (string, bool) {
	rest, ok := strings.CutPrefix(message, "conflict with ")
	if !ok {
		return "", false
	}
	quoted, err := strconv.QuotedPrefix(rest)
	if err != nil {
		return "", false
	}
	manager, err := strconv.Unquote(quoted)
	return manager, err == nil
}
