package runtime

import (
	"slices"
	"sort"
)

// topoSort orders n nodes so that every node comes after the nodes in its
// edges list (its dependencies), keeping the original order wherever the
// dependencies allow. When the nodes form a cycle it returns the cycle's
// nodes in order instead.
func topoSort(n int, deps [][]int) (order []int, cycle []int) {
	const (
		unvisited = iota
		visiting
		done
	)
	state := make([]int, n)
	order = make([]int, 0, n)
	var stack []int
	var visit func(i int) bool
	visit = func(i int) bool {
		switch state[i] {
		case done:
			return true
		case visiting:
			at := slices.Index(stack, i)
			cycle = append([]int(nil), stack[at:]...)
			return false
		}
		state[i] = visiting
		stack = append(stack, i)
		ds := append([]int(nil), deps[i]...)
		sort.Ints(ds)
		for _, d := range ds {
			if !visit(d) {
				return false
			}
		}
		stack = stack[:len(stack)-1]
		state[i] = done
		order = append(order, i)
		return true
	}
	for i := 0; i < n; i++ {
		if !visit(i) {
			return nil, cycle
		}
	}
	return order, nil
}
