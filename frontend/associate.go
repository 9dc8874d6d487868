package frontend

import (
	"fmt"
	"strings"
)

// AssociationTypes are the association_type values of the Rust API. They are accepted
// and not stored: every explicit association is one edge kind (docs/api.md).
var AssociationTypes = []string{"semantic", "temporal", "causal", "spatial", "emotional"}

// CheckAssociationType accepts "" or one of AssociationTypes, any case.
func CheckAssociationType(t string) error {
	if t == "" {
		return nil
	}
	for _, k := range AssociationTypes {
		if strings.EqualFold(t, k) {
			return nil
		}
	}
	return &Error{Status: 400, Code: CodeInvalidInput,
		Message: fmt.Sprintf("association_type must be one of %s, got %q", strings.Join(AssociationTypes, ", "), t)}
}
