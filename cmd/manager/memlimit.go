package main

import (
	"fmt"
	"strconv"
)

// memoryLimitShare is the share of the container's memory limit given to the
// Go runtime as its soft limit (GOMEMLIMIT). The rest is headroom for what the
// runtime does not count (thread stacks, cgroup page cache) so that the
// garbage collector works harder before the kernel kills the container.
const memoryLimitShare = 0.9

// goMemoryLimit returns the soft memory limit to set from the container's
// memory limit in bytes, which the Deployment passes through the downward API
// (resourceFieldRef limits.memory) as MEMORY_LIMIT_BYTES. ok is false when
// GOMEMLIMIT is set, which the runtime already obeys and which wins, or when no
// limit is given.
func goMemoryLimit(gomemlimit, containerLimit string) (limit int64, ok bool, err error) {
	if gomemlimit != "" || containerLimit == "" {
		return 0, false, nil
	}
	bytes, err := strconv.ParseInt(containerLimit, 10, 64)
	if err != nil || bytes <= 0 {
		return 0, false, fmt.Errorf("MEMORY_LIMIT_BYTES is %q: must be a positive number of bytes (resourceFieldRef limits.memory with divisor 1)", containerLimit)
	}
	return int64(float64(bytes) * memoryLimitShare), true, nil
}
