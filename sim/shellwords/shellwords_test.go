package shellwords

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"testing/quick"

	"github.com/rokflow/rokflow/internal/posixsh"
)

func TestSplit(t *testing.T) {
	tests := map[string]struct {
		in   string
		want []string
	}{
		"plain":              {`cat /etc/rok/daemons.conf`, []string{"cat", "/etc/rok/daemons.conf"}},
		"blanks":             {"  a \t b  ", []string{"a", "b"}},
		"single quotes":      {`'rok-config' 'set' 'a=b c'`, []string{"rok-config", "set", "a=b c"}},
		"quoted quote":       {`'it'\''s'`, []string{"it's"}},
		"empty word":         {`echo ''`, []string{"echo", ""}},
		"double quotes":      {`echo "a \"b\" \\ \$x"`, []string{"echo", `a "b" \ $x`}},
		"double keeps":       {`echo "a\nb 'c'"`, []string{"echo", `a\nb 'c'`}},
		"backslash":          {`echo a\ b \;`, []string{"echo", "a b", ";"}},
		"continuation":       {"echo a\\\nb", []string{"echo", "ab"}},
		"showformat":         {`'dpkg-query' '--show' '--showformat=${Version}' 'rok-base'`, []string{"dpkg-query", "--show", "--showformat=${Version}", "rok-base"}},
		"metachars quoted":   {`'sh' '-c' 'for f in $1; do ls "$f" | cat; done' 'sh' '/usr/bin/*kvm*'`, []string{"sh", "-c", `for f in $1; do ls "$f" | cat; done`, "sh", "/usr/bin/*kvm*"}},
		"lone dollar":        {`echo $ a$`, []string{"echo", "$", "a$"}},
		"tilde inside":       {`echo a~b c#d`, []string{"echo", "a~b", "c#d"}},
		"sudo env":           {`sudo -n -- env 'DEBIAN_FRONTEND=noninteractive' 'apt-get' 'install'`, []string{"sudo", "-n", "--", "env", "DEBIAN_FRONTEND=noninteractive", "apt-get", "install"}},
		"quoted keyword":     {`'if' x`, []string{"if", "x"}},
		"keyword as arg":     {`echo if then`, []string{"echo", "if", "then"}},
		"adjacent parts":     {`a'b'"c"\d`, []string{"abcd"}},
		"empty line":         {``, nil},
		"quoted line breaks": {"'a\nb' \"c\nd\"", []string{"a\nb", "c\nd"}},
		"test bracket":       {`[ -e /x ]`, []string{"[", "-e", "/x", "]"}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			words, err := Split(tc.in)
			if err != nil {
				t.Fatalf("Split(%q): %v", tc.in, err)
			}
			if got := Texts(words); !reflect.DeepEqual(got, tc.want) && !(len(got) == 0 && len(tc.want) == 0) {
				t.Errorf("Split(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestSplitRefuses(t *testing.T) {
	tests := map[string]struct {
		in     string
		reason string
	}{
		"semicolon":          {`true; rm -rf /`, "separator"},
		"and":                {`true && reboot`, "'&'"},
		"background":         {`sleep 1 &`, "'&'"},
		"pipe":               {`cat x | sh`, "pipe"},
		"redirect out":       {`echo x > /etc/passwd`, "redirection"},
		"redirect in":        {`cat < x`, "redirection"},
		"subshell":           {`(reboot)`, "subshell"},
		"command subst":      {`echo $(reboot)`, "command substitution"},
		"backquote":          {"echo `reboot`", "backquote"},
		"dq command subst":   {`echo "$(reboot)"`, "command substitution"},
		"dq backquote":       {"echo \"`reboot`\"", "backquote"},
		"parameter":          {`echo $HOME`, "parameter expansion"},
		"braced parameter":   {`echo ${HOME}`, "parameter expansion"},
		"dq parameter":       {`echo "$HOME"`, "parameter expansion"},
		"arithmetic":         {`echo $((1+1))`, "arithmetic"},
		"glob star":          {`ls /usr/bin/*kvm*`, "pathname expansion"},
		"glob question":      {`ls a?`, "pathname expansion"},
		"glob bracket":       {`ls [ab]`, "pathname expansion"},
		"tilde":              {`cat ~/.ssh/id`, "tilde"},
		"comment":            {`echo a #b`, "comment"},
		"newline":            {"echo a\nreboot", "line break"},
		"unterminated '":     {`echo 'abc`, "unterminated single quote"},
		"unterminated \"":    {`echo "abc`, "unterminated double quote"},
		"trailing backslash": {`echo \`, "backslash"},
		"keyword":            {`for x in a; do`, "keyword"},
		"brace group":        {`{ reboot`, "keyword"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			words, err := Split(tc.in)
			var re *RefusedError
			if !errors.As(err, &re) {
				t.Fatalf("Split(%q) = %q, %v; want a RefusedError", tc.in, Texts(words), err)
			}
			if !strings.Contains(re.Reason, tc.reason) {
				t.Errorf("Split(%q) refused for %q, want a reason mentioning %q", tc.in, re.Reason, tc.reason)
			}
		})
	}
}

func TestQuoteRoundTrip(t *testing.T) {
	f := func(argv []string) bool {
		if len(argv) == 0 {
			return true
		}
		words, err := Split(Join(argv))
		return err == nil && reflect.DeepEqual(Texts(words), argv)
	}
	if err := quick.Check(f, nil); err != nil {
		t.Error(err)
	}
	for _, s := range []string{"", "'", "''", `a'b"c\d$e` + "`f`", "x\ny", "*", "~", "#", ";|&<>()"} {
		words, err := Split(posixsh.Quote(s))
		if err != nil || len(words) != 1 || words[0].Text != s || !words[0].Quoted {
			t.Errorf("Quote(%q) = %s reads back as %+v, %v", s, posixsh.Quote(s), words, err)
		}
	}
}

func TestSplitList(t *testing.T) {
	cmds, err := SplitList(`cd '/var/lib/rok' && exec 'env' 'A=b c' 'rok-config' 'get'`)
	if err != nil {
		t.Fatal(err)
	}
	if len(cmds) != 2 || !reflect.DeepEqual(Texts(cmds[0]), []string{"cd", "/var/lib/rok"}) ||
		!reflect.DeepEqual(Texts(cmds[1]), []string{"exec", "env", "A=b c", "rok-config", "get"}) {
		t.Fatalf("SplitList = %v", cmds)
	}
	if cmds, err := SplitList(`echo 'a && b'`); err != nil || len(cmds) != 1 {
		t.Errorf("quoted && split the command: %v, %v", cmds, err)
	}
	for _, bad := range []string{`&& true`, `true &&`, `true & false`, `true || false`, `a && b; c`, `a &&& b`} {
		if cmds, err := SplitList(bad); err == nil {
			t.Errorf("SplitList(%q) = %v, want a refusal", bad, cmds)
		}
	}
	if _, err := Split(`cd x && true`); err == nil {
		t.Error("Split accepted &&")
	}
}

func TestContinuationBetweenWords(t *testing.T) {
	words, err := Split("echo \\\n b")
	if err != nil {
		t.Fatal(err)
	}
	if got := Texts(words); !reflect.DeepEqual(got, []string{"echo", "b"}) {
		t.Errorf("a line continuation between words made %q, want no empty word", got)
	}
}

func TestScan(t *testing.T) {
	params := Options{Params: true}
	tests := map[string]struct {
		in      string
		o       Options
		want    []string
		expands []bool
	}{
		"parameter":         {`rok $OPTS`, params, []string{"rok", "$OPTS"}, []bool{false, true}},
		"braced in dquotes": {`rok "--x=${A}"`, params, []string{"rok", "--x=${A}"}, []bool{false, true}},
		"lone dollar":       {`a$ "$"`, params, []string{"a$", "$"}, []bool{false, false}},
		"comment":           {`A="x y" # tcp://`, Options{Comments: true}, []string{"A=x y"}, []bool{false}},
		"hash inside word":  {`a#b`, Options{Comments: true}, []string{"a#b"}, []bool{false}},
		"literal globs":     {`http://[::1]:8080 a* b?`, Options{LiteralGlobs: true}, []string{"http://[::1]:8080", "a*", "b?"}, []bool{false, false, false}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			words, err := Scan(tc.in, tc.o)
			if err != nil {
				t.Fatalf("Scan(%q): %v", tc.in, err)
			}
			if got := Texts(words); !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("Scan(%q) = %q, want %q", tc.in, got, tc.want)
			}
			for i, w := range words {
				if w.Expands != tc.expands[i] {
					t.Errorf("word %d %q: Expands = %v", i, w.Text, w.Expands)
				}
			}
			checkParts(t, tc.in, tc.o, words)
		})
	}
	for _, bad := range []string{`$(x)`, `${A:-b}`, `$1`, `"$$"`, `a;b`, `x*`} {
		if words, err := Scan(bad, Options{Params: true}); err == nil {
			t.Errorf("Scan(%q) = %q, want a refusal", bad, Texts(words))
		}
	}
}

// checkParts asserts what Scan promises about where words were written.
func checkParts(t *testing.T, line string, o Options, words []Word) {
	t.Helper()
	for _, w := range words {
		var text strings.Builder
		for _, p := range w.Parts {
			text.WriteString(p.Text)
			if p.Start < w.Start || p.End > w.End || p.Start > p.End {
				t.Errorf("%q: part %+v outside its word [%d,%d)", line, p, w.Start, w.End)
				continue
			}
			raw := line[p.Start:p.End]
			switch {
			case p.Literal() && raw != p.Text:
				t.Errorf("%q: literal part %+v is written %q", line, p, raw)
			case p.Quote == '\\' && raw != `\`+p.Text:
				t.Errorf("%q: escaped part %+v is written %q", line, p, raw)
			case p.Quote == '$' && raw != p.Text:
				t.Errorf("%q: expansion %+v is written %q", line, p, raw)
			}
		}
		if text.String() != w.Text {
			t.Errorf("%q: parts of %q join to %q", line, w.Text, text.String())
		}
		if again, err := Scan(line[w.Start:w.End], o); w.Expands || err != nil || len(again) != 1 || again[0].Text != w.Text {
			if !w.Expands {
				t.Errorf("%q: the word's bytes %q read back as %v, %v", line, line[w.Start:w.End], again, err)
			}
		}
	}
}

func TestScanParts(t *testing.T) {
	for _, line := range []string{
		`a'b'"c"\d`, `echo "a \"b\" \\ \$x" 'it'\''s'`, "x\\\ny 'q\nr'", `--bind-http="tcp://h:1" ''`,
	} {
		words, err := Split(line)
		if err != nil {
			t.Fatalf("Split(%q): %v", line, err)
		}
		checkParts(t, line, Options{}, words)
	}
	f := func(argv []string) bool {
		line := Join(argv)
		words, err := Split(line)
		if err != nil {
			return false
		}
		checkParts(t, line, Options{}, words)
		return !t.Failed()
	}
	if err := quick.Check(f, nil); err != nil {
		t.Error(err)
	}
}
