package eventlog

import "sync"

// notifier wakes every goroutine waiting for a partition to grow.
// A waiter takes the current channel with wait, re-checks its condition,
// and then blocks on the channel; broadcast closes that channel and installs
// a fresh one. Taking the channel before checking is what makes a wake-up
// impossible to miss.
type notifier struct {
	mu sync.Mutex
	ch chan struct{} // guarded by mu; nil until someone waits
}

// wait returns a channel that the next broadcast closes.
func (n *notifier) wait() <-chan struct{} {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.ch == nil {
		n.ch = make(chan struct{})
	}
	return n.ch
}

// broadcast wakes everyone who called wait before it and reports whether
// anyone had. With nobody waiting it costs one uncontended lock and
// allocates nothing.
func (n *notifier) broadcast() (woke bool) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.ch != nil {
		close(n.ch)
		n.ch = nil
		return true
	}
	return false
}
