package main

import (
	"flag"
	"io"
	"testing"

	"github.com/labelgroup/labelgroup-operator/internal/controller"
)

func TestValidateStatusLimits(t *testing.T) {
	tests := []struct {
		members, overlaps int
		want              string
	}{
		{members: 100, overlaps: 100},
		{members: 0, overlaps: 0},
		{members: 500, overlaps: 500},
		{members: -1, overlaps: 100, want: "--status-member-limit is -1: must be from 0 to 500 (status.members maxItems)"},
		{members: 501, overlaps: 100, want: "--status-member-limit is 501: must be from 0 to 500 (status.members maxItems)"},
		{members: 100, overlaps: 501, want: "--status-overlap-limit is 501: must be from 0 to 500 (status.overlaps maxItems)"},
		{members: 100, overlaps: -5, want: "--status-overlap-limit is -5: must be from 0 to 500 (status.overlaps maxItems)"},
		{members: 501, overlaps: -1, want: "--status-member-limit is 501: must be from 0 to 500 (status.members maxItems)\n--status-overlap-limit is -1: must be from 0 to 500 (status.overlaps maxItems)"},
	}
	for _, tt := range tests {
		err := validateStatusLimits(tt.members, tt.overlaps)
		got := ""
		if err != nil {
			got = err.Error()
		}
		if got != tt.want {
			t.Errorf("validateStatusLimits(%d, %d) = %q, want %q", tt.members, tt.overlaps, got, tt.want)
		}
	}
}

func TestParseFlags(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{name: "the defaults", args: nil},
		{name: "every tunable at its bound", args: []string{"--status-member-limit=0", "--status-overlap-limit=500", "--max-concurrent-reconciles=1",
			"--status-writers=1", "--min-reconcile-interval=0", "--member-metadata-concurrency=1"}},
		{name: "a negative interval", args: []string{"--min-reconcile-interval=-1s"}, want: "--min-reconcile-interval is -1s: must be 0 or more"},
		{name: "no reconcile at all", args: []string{"--max-concurrent-reconciles=0"}, want: "--max-concurrent-reconciles is 0: must be 1 or more"},
		{name: "no status writer", args: []string{"--status-writers=0"}, want: "--status-writers is 0: must be 1 or more"},
		{name: "no stamping writer", args: []string{"--member-metadata-concurrency=-2"}, want: "--member-metadata-concurrency is -2: must be 1 or more"},
		{name: "every broken flag named", args: []string{"--status-member-limit=501", "--status-writers=0", "--min-reconcile-interval=-1ms"},
			want: "--status-member-limit is 501: must be from 0 to 500 (status.members maxItems)\n--min-reconcile-interval is -1ms: must be 0 or more\n--status-writers is 0: must be 1 or more"},
		{name: "an unknown flag", args: []string{"--status-writer=2"}, want: "flag provided but not defined: -status-writer"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fs := flag.NewFlagSet("manager", flag.ContinueOnError)
			fs.SetOutput(io.Discard)
			o, err := parseFlags(fs, tt.args)
			got := ""
			if err != nil {
				got = err.Error()
			}
			if got != tt.want {
				t.Errorf("parseFlags(%q) = %q, want %q", tt.args, got, tt.want)
			}
			if o == nil {
				t.Fatal("parseFlags returned no options")
			}
		})
	}
}

func TestParseFlagsDefaultsAreTheControllerPackages(t *testing.T) {
	fs := flag.NewFlagSet("manager", flag.ContinueOnError)
	o, err := parseFlags(fs, nil)
	if err != nil {
		t.Fatal(err)
	}
	if o.memberLimit != controller.DefaultMemberLimit || o.overlapLimit != controller.DefaultOverlapLimit ||
		o.concurrentReconciles != controller.DefaultMaxConcurrentReconciles || o.statusWriters != controller.DefaultStatusWriters ||
		o.reconcileInterval != controller.DefaultMinReconcileInterval || o.stampConcurrency != controller.DefaultStampConcurrency {
		t.Errorf("the flags' defaults differ from the controller package's: %+v", o)
	}
}
