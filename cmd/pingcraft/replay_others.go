//go:build !linux

package main

import (
	"errors"
	"net"

	"github.com/pingcraft/pingcraft/capture"
)

type replaySocket struct{}

func openReplaySocket(*net.Interface) (*replaySocket, error) {
	return nil, errors.New("replay: sending frames needs Linux's AF_PACKET")
}

func (s *replaySocket) send([]byte) error { return errors.ErrUnsupported }
func (s *replaySocket) Close() error      { return nil }

func openReplayCapture(string) (capture.Source, error) {
	return nil, errors.New("replay: --match needs Linux's AF_PACKET")
}
