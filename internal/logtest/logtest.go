// Package logtest captures log/slog records for tests that check which
// events a package logs.
package logtest

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
)

// Entry is one captured record: its level, message and attributes (group
// names joined with dots; values as slog prints them).
type Entry struct {
	Level slog.Level
	Msg   string
	Attrs map[string]string
}

// Recorder is a slog.Handler that keeps every record at or above Level.
// It is safe for concurrent use.
type Recorder struct {
	Level slog.Level

	mu      sync.Mutex
	entries []Entry
	changed chan struct{}
}

// New returns a Recorder of every level (Debug and up) and a Logger that
// writes to it.
func New() (*Recorder, *slog.Logger) {
	r := &Recorder{Level: slog.LevelDebug}
	return r, slog.New(r)
}

// Enabled implements slog.Handler.
func (r *Recorder) Enabled(_ context.Context, l slog.Level) bool { return l >= r.Level }

// Handle implements slog.Handler.
func (r *Recorder) Handle(_ context.Context, rec slog.Record) error {
	e := Entry{Level: rec.Level, Msg: rec.Message, Attrs: map[string]string{}}
	rec.Attrs(func(a slog.Attr) bool {
		addAttr(e.Attrs, "", a)
		return true
	})
	r.mu.Lock()
	r.entries = append(r.entries, e)
	if r.changed != nil {
		close(r.changed)
		r.changed = nil
	}
	r.mu.Unlock()
	return nil
}

func addAttr(m map[string]string, prefix string, a slog.Attr) {
	v := a.Value.Resolve()
	if v.Kind() == slog.KindGroup {
		for _, g := range v.Group() {
			addAttr(m, prefix+a.Key+".", g)
		}
		return
	}
	m[prefix+a.Key] = v.String()
}

// WithAttrs implements slog.Handler (attributes are not needed by the
// tests and are dropped).
func (r *Recorder) WithAttrs([]slog.Attr) slog.Handler { return r }

// WithGroup implements slog.Handler.
func (r *Recorder) WithGroup(string) slog.Handler { return r }

// Entries returns a copy of what has been recorded.
func (r *Recorder) Entries() []Entry {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Entry(nil), r.entries...)
}

// Find returns the entries whose message contains msg.
func (r *Recorder) Find(msg string) []Entry {
	var out []Entry
	for _, e := range r.Entries() {
		if strings.Contains(e.Msg, msg) {
			out = append(out, e)
		}
	}
	return out
}

// Wait waits until an entry whose message contains msg has been recorded,
// or ctx ends (then it returns an error listing what was recorded).
func (r *Recorder) Wait(ctx context.Context, msg string) (Entry, error) {
	for {
		r.mu.Lock()
		for _, e := range r.entries {
			if strings.Contains(e.Msg, msg) {
				r.mu.Unlock()
				return e, nil
			}
		}
		if r.changed == nil {
			r.changed = make(chan struct{})
		}
		ch := r.changed
		r.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return Entry{}, fmt.Errorf("no log record %q (%w); recorded: %v", msg, ctx.Err(), r.Entries())
		}
	}
}
