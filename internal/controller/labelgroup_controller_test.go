package controller

import (
	"errors"
	"testing"

	"sigs.k8s.io/controller-runtime/pkg/reconcile"
)

func TestReconcileError(t *testing.T) {
	transient := errors.New("patching status of LabelGroup shop/web: connection refused")
	terminal := reconcile.TerminalError(errors.New("LabelGroup shop/bad has an invalid selector"))
	tests := []struct {
		name         string
		errs         []error
		wantNil      bool
		wantTerminal bool
		wantIs       error
	}{
		{name: "no error", wantNil: true},
		{name: "only a transient error is retried", errs: []error{transient}, wantIs: transient},
		{name: "only an invalid selector is terminal", errs: []error{terminal}, wantTerminal: true, wantIs: terminal},
		{name: "a transient error beside an invalid selector is still retried", errs: []error{terminal, transient}, wantIs: transient},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := reconcileError(tt.errs)
			if (err == nil) != tt.wantNil {
				t.Fatalf("reconcileError() = %v, want nil: %v", err, tt.wantNil)
			}
			if err == nil {
				return
			}
			if got := errors.Is(err, reconcile.TerminalError(nil)); got != tt.wantTerminal {
				t.Errorf("terminal = %v, want %v (%v)", got, tt.wantTerminal, err)
			}
			if !errors.Is(err, tt.wantIs) {
				t.Errorf("reconcileError() = %v, want it to wrap %v", err, tt.wantIs)
			}
		})
	}
}
