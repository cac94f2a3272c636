package debversion

import "testing"

func TestCompareRelease(t *testing.T) {
	for _, c := range []struct {
		a, b string
		want int
	}{
		{"0.11", "0.11.0", 0},
		{"0.9.4", "0.10", -1},
		{"0.10.2", "0.10", 1},
		{"v0.12.0", "0.11.9", 1},
		{"1.0", "0.99.99", 1},
	} {
		if got := CompareRelease(c.a, c.b); got != c.want {
			t.Errorf("CompareRelease(%q, %q) = %d, want %d", c.a, c.b, got, c.want)
		}
	}
}

func TestConstraint(t *testing.T) {
	for _, c := range []struct {
		constraint string
		allows     []string
		refuses    []string
	}{
		{"0.10", []string{"0.10", "0.10.0", "0.10.2", "0.10.2.1"}, []string{"0.9.4", "0.11.0", "0.1", "1.0"}},
		{"0.10.2", []string{"0.10.2", "0.10.2.3"}, []string{"0.10.1", "0.10.3", "0.10"}},
		{">= 0.10.1, < 0.11", []string{"0.10.1", "0.10.9"}, []string{"0.10.0", "0.11.0"}},
		{"~> 0.10.1", []string{"0.10.1", "0.10.7"}, []string{"0.10.0", "0.11"}},
		{"~> 0.10", []string{"0.10", "0.12"}, []string{"0.9", "1.0"}},
		{"= 0.11.0", []string{"0.11", "0.11.0"}, []string{"0.11.1"}},
		{"!= 0.10.3", []string{"0.10.2"}, []string{"0.10.3"}},
		{"> 0.1, <= 0.2", []string{"0.2", "0.1.1"}, []string{"0.1", "0.2.1"}},
	} {
		con, err := ParseConstraint(c.constraint)
		if err != nil {
			t.Fatalf("ParseConstraint(%q): %v", c.constraint, err)
		}
		for _, r := range c.allows {
			if !con.Allows(r) {
				t.Errorf("%q refuses %s", c.constraint, r)
			}
		}
		for _, r := range c.refuses {
			if con.Allows(r) {
				t.Errorf("%q allows %s", c.constraint, r)
			}
		}
	}
	for _, bad := range []string{"", ">=", "0.x", ">= 0.10,", "latest", "0..1"} {
		if _, err := ParseConstraint(bad); err == nil {
			t.Errorf("ParseConstraint(%q) accepted", bad)
		}
	}
}

func TestSeries(t *testing.T) {
	for in, want := range map[string]string{"0.11.2": "0.11", "0.11": "0.11", "1": "1.0", "x": ""} {
		if got := Series(in); got != want {
			t.Errorf("Series(%q) = %q, want %q", in, got, want)
		}
	}
}
