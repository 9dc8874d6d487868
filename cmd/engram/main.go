// Command engram is the Engram memory server and its command line: `engram start` runs
// the server in the foreground; the other commands talk to a running server over HTTP.
package main

import "os"

func main() {
	os.Exit(execute(os.Args[1:], os.Getenv, os.Stdout, os.Stderr))
}
