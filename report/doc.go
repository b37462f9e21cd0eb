// Package report owns pingcraft's output contracts: the lines iputils ping
// prints (Ping), the lines fping 5 prints (Fping), and JSON events, schema v1
// (JSON). Each has an Event method of the signature ping.New's onEvent
// takes, so a printer is handed to the engine as p.Event.
//
// The engine calls onEvent from its goroutines with its lock held: a
// printer writing straight to a slow stdout would stall the scheduler and
// the receivers. Give the printers an AsyncWriter around stdout, which
// queues what they write and writes it out from its own goroutine, and
// Close it after the run; its Close also reports the first write error,
// which the printers themselves do not return.
//
// The printers are not safe for concurrent use, except Ping.Status, which
// touches nothing but its arguments: the engine serializes Event calls, and
// Summary comes after Run.
package report
