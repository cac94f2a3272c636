package main

import (
	"fmt"
)

// CompletionCmd prints a shell completion script.
type CompletionCmd struct {
	Shell string `arg:"" enum:"bash,zsh,fish" help:"The shell: bash, zsh or fish."`
}

// Help is the detail rokflow completion --help gives below the summary.
func (c *CompletionCmd) Help() string {
	return `The script completes commands, flags, playbook paths and step kinds by asking
rokflow itself, so it stays right as rokflow changes. To load it:

  bash   source <(rokflow completion bash)             in ~/.bashrc
  zsh    source <(rokflow completion zsh)              in ~/.zshrc, after compinit
  fish   rokflow completion fish > ~/.config/fish/completions/rokflow.fish`
}

// Run prints the script.
func (c *CompletionCmd) Run(a *App) error {
	script, ok := completionScripts[c.Shell]
	if !ok {
		return usageError("completion: no script for %q; want bash, zsh or fish", c.Shell)
	}
	_, err := fmt.Fprint(a.Stdout, script)
	return err
}

// completionScripts hand the words of the command line to rokflow
// __complete and offer what it prints (value, then a tab and a
// description). The rokflow they run is the one the command line names,
// so ./bin/rokflow completes as itself.
var completionScripts = map[string]string{
	// bash splits words at = and : too (COMP_WORDBREAKS), so the script
	// sends the line as typed, split at blanks, and takes off each
	// candidate what bash does not count as the word being completed.
	"bash": `# bash completion for rokflow: source <(rokflow completion bash)
_rokflow() {
    local line="${COMP_LINE:0:COMP_POINT}"
    local -a words
    read -r -a words <<< "$line"
    [[ -z $line || $line == *[[:blank:]] ]] && words+=("")
    local cur="${words[${#words[@]}-1]}"
    local out
    out=$("${words[0]}" __complete "${words[@]:1}" 2>/dev/null) || return 0
    local prefix="" i
    for ((i = ${#cur} - 1; i >= 0; i--)); do
        if [[ $COMP_WORDBREAKS == *"${cur:i:1}"* ]]; then
            prefix="${cur:0:i+1}"
            break
        fi
    done
    COMPREPLY=()
    local c
    while IFS= read -r c; do
        c="${c%%$'\t'*}"
        [[ -n $c ]] && COMPREPLY+=("${c#"$prefix"}")
    done <<< "$out"
    if [[ ${#COMPREPLY[@]} -eq 1 && ${COMPREPLY[0]} == */ ]]; then
        compopt -o nospace 2>/dev/null
    fi
    return 0
}
complete -F _rokflow rokflow
`,
	"zsh": `#compdef rokflow
# zsh completion for rokflow: source <(rokflow completion zsh), after compinit
_rokflow() {
    local -a lines dirs rest descs
    local l
    lines=("${(@f)$("${words[1]}" __complete "${(@)words[2,CURRENT]}" 2>/dev/null)}")
    for l in "${lines[@]}"; do
        [[ -z $l ]] && continue
        if [[ ${l%%$'\t'*} == */ ]]; then
            dirs+=("${l%%$'\t'*}")
        else
            rest+=("${l%%$'\t'*}")
            if [[ $l == *$'\t'* ]]; then
                descs+=("${l%%$'\t'*} -- ${l#*$'\t'}")
            else
                descs+=("${l}")
            fi
        fi
    done
    (( ${#dirs} )) && compadd -Q -S '' -- "${dirs[@]}"
    (( ${#rest} )) && compadd -Q -l -d descs -- "${rest[@]}"
    return 0
}
compdef _rokflow rokflow
`,
	"fish": `# fish completion for rokflow: rokflow completion fish > ~/.config/fish/completions/rokflow.fish
function __rokflow_complete
    set -l words (commandline -opc) (commandline -ct)
    $words[1] __complete $words[2..-1] 2>/dev/null
end
complete -c rokflow -f -a '(__rokflow_complete)'
`,
}
