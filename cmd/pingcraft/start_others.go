//go:build !linux

package main

import "time"

func processStarted() time.Time { return time.Now() }
