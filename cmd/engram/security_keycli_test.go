package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/engram-go/engram/frontend/apikey"
)

// TestKeyCommands runs `engram key create|list|revoke` in-process on an offline keys file.
func TestKeyCommands(t *testing.T) {
	c := newCLI(t)
	keysFile := filepath.Join(c.root, "keys.json")

	code, _, errOut := c.run("key", "create")
	if code == 0 || !strings.Contains(errOut, "--space") {
		t.Fatalf("create without a space: exit %d, %q", code, errOut)
	}
	code, _, errOut = c.run("key", "create", "--space", "../etc")
	if code == 0 || !strings.Contains(errOut, `"../etc"`) {
		t.Fatalf("create with a bad space: exit %d, %q", code, errOut)
	}
	if _, err := os.Stat(keysFile); !os.IsNotExist(err) {
		t.Fatalf("refused creates wrote the keys file: %v", err)
	}

	code, out, errOut := c.run("key", "create", "--space", "alpha", "--space", "beta", "--name", "ci runner")
	if code != 0 {
		t.Fatalf("create: exit %d: %s", code, errOut)
	}
	// auth is "none" in this configuration: the command says keys are not checked yet.
	if !strings.Contains(errOut, `auth is "none"`) {
		t.Errorf("no note about auth = none: %q", errOut)
	}
	var key string
	for _, f := range strings.Fields(out) {
		if strings.HasPrefix(f, apikey.Prefix) {
			key = f
		}
	}
	if key == "" || !strings.Contains(out, "alpha, beta") || !strings.Contains(out, "shown only this once") || !strings.Contains(out, keysFile) {
		t.Fatalf("create printed:\n%s", out)
	}

	code, out, _ = c.run("key", "create", "--space", "*", "--admin", "--json")
	var created struct {
		ID, Key  string
		KeysFile string `json:"keys_file"`
		Admin    bool
		Spaces   []string
	}
	if err := json.Unmarshal([]byte(out), &created); code != 0 || err != nil {
		t.Fatalf("create --json: exit %d, %v: %s", code, err, out)
	}
	if !created.Admin || len(created.Spaces) != 1 || created.Spaces[0] != "*" || !strings.HasPrefix(created.Key, apikey.Prefix) || created.KeysFile != keysFile {
		t.Fatalf("create --json: %+v", created)
	}

	f, err := apikey.ReadFile(keysFile)
	if err != nil || len(f.Keys) != 2 || f.Keys[0].Hash != apikey.HashKey(key) || f.Keys[1].Hash != apikey.HashKey(created.Key) {
		t.Fatalf("keys file: %+v %v", f, err)
	}
	first := f.Keys[0].ID

	code, out, _ = c.run("key", "list")
	if code != 0 || !strings.Contains(out, first) || !strings.Contains(out, "ci runner") || !strings.Contains(out, "* (every space)") ||
		!strings.Contains(out, "2 API keys (0 revoked)") {
		t.Fatalf("list: exit %d:\n%s", code, out)
	}
	for _, secret := range []string{key, created.Key, f.Keys[0].Hash} {
		if strings.Contains(out, strings.TrimPrefix(secret, apikey.Prefix)) {
			t.Fatal("list shows a key or a hash")
		}
	}

	code, out, _ = c.run("key", "revoke", first)
	if code != 0 || out != `Revoked API key `+first+` "ci runner"`+"\n" {
		t.Fatalf("revoke: exit %d, %q", code, out)
	}
	code, out, _ = c.run("key", "revoke", first)
	if code != 0 || !strings.Contains(out, "already revoked") {
		t.Fatalf("second revoke: exit %d, %q", code, out)
	}
	code, _, errOut = c.run("key", "revoke", "key_000000000000")
	if code == 0 || !strings.Contains(errOut, "no key with this id") {
		t.Fatalf("revoke of an unknown id: exit %d, %q", code, errOut)
	}

	code, out, _ = c.run("key", "list", "--json")
	var listed struct {
		Keys []map[string]any `json:"keys"`
	}
	if err := json.Unmarshal([]byte(out), &listed); code != 0 || err != nil || len(listed.Keys) != 2 {
		t.Fatalf("list --json: exit %d, %v: %s", code, err, out)
	}
	if listed.Keys[0]["revoked"] != true || listed.Keys[0]["revoked_at"] == nil || listed.Keys[1]["revoked"] != false {
		t.Fatalf("list --json: %v", listed.Keys)
	}
	for _, k := range listed.Keys {
		if _, ok := k["hash"]; ok {
			t.Fatal("list --json shows hashes")
		}
	}
}

// TestKeyCommandsFollowTheConfiguration: keys_file from the configuration, absolute, and
// no note when auth is on.
func TestKeyCommandsFollowTheConfiguration(t *testing.T) {
	c := newCLI(t)
	keysFile := filepath.Join(t.TempDir(), "elsewhere", "api-keys.json")
	if err := os.WriteFile(c.cfgFile, []byte("[security]\nauth = \"api_key\"\nkeys_file = \""+keysFile+"\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := c.run("key", "create", "--space", "alpha")
	if code != 0 || errOut != "" || !strings.Contains(out, keysFile) {
		t.Fatalf("create: exit %d, %q, %q", code, out, errOut)
	}
	if f, err := apikey.ReadFile(keysFile); err != nil || len(f.Keys) != 1 {
		t.Fatalf("keys file %s: %+v %v", keysFile, f, err)
	}
	if _, err := os.Stat(filepath.Join(c.root, "keys.json")); !os.IsNotExist(err) {
		t.Fatalf("a keys file appeared in the data root: %v", err)
	}
	code, out, _ = c.run("key", "list")
	if code != 0 || !strings.Contains(out, "1 API key (0 revoked)") {
		t.Fatalf("list: exit %d:\n%s", code, out)
	}
}
