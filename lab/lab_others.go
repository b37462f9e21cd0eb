//go:build !linux

package lab

import (
	"context"
	"errors"
	"net"
	"os/exec"
	"time"
)

// errNotLinux is what everything here returns.
func errNotLinux() error { return errors.New("lab: network namespaces need Linux") }

// New fails: network namespaces need Linux.
func New(ctx context.Context) (*Lab, error) { return nil, errNotLinux() }

// NewTagged fails: network namespaces need Linux.
func NewTagged(ctx context.Context, tag string) (*Lab, error) { return nil, errNotLinux() }

// NewPrefixed fails: network namespaces need Linux.
func NewPrefixed(ctx context.Context, prefix string) (*Lab, error) { return nil, errNotLinux() }

func newWithID(ctx context.Context, id string) (*Lab, error) { return nil, errNotLinux() }

// Close does nothing: no lab can exist here.
func (l *Lab) Close() error { return nil }

// Do fails: network namespaces need Linux.
func (n *Node) Do(fn func() error) error { return errNotLinux() }

// Command returns a command that fails when run: network namespaces need Linux.
func (n *Node) Command(ctx context.Context, name string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Err = errNotLinux()
	return cmd
}

// HardwareAddr fails: network namespaces need Linux.
// Dial fails: namespaces need Linux.
func (n *Node) Dial(network, address string, timeout time.Duration) (net.Conn, error) {
	return nil, errNotLinux()
}

func (n *Node) HardwareAddr(link string) (net.HardwareAddr, error) { return nil, errNotLinux() }

// Down fails: network namespaces need Linux.
func Down(ids ...string) ([]string, error) { return nil, errNotLinux() }

// Kept fails: network namespaces need Linux.
func Kept() ([]string, error) { return nil, errNotLinux() }

// Names fails: network namespaces need Linux.
func Names() ([]string, error) { return nil, errNotLinux() }
