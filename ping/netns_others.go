//go:build !linux

package ping

type spawner struct{}

func newSpawner() spawner     { return spawner{} }
func (spawner) run(fn func()) { fn() }
func (spawner) close()        {}
