package grouping

import (
	"iter"
	"math/bits"
)

// bitset is a set of pod indexes, one bit a pod. Groups keep their members in
// one so that the members two groups share are counted a word at a time
// (AND, then popcount) instead of a pod at a time.
type bitset []uint64

func newBitset(size int) bitset {
	return make(bitset, (size+63)/64)
}

func (s bitset) add(i int) {
	s[i/64] |= 1 << (i % 64)
}

func (s bitset) count() int {
	n := 0
	for _, w := range s {
		n += bits.OnesCount64(w)
	}
	return n
}

// sharedCount is the number of indexes in both s and t, which have the same size.
func (s bitset) sharedCount(t bitset) int {
	n := 0
	for i, w := range s {
		n += bits.OnesCount64(w & t[i])
	}
	return n
}

// all yields the indexes of s in ascending order.
func (s bitset) all() iter.Seq[int] {
	return func(yield func(int) bool) {
		for i, w := range s {
			for w != 0 {
				if !yield(i*64 + bits.TrailingZeros64(w)) {
					return
				}
				w &= w - 1
			}
		}
	}
}
