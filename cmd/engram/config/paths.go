package config

import (
	"fmt"
	"path/filepath"
	"strings"
)

// expandTilde replaces a leading "~" or "~/" with home. "~user" forms are refused rather
// than passed through as a folder literally named "~user".
func expandTilde(p, home string) (string, error) {
	if p == "" || p[0] != '~' {
		return p, nil
	}
	if p != "~" && !strings.HasPrefix(p, "~/") && !strings.HasPrefix(p, `~`+string(filepath.Separator)) {
		return "", fmt.Errorf("only \"~\" and \"~/\" are expanded, not %q", p)
	}
	if home == "" {
		return "", fmt.Errorf("cannot expand %q: no home directory", p)
	}
	return filepath.Join(home, p[1:]), nil
}

// resolvePath expands a tilde and makes p absolute, relative paths being taken from base.
func resolvePath(p, base, home string) (string, error) {
	if strings.ContainsRune(p, 0) {
		return "", fmt.Errorf("path %q contains a NUL byte", p)
	}
	p, err := expandTilde(p, home)
	if err != nil {
		return "", err
	}
	if !filepath.IsAbs(p) {
		p = filepath.Join(base, p)
	}
	return filepath.Clean(p), nil
}

// defaultDataRoot is $XDG_DATA_HOME/engram when that is set to an absolute path (the XDG
// rule), else ~/.local/share/engram.
func defaultDataRoot(getenv func(string) string, home string) string {
	if x := getenv("XDG_DATA_HOME"); x != "" && filepath.IsAbs(x) {
		return filepath.Join(x, "engram")
	}
	return filepath.Join(home, ".local", "share", "engram")
}
