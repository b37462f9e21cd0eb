package main

import (
	"fmt"
	"runtime"

	"github.com/urfave/cli/v2"

	"github.com/pingcraft/pingcraft/capture/libpcap"
)

// versionText is what --version prints after "pingcraft version ".
func versionText() string {
	return fmt.Sprintf("%s (%s, %s)", buildVersion(), runtime.Version(), libpcap.Version())
}

// docApp is the app the man page and fish completion are made from: one
// never run, since urfave's shared help command can come to list itself as
// its own subcommand once run, and their walks would never end.
func docApp() *cli.App { return newApp(nil, nil) }

// The shell scripts ask the binary itself, through urfave/cli's
// --generate-bash-completion, so they never go stale.
const bashCompletion = `# bash completion for pingcraft
_pingcraft() {
	local cur=${COMP_WORDS[COMP_CWORD]} IFS=$'\n'
	COMPREPLY=($(compgen -W "$("${COMP_WORDS[0]}" "${COMP_WORDS[@]:1:COMP_CWORD-1}" ${cur:+"$cur"} --generate-bash-completion 2>/dev/null)" -- "$cur"))
}
complete -o default -F _pingcraft pingcraft
`

const zshCompletion = `#compdef pingcraft
# zsh completion for pingcraft
_pingcraft() {
	local -a opts
	opts=("${(@f)$(${words[1]} ${words[@]:1:$((CURRENT-2))} ${words[CURRENT]} --generate-bash-completion 2>/dev/null)}")
	_describe 'values' opts
}
compdef _pingcraft pingcraft
`

const completionHelp = `Prints a completion script for SHELL (bash, zsh or fish). Install:
  pingcraft completion bash > /etc/bash_completion.d/pingcraft
  pingcraft completion zsh > "${fpath[1]}/_pingcraft"
  pingcraft completion fish > ~/.config/fish/completions/pingcraft.fish`

func runCompletion(c *cli.Context) error {
	var script string
	switch sh := c.Args().First(); {
	case c.NArg() != 1:
		return usagef("completion takes one SHELL: bash, zsh or fish")
	case sh == "bash":
		script = bashCompletion
	case sh == "zsh":
		script = zshCompletion
	case sh == "fish":
		s, err := docApp().ToFishCompletion()
		if err != nil {
			return err
		}
		script = s
	default:
		return usagef("completion %s: give bash, zsh or fish", sh)
	}
	_, err := fmt.Fprint(c.App.Writer, script)
	return err
}

const manHelp = `Prints pingcraft(1) as a man page, made from the flag definitions. Install:
  pingcraft man > /usr/local/share/man/man1/pingcraft.1`

func runMan(c *cli.Context) error {
	if c.NArg() != 0 {
		return usagef("man takes no arguments")
	}
	page, err := docApp().ToMan()
	if err != nil {
		return err
	}
	_, err = fmt.Fprint(c.App.Writer, page)
	return err
}
