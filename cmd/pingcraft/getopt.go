package main

import (
	"fmt"
	"os"
	"strings"

	"github.com/urfave/cli/v2"
)

// urfave/cli parses with Go's flag package: no clusters, no attached values,
// nothing after the first operand. getopt rewrites a command line as GNU
// getopt_long reads it into the form flag reads unambiguously — every option
// as -name or -name=value, then "--", then the operands — so every command
// reads `ping -qc2 host -i.2` as iputils does.

// optError is a command line getopt refuses, in getopt's words.
type optError struct {
	opt     string // "c" or "count": the option as given, without dashes
	long    bool
	missing bool // the option needs a value and none came
}

func (e *optError) Error() string {
	switch {
	case e.missing && e.long:
		return fmt.Sprintf("option '--%s' requires an argument", e.opt)
	case e.missing:
		return fmt.Sprintf("option requires an argument -- '%s'", e.opt)
	case e.long:
		return fmt.Sprintf("unrecognized option '--%s'", e.opt)
	}
	return fmt.Sprintf("invalid option -- '%s'", e.opt)
}

// optionSet is what getopt knows of a command's flags: every name, and
// whether it takes a value.
type optionSet map[string]bool

func optionsOf(flags []cli.Flag) optionSet {
	set := optionSet{}
	for _, f := range flags {
		takes := true
		if v, ok := f.(interface{ TakesValue() bool }); ok {
			takes = v.TakesValue()
		}
		for _, n := range f.Names() {
			set[n] = takes
		}
	}
	return set
}

// getopt rewrites args, the words after a command's name. Operands are
// permuted after the options as GNU getopt does, unless POSIXLY_CORRECT is
// set; "--" ends the options. A word that names one of subcommands (before
// any operand) hands the rest of the line to that subcommand's options.
func getopt(cmd *cli.Command, args []string) ([]string, error) {
	set := optionsOf(cmd.Flags)
	if !cmd.HideHelp {
		set["help"], set["h"] = false, false
	}
	_, posix := os.LookupEnv("POSIXLY_CORRECT")
	var opts, operands []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--":
			operands = append(operands, args[i+1:]...)
			return join(opts, operands), nil
		case strings.HasPrefix(a, "--"):
			name, value, hasValue := strings.Cut(a[2:], "=")
			takes, ok := set[name]
			if !ok || len(name) == 1 {
				return nil, &optError{opt: name, long: true}
			}
			switch {
			case takes && !hasValue && i+1 < len(args):
				i++
				value, hasValue = args[i], true
			case takes && !hasValue:
				return nil, &optError{opt: name, long: true, missing: true}
			case !takes && hasValue:
				return nil, fmt.Errorf("option '--%s' doesn't allow an argument", name)
			}
			opts = append(opts, option(name, value, takes))
		case len(a) > 1 && a[0] == '-':
			for j := 1; j < len(a); j++ {
				name := a[j : j+1]
				takes, ok := set[name]
				if !ok {
					return nil, &optError{opt: name}
				}
				if !takes {
					opts = append(opts, option(name, "", false))
					continue
				}
				value := a[j+1:]
				if value == "" {
					if i+1 >= len(args) {
						return nil, &optError{opt: name, missing: true}
					}
					i++
					value = args[i]
				}
				opts = append(opts, option(name, value, true))
				break
			}
		default:
			if len(operands) == 0 {
				if sub := cmd.Command(a); sub != nil {
					rest, err := getopt(sub, args[i+1:])
					if err != nil {
						return nil, err
					}
					return append(append(opts, a), rest...), nil
				}
			}
			operands = append(operands, a)
			if posix {
				operands = append(operands, args[i+1:]...)
				return join(opts, operands), nil
			}
		}
	}
	return join(opts, operands), nil
}

func option(name, value string, takes bool) string {
	if takes {
		return "-" + name + "=" + value
	}
	return "-" + name
}

func join(opts, operands []string) []string {
	if len(operands) == 0 {
		return opts
	}
	return append(append(opts, "--"), operands...)
}
