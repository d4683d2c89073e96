package main

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// topicsDuration is a pflag.Value for retention: a Go duration ("12h",
// "90m") optionally led by whole days ("7d", "1d12h"), as retention is
// usually counted in days. "0" and "forever" mean no limit.
type topicsDuration time.Duration

func (d *topicsDuration) String() string { return formatDuration(time.Duration(*d)) }
func (d *topicsDuration) Type() string   { return "duration" }

func (d *topicsDuration) Set(s string) error {
	v, err := parseDuration(s)
	if err != nil {
		return err
	}
	*d = topicsDuration(v)
	return nil
}

// parseDuration parses a retention period; see topicsDuration.
func parseDuration(s string) (time.Duration, error) {
	if s == "forever" {
		return 0, nil
	}
	var days int64
	rest := s
	i := strings.IndexByte(s, 'd')
	if i >= 0 {
		n, err := strconv.ParseInt(s[:i], 10, 64)
		if err != nil || n < 0 || n > math.MaxInt64/int64(24*time.Hour) {
			return 0, fmt.Errorf("%q is not a duration such as 7d, 36h or 90m", s)
		}
		days, rest = n, s[i+1:]
	}
	var d time.Duration
	if rest != "" || i < 0 {
		var err error
		if d, err = time.ParseDuration(rest); err != nil {
			return 0, fmt.Errorf("%q is not a duration such as 7d, 36h or 90m", s)
		}
	}
	if d < 0 {
		return 0, errors.New("retention cannot be negative")
	}
	total := time.Duration(days) * 24 * time.Hour
	if d > math.MaxInt64-total {
		return 0, fmt.Errorf("duration %q is too long", s)
	}
	return total + d, nil
}

// formatDuration writes a retention period for people: "forever"
// for none, whole days as "7d", anything else as Go does without the
// trailing zero units ("36h", "1h30m").
func formatDuration(d time.Duration) string {
	const day = 24 * time.Hour
	switch {
	case d == 0:
		return "forever"
	case d%day == 0:
		return strconv.FormatInt(int64(d/day), 10) + "d"
	}
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// topicsBytes is a pflag.Value for a size in bytes: a whole number with an
// optional unit, decimal (KB, MB, GB, TB) or binary (KiB, MiB, GiB, TiB),
// in any letter case. "0" means no limit.
type topicsBytes int64

func (b *topicsBytes) String() string { return strconv.FormatInt(int64(*b), 10) }
func (b *topicsBytes) Type() string   { return "bytes" }

func (b *topicsBytes) Set(s string) error {
	v, err := parseBytes(s)
	if err != nil {
		return err
	}
	*b = topicsBytes(v)
	return nil
}

// topicsUnits are the size units parseBytes accepts, by lower-case
// name.
var topicsUnits = map[string]int64{
	"": 1, "b": 1,
	"kb": 1e3, "mb": 1e6, "gb": 1e9, "tb": 1e12,
	"kib": 1 << 10, "mib": 1 << 20, "gib": 1 << 30, "tib": 1 << 40,
}

// parseBytes parses a size; see topicsBytes.
func parseBytes(s string) (int64, error) {
	i := 0
	for i < len(s) && '0' <= s[i] && s[i] <= '9' {
		i++
	}
	unit, ok := topicsUnits[strings.ToLower(strings.TrimSpace(s[i:]))]
	if i == 0 || !ok {
		return 0, fmt.Errorf("%q is not a size such as 1073741824, 500MB or 1GiB", s)
	}
	n, err := strconv.ParseInt(s[:i], 10, 64)
	if err != nil || n > math.MaxInt64/unit {
		return 0, fmt.Errorf("size %q is too large", s)
	}
	return n * unit, nil
}

// formatBytes writes a size for people, in binary units with one
// decimal: "512 B", "1.5 KiB", "20 MiB".
func formatBytes(n int64) string {
	if n < 1024 {
		return strconv.FormatInt(n, 10) + " B"
	}
	v, unit := float64(n), "B"
	for _, u := range []string{"KiB", "MiB", "GiB", "TiB", "PiB", "EiB"} {
		if v < 1024 {
			break
		}
		v, unit = v/1024, u
	}
	s := strconv.FormatFloat(v, 'f', 1, 64)
	return strings.TrimSuffix(s, ".0") + " " + unit
}
