package controller

import (
	"testing"
	"time"
)

func TestNamespacePacer(t *testing.T) {
	p := namespacePacer{interval: 250 * time.Millisecond}
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	if d := p.delay("shop", start); d != 0 {
		t.Errorf("the first event of a quiet namespace waits %s", d)
	}
	p.started("shop", start)
	if d := p.delay("shop", start.Add(100*time.Millisecond)); d != 150*time.Millisecond {
		t.Errorf("an event 100ms after a reconcile started waits %s, want 150ms", d)
	}
	if d := p.delay("other", start.Add(100*time.Millisecond)); d != 0 {
		t.Errorf("an event of another namespace waits %s", d)
	}
	if d := p.delay("shop", start.Add(time.Second)); d != 0 {
		t.Errorf("an event long after the last reconcile waits %s", d)
	}
	p.forget("shop")
	if d := p.delay("shop", start.Add(100*time.Millisecond)); d != 0 {
		t.Errorf("an event of a forgotten namespace waits %s", d)
	}
}
