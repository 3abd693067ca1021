package main

import "testing"

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
