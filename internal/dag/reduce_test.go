package dag

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
)

func TestReduce(t *testing.T) {
	tests := map[string]struct {
		preds  [][]int
		hidden []int
		want   [][]int
	}{
		"empty": {
			preds: [][]int{},
			want:  [][]int{},
		},
		"one node": {
			preds: [][]int{nil},
			want:  [][]int{nil},
		},
		"chain stays": {
			preds: [][]int{nil, {0}, {1}, {2}},
			want:  [][]int{nil, {0}, {1}, {2}},
		},
		"chain with every shortcut": {
			preds: [][]int{nil, {0}, {0, 1}, {0, 1, 2}},
			want:  [][]int{nil, {0}, {1}, {2}},
		},
		"diamond": {
			// 0 → 1, 0 → 2, 1 → 3, 2 → 3, and the implied 0 → 3.
			preds: [][]int{nil, {0}, {0}, {0, 1, 2}},
			want:  [][]int{nil, {0}, {0}, {1, 2}},
		},
		"diamond with one side hidden": {
			preds:  [][]int{nil, {0}, {0}, {0, 1, 2}},
			hidden: []int{1},
			want:   [][]int{nil, nil, {0}, {2}},
		},
		"diamond with both sides hidden keeps the order through them": {
			preds:  [][]int{nil, {0}, {0}, {1, 2}},
			hidden: []int{1, 2},
			want:   [][]int{nil, nil, nil, {0}},
		},
		"hidden chain in the middle": {
			preds:  [][]int{nil, {0}, {1}, {2}, {3}},
			hidden: []int{1, 2, 3},
			want:   [][]int{nil, nil, nil, nil, {0}},
		},
		"hidden node with no kept ancestor passes nothing on": {
			preds:  [][]int{nil, {0}, nil, {2}},
			hidden: []int{0, 2},
			want:   [][]int{nil, nil, nil, nil},
		},
		"hidden source and sink": {
			preds:  [][]int{nil, {0}, {1}, {2}},
			hidden: []int{0, 3},
			want:   [][]int{nil, nil, {1}, nil},
		},
		"disconnected parts": {
			// 0 → 1 → 2 with 0 → 2; 3 → 4 with a duplicate edge; 5 alone.
			preds: [][]int{nil, {0}, {0, 1}, nil, {3, 3}, nil},
			want:  [][]int{nil, {0}, {1}, nil, {3}, nil},
		},
		"indices out of topological order": {
			// 3 → 1 → 0 → 2, with 3 → 0 and 3 → 2 implied.
			preds: [][]int{{1, 3}, {3}, {0, 1, 3}, nil},
			want:  [][]int{{1}, {3}, {0}, nil},
		},
		"fan in and fan out": {
			// 0 → {1,2,3} → 4, 4 → {5,6}, every edge from 0 given too.
			preds: [][]int{nil, {0}, {0}, {0}, {0, 1, 2, 3}, {0, 4}, {0, 1, 4}},
			want:  [][]int{nil, {0}, {0}, {0}, {1, 2, 3}, {4}, {4}},
		},
		"two paths of different lengths": {
			// 0 → 1 → 2 → 3 and 0 → 4 → 3: both sides are needed.
			preds: [][]int{nil, {0}, {1}, {2, 4}, {0}},
			want:  [][]int{nil, {0}, {1}, {2, 4}, {0}},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := Reduce(tc.preds, keepAllBut(tc.hidden))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("Reduce = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestReduceRefusesBadGraphs(t *testing.T) {
	tests := map[string]struct {
		preds [][]int
		err   string
	}{
		"self loop":    {[][]int{{0}}, "node 0 waits for itself"},
		"cycle":        {[][]int{nil, {0, 3}, {1}, {2}}, "cycle through node 1"},
		"out of range": {[][]int{nil, {2}}, "node 1 waits for node 2, which does not exist"},
		"negative":     {[][]int{{-1}}, "node 0 waits for node -1"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := Reduce(tc.preds, nil)
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Fatalf("error %v, want one saying %q", err, tc.err)
			}
		})
	}
}

// TestReduceMatchesNaive compares Reduce with the definition, on random
// DAGs of random density with random nodes left out.
func TestReduceMatchesNaive(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for iter := range 500 {
		n := 1 + rng.IntN(40)
		density := rng.Float64()
		preds := randomDAG(rng, n, density)
		var hidden []int
		if iter%2 == 1 {
			for v := range n {
				if rng.IntN(3) == 0 {
					hidden = append(hidden, v)
				}
			}
		}
		keep := keepAllBut(hidden)
		var given func(int) bool // nil: every node kept
		if iter%4 != 0 {
			given = keep
		}
		got, err := Reduce(preds, given)
		if err != nil {
			t.Fatal(err)
		}
		want := naiveReduce(preds, keep)
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("graph %v, hidden %v:\nReduce = %v\nnaive  = %v", preds, hidden, got, want)
		}
	}
}

// randomDAG returns a DAG of n nodes whose indices are shuffled, so that
// Reduce must find the order itself; each of the n(n-1)/2 possible edges
// is present with probability density.
func randomDAG(rng *rand.Rand, n int, density float64) [][]int {
	perm := rng.Perm(n) // perm[i] is the index of the i-th node in order
	preds := make([][]int, n)
	for j := range n {
		for i := range j {
			if rng.Float64() < density {
				preds[perm[j]] = append(preds[perm[j]], perm[i])
			}
		}
	}
	return preds
}

// naiveReduce is the definition: u → v when v is reachable from u and no
// other kept node lies between them.
func naiveReduce(preds [][]int, keep func(int) bool) [][]int {
	n := len(preds)
	reach := make([][]bool, n) // reach[u][v]: a path from u to v
	var visit func(v, from int)
	visit = func(v, from int) {
		for _, u := range preds[v] {
			if !reach[u][from] {
				reach[u][from] = true
				visit(u, from)
			}
		}
	}
	for v := range n {
		reach[v] = make([]bool, n)
	}
	for v := range n {
		visit(v, v)
	}
	out := make([][]int, n)
	for v := range n {
		if !keep(v) {
			continue
		}
		for u := range n {
			if u == v || !keep(u) || !reach[u][v] {
				continue
			}
			between := false
			for w := range n {
				if w != u && w != v && keep(w) && reach[u][w] && reach[w][v] {
					between = true
					break
				}
			}
			if !between {
				out[v] = append(out[v], u)
			}
		}
	}
	return out
}

func keepAllBut(hidden []int) func(int) bool {
	return func(v int) bool {
		for _, h := range hidden {
			if h == v {
				return false
			}
		}
		return true
	}
}

// BenchmarkReduce measures the reduction of 2,000-node graphs shaped like
// plans: a chain of steps where each also waits for every step of the
// previous module (dense, as a module's dependants are), and a random DAG
// with eight predecessors a node.
func BenchmarkReduce(b *testing.B) {
	for _, n := range []int{2000, 20000} {
		modules := modulePlan(n, 10)
		b.Run(fmt.Sprintf("modules/%d", n), func(b *testing.B) {
			for b.Loop() {
				if _, err := Reduce(modules, nil); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	rng := rand.New(rand.NewPCG(3, 4))
	n := 2000
	random := randomDAG(rng, n, 8/float64(n))
	b.Run("random/2000", func(b *testing.B) {
		for b.Loop() {
			if _, err := Reduce(random, nil); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("random/2000/half-hidden", func(b *testing.B) {
		keep := func(v int) bool { return v%2 == 0 }
		for b.Loop() {
			if _, err := Reduce(random, keep); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// modulePlan is n steps in modules of size steps, chained inside each
// module, each step also waiting for every step of the module before.
func modulePlan(n, size int) [][]int {
	preds := make([][]int, n)
	for v := range n {
		m := v / size
		if v%size > 0 {
			preds[v] = append(preds[v], v-1)
		}
		if m > 0 {
			for u := (m - 1) * size; u < m*size; u++ {
				preds[v] = append(preds[v], u)
			}
		}
	}
	return preds
}
