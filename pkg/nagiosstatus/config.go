package nagiosstatus

import (
	"bytes"
	"fmt"
	"strconv"
)

// Config is what nagios.cfg (or naemon.cfg) says about the files a check
// of the engine reads.
type Config struct {
	StatusFile           string
	LockFile             string
	LogFile              string
	CommandFile          string
	StatusUpdateInterval int  // seconds between rewrites of status.dat
	IntervalLength       int  // seconds in one unit of check_interval
	Notifications        bool // enable_notifications at start
}

// Nagios' defaults when nagios.cfg does not say (base/config.c).
const (
	DefaultStatusUpdateInterval = 60
	DefaultIntervalLength       = 60
)

// ParseConfig reads the main configuration file. Lines are key=value,
// comments start with # or ;. Included object files are not followed:
// they say nothing about the engine's own files.
func ParseConfig(data []byte) (Config, error) {
	c := Config{StatusUpdateInterval: DefaultStatusUpdateInterval, IntervalLength: DefaultIntervalLength, Notifications: true}
	for n, line := range bytes.Split(data, []byte("\n")) {
		line = bytes.TrimSpace(line)
		if len(line) == 0 || line[0] == '#' || line[0] == ';' {
			continue
		}
		key, value, ok := bytes.Cut(line, []byte("="))
		if !ok || !isName(bytes.TrimSpace(key)) {
			return c, fmt.Errorf("%w main configuration: line %d: %s", ErrMalformed, n+1, quote(line))
		}
		v := string(bytes.TrimSpace(value))
		switch string(bytes.TrimSpace(key)) {
		case "status_file":
			c.StatusFile = v
		case "lock_file":
			c.LockFile = v
		case "log_file":
			c.LogFile = v
		case "command_file":
			c.CommandFile = v
		case "status_update_interval":
			c.StatusUpdateInterval = positive(v, c.StatusUpdateInterval)
		case "interval_length":
			c.IntervalLength = positive(v, c.IntervalLength)
		case "enable_notifications":
			c.Notifications = v == "1"
		}
	}
	return c, nil
}

// positive is v as a positive integer, else def (as Nagios, which
// refuses the configuration instead).
func positive(v string, def int) int {
	n, err := strconv.Atoi(v)
	if err != nil || n <= 0 {
		return def
	}
	return n
}
