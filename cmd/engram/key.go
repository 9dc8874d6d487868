package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/engram-go/engram/cmd/engram/config"
	"github.com/engram-go/engram/frontend/apikey"
)

// keyCommand groups the API key commands. They work offline on the keys file of
// [security] keys_file; a running server picks their changes up by itself (it looks at
// the file every couple of seconds, and at once on SIGHUP).
func (a *app) keyCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "key",
		Short: "Create, list and revoke API keys (used when [security] auth = \"api_key\")",
		Long: "Create, list and revoke API keys. The commands edit the keys file of [security] keys_file\n" +
			"(under the data root unless absolute) directly, with or without a running server; a running\n" +
			"server picks the change up within " + apikey.DefaultReloadInterval.String() + ", or at once on SIGHUP.",
	}
	cmd.AddCommand(a.keyCreateCommand(), a.keyListCommand(), a.keyRevokeCommand())
	return cmd
}

// keysConfig loads the configuration for a key command and says on stderr when keys
// would not be checked by a server started with it.
func (a *app) keysConfig() (config.Config, error) {
	cfg, err := a.loadConfig("", "")
	if err != nil {
		return cfg, err
	}
	if cfg.Security.Auth != "api_key" {
		fmt.Fprintf(a.stderr, "engram: note: [security] auth is %q; the server checks keys only with auth = \"api_key\"\n", cfg.Security.Auth)
	}
	return cfg, nil
}

// keyView is what the key commands print of an entry: never the hash, never the key.
type keyView struct {
	ID        string     `json:"id"`
	Name      string     `json:"name"`
	Spaces    []string   `json:"spaces"`
	Admin     bool       `json:"admin"`
	CreatedAt time.Time  `json:"created_at"`
	Revoked   bool       `json:"revoked"`
	RevokedAt *time.Time `json:"revoked_at,omitempty"`
}

func viewOf(e apikey.Entry) keyView {
	return keyView{ID: e.ID, Name: e.Name, Spaces: e.Spaces, Admin: e.Admin, CreatedAt: e.CreatedAt, Revoked: e.Revoked, RevokedAt: e.RevokedAt}
}

func (a *app) keyCreateCommand() *cobra.Command {
	var (
		spaces []string
		name   string
		admin  bool
		asJSON bool
	)
	cmd := &cobra.Command{
		Use:   "create --space ID [--space ID ...] [--admin] [--name NAME]",
		Short: "Create an API key for some memory spaces and print it once",
		Long: "Create an API key allowed to touch the given memory spaces (--space '*' for every space),\n" +
			"optionally admin (may call POST /shutdown). The key is printed once: the keys file keeps\n" +
			"only its SHA-256 hash.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := a.keysConfig()
			if err != nil {
				return err
			}
			if len(spaces) == 0 && !admin {
				return errors.New("give the spaces the key may touch: --space ID (repeatable), or --space '*' for every space")
			}
			key, e, err := apikey.Create(cfg.Security.KeysFile, apikey.Spec{Name: name, Spaces: spaces, Admin: admin}, time.Now())
			if err != nil {
				return err
			}
			if asJSON {
				out := struct {
					keyView
					Key      string `json:"key"`
					KeysFile string `json:"keys_file"`
				}{viewOf(e), key, cfg.Security.KeysFile}
				return writeIndentedJSON(a.stdout, out)
			}
			_, err = fmt.Fprintf(a.stdout, "Created API key %s%s (spaces: %s; admin: %s) in %s\n\n    %s\n\n"+
				"Store it now: it is shown only this once, the server keeps only its hash.\n"+
				"Clients send it as \"Authorization: Bearer <key>\" (gRPC: authorization metadata).\n",
				e.ID, quotedName(e.Name), spaceList(e.Spaces), yesNo(e.Admin), cfg.Security.KeysFile, key)
			return err
		},
	}
	f := cmd.Flags()
	f.StringArrayVar(&spaces, "space", nil, "memory space the key may touch (repeatable; '*' = every space)")
	f.StringVar(&name, "name", "", "a label for people (who or what uses the key)")
	f.BoolVar(&admin, "admin", false, "the key may also shut the server down (POST /shutdown)")
	f.BoolVar(&asJSON, "json", false, "print the new key and its entry as JSON")
	return cmd
}

func (a *app) keyListCommand() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List API keys (id, name, spaces, admin, created, revoked; never the key)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := a.keysConfig()
			if err != nil {
				return err
			}
			f, err := apikey.ReadFile(cfg.Security.KeysFile)
			if err != nil {
				return err
			}
			views := make([]keyView, 0, len(f.Keys))
			for _, e := range f.Keys {
				views = append(views, viewOf(e))
			}
			if asJSON {
				return writeIndentedJSON(a.stdout, struct {
					Keys []keyView `json:"keys"`
				}{views})
			}
			return writeKeyList(a.stdout, views, cfg.Security.KeysFile)
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the keys as JSON")
	return cmd
}

// writeKeyList prints the keys as a table.
func writeKeyList(w io.Writer, keys []keyView, path string) error {
	if len(keys) == 0 {
		_, err := fmt.Fprintf(w, "No API keys in %s; create one with `engram key create --space ID`\n", path)
		return err
	}
	rows := make([][]string, 0, len(keys))
	revoked := 0
	for _, k := range keys {
		state := "no"
		if k.Revoked {
			revoked++
			state = "yes"
			if k.RevokedAt != nil {
				state = formatTime(k.RevokedAt.Format(time.RFC3339))
			}
		}
		rows = append(rows, []string{k.ID, clip(k.Name, 32), clip(spaceList(k.Spaces), 48), yesNo(k.Admin),
			formatTime(k.CreatedAt.Format(time.RFC3339)), state})
	}
	cols := []column{{title: "ID"}, {title: "Name"}, {title: "Spaces"}, {title: "Admin"}, {title: "Created"}, {title: "Revoked"}}
	if err := writeTable(w, cols, rows); err != nil {
		return err
	}
	_, err := fmt.Fprintf(w, "%s (%d revoked) in %s\n", plural(len(keys), "API key", "API keys"), revoked, path)
	return err
}

func (a *app) keyRevokeCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "revoke ID",
		Short: "Revoke an API key by its id (see `engram key list`)",
		Long: "Revoke an API key by its id. The entry stays in the keys file, marked revoked; a running\n" +
			"server refuses the key within " + apikey.DefaultReloadInterval.String() + " (at once after SIGHUP).",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := a.keysConfig()
			if err != nil {
				return err
			}
			e, changed, err := apikey.Revoke(cfg.Security.KeysFile, args[0], time.Now())
			if err != nil {
				return err
			}
			if !changed {
				_, err = fmt.Fprintf(a.stdout, "API key %s%s was already revoked\n", e.ID, quotedName(e.Name))
				return err
			}
			_, err = fmt.Fprintf(a.stdout, "Revoked API key %s%s\n", e.ID, quotedName(e.Name))
			return err
		},
	}
}

func spaceList(spaces []string) string {
	if len(spaces) == 0 {
		return "none"
	}
	if len(spaces) == 1 && spaces[0] == apikey.AllSpaces {
		return "* (every space)"
	}
	return strings.Join(spaces, ", ")
}

func quotedName(name string) string {
	if name == "" {
		return ""
	}
	return fmt.Sprintf(" %q", name)
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

func writeIndentedJSON(w io.Writer, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	_, err = w.Write(append(b, '\n'))
	return err
}
