package main

import (
	"testing"

	"github.com/eventlog/eventlog"
)

// libOpen opens the log in dir with the library and closes it at the end
// of the test. While it is open the command cannot use dir.
func libOpen(t *testing.T, dir string) *eventlog.Log {
	t.Helper()
	l, err := eventlog.Open(dir, nil)
	if err != nil {
		t.Fatalf("eventlog.Open(%s): %v", dir, err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

// libGroup opens the log in dir and consumer group group over topic with
// the library, as an application would. The caller must close the log
// before it runs the command on dir, which locks the directory.
func libGroup(t *testing.T, dir, group, topic string) (*eventlog.Log, *eventlog.ConsumerGroup) {
	t.Helper()
	l, err := eventlog.Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	g, err := l.ConsumerGroup(group, &eventlog.GroupOptions{Topics: []string{topic}})
	if err != nil {
		l.Close()
		t.Fatal(err)
	}
	return l, g
}

// libTopicWithGroup creates topic with one partition in the log in dir
// (created if needed) and consumer group group over it, which makes the log
// create its internal offsets topic, and closes the log.
func libTopicWithGroup(t *testing.T, dir, topic, group string) {
	t.Helper()
	l, err := eventlog.Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := l.CreateTopic(topic, eventlog.TopicConfig{}); err != nil {
		l.Close()
		t.Fatal(err)
	}
	if _, err := l.ConsumerGroup(group, &eventlog.GroupOptions{Topics: []string{topic}}); err != nil {
		l.Close()
		t.Fatal(err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
}
