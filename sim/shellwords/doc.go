// Package shellwords splits a command line the way a POSIX shell reads its
// quoting — single quotes, double quotes and backslashes — and nothing
// else. It performs no expansion and runs nothing: a command line that a
// shell would expand (parameters, command substitution, globs, tilde) or
// that holds control operators (;, &, |, redirections, newlines, keywords)
// is refused with a *RefusedError, so a simulated host that executes the
// words can never be tricked into doing what a shell would have done
// differently. SplitList additionally reads an AND list, commands joined
// by "&&" (the only operator it accepts), for `cd 'DIR' && exec ...`.
//
// Scan reads like Split and says where each word and each piece of it was
// written (Word.Parts), so that a caller rewriting one word keeps the rest
// of the line, quotes included, byte for byte; its Options let it read
// text that is not executed but read as configuration: parameter
// expansions kept as such ($NAME, ${NAME}), trailing comments, and glob
// characters taken literally (an assignment's value, a systemd ExecStart=).
// internal/openstore reads environment files and systemd command lines
// with it.
//
// Quote and Join produce the inverse: every word in POSIX single quotes,
// the form rokflow's SSH transport sends.
//
// It owns nothing but the lexical rules; deciding which commands exist is
// the caller's business.
package shellwords
