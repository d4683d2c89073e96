package main

import (
	"testing"
	"time"
)

func TestTopicsParseDuration(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"7d", 7 * 24 * time.Hour, true},
		{"1d12h", 36 * time.Hour, true},
		{"36h", 36 * time.Hour, true},
		{"90m", 90 * time.Minute, true},
		{"0", 0, true},
		{"0d", 0, true},
		{"forever", 0, true},
		{"", 0, false},
		{"d", 0, false},
		{"7days", 0, false},
		{"-1h", 0, false},
		{"-1d", 0, false},
		{"1.5d", 0, false},
		{"999999999d", 0, false},
		{"106751d23h47m17s", 0, false}, // past MaxInt64 nanoseconds
	} {
		got, err := parseDuration(tc.in)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("parseDuration(%q) = %v, %v; want %v, ok %v", tc.in, got, err, tc.want, tc.ok)
		}
	}
}

func TestTopicsFormatDurationRoundTrips(t *testing.T) {
	for _, tc := range []struct {
		d    time.Duration
		want string
	}{
		{0, "forever"},
		{7 * 24 * time.Hour, "7d"},
		{36 * time.Hour, "36h"},
		{time.Hour, "1h"},
		{90 * time.Minute, "1h30m"},
		{10 * time.Minute, "10m"},
		{90 * time.Second, "1m30s"},
		{1500 * time.Millisecond, "1.5s"},
	} {
		got := formatDuration(tc.d)
		if got != tc.want {
			t.Errorf("formatDuration(%v) = %q; want %q", tc.d, got, tc.want)
		}
		if back, err := parseDuration(got); err != nil || back != tc.d {
			t.Errorf("parseDuration(%q) = %v, %v; want %v back", got, back, err, tc.d)
		}
	}
}

func TestTopicsParseBytes(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int64
		ok   bool
	}{
		{"0", 0, true},
		{"1073741824", 1 << 30, true},
		{"512B", 512, true},
		{"500MB", 500e6, true},
		{"1GiB", 1 << 30, true},
		{"2 kib", 2048, true},
		{"3TB", 3e12, true},
		{"", 0, false},
		{"MB", 0, false},
		{"1XB", 0, false},
		{"-5", 0, false},
		{"1.5GiB", 0, false},
		{"9223372036854775807", 1<<63 - 1, true},
		{"9223372036854775808", 0, false},
		{"10000000TiB", 0, false},
	} {
		got, err := parseBytes(tc.in)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("parseBytes(%q) = %d, %v; want %d, ok %v", tc.in, got, err, tc.want, tc.ok)
		}
	}
}

func TestTopicsFormatBytes(t *testing.T) {
	for _, tc := range []struct {
		n    int64
		want string
	}{
		{0, "0 B"},
		{1023, "1023 B"},
		{1024, "1 KiB"},
		{1536, "1.5 KiB"},
		{20 << 20, "20 MiB"},
		{1<<63 - 1, "8 EiB"},
	} {
		if got := formatBytes(tc.n); got != tc.want {
			t.Errorf("formatBytes(%d) = %q; want %q", tc.n, got, tc.want)
		}
	}
}
