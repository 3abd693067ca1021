package main

import "testing"

func TestGoMemoryLimit(t *testing.T) {
	tests := []struct {
		name, gomemlimit, containerLimit string
		want                             int64
		wantOK                           bool
		wantErr                          string
	}{
		{name: "no limit given", wantOK: false},
		{name: "256Mi", containerLimit: "268435456", want: 241591910, wantOK: true},
		{name: "GOMEMLIMIT set wins", gomemlimit: "100MiB", containerLimit: "268435456", wantOK: false},
		{name: "not a number", containerLimit: "256Mi", wantErr: `MEMORY_LIMIT_BYTES is "256Mi": must be a positive number of bytes (resourceFieldRef limits.memory with divisor 1)`},
		{name: "zero", containerLimit: "0", wantErr: `MEMORY_LIMIT_BYTES is "0": must be a positive number of bytes (resourceFieldRef limits.memory with divisor 1)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok, err := goMemoryLimit(tt.gomemlimit, tt.containerLimit)
			gotErr := ""
			if err != nil {
				gotErr = err.Error()
			}
			if got != tt.want || ok != tt.wantOK || gotErr != tt.wantErr {
				t.Errorf("goMemoryLimit() = (%d, %v, %q), want (%d, %v, %q)", got, ok, gotErr, tt.want, tt.wantOK, tt.wantErr)
			}
		})
	}
}
