package rok

import "testing"

func TestUnifiedDiff(t *testing.T) {
	tests := []struct {
		name, old, new, want string
	}{
		{name: "equal", old: "a\n", new: "a\n", want: ""},
		{name: "one line changed in the middle",
			old:  "1\n2\n3\n4\n5\n6\n7\n8\n9\n",
			new:  "1\n2\n3\n4\nfive\n6\n7\n8\n9\n",
			want: "--- f\n+++ f\n@@ -2,7 +2,7 @@\n 2\n 3\n 4\n-5\n+five\n 6\n 7\n 8\n"},
		{name: "two far changes make two hunks",
			old:  "a\n1\n2\n3\n4\n5\n6\n7\n8\nb\n",
			new:  "A\n1\n2\n3\n4\n5\n6\n7\n8\nB\n",
			want: "--- f\n+++ f\n@@ -1,4 +1,4 @@\n-a\n+A\n 1\n 2\n 3\n@@ -7,4 +7,4 @@\n 6\n 7\n 8\n-b\n+B\n"},
		{name: "added at end without newline",
			old:  "a\n",
			new:  "a\nb",
			want: "--- f\n+++ f\n@@ -1 +1,2 @@\n a\n+b\n\\ No newline at end of file\n"},
		{name: "from empty",
			old:  "",
			new:  "x\n",
			want: "--- f\n+++ f\n@@ -0,0 +1 @@\n+x\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := unifiedDiff("f", tt.old, tt.new); got != tt.want {
				t.Errorf("got:\n%s\nwant:\n%s", got, tt.want)
			}
		})
	}
}
