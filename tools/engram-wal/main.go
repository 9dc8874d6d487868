// Command engram-wal inspects, verifies and repairs Engram write-ahead logs offline.
package main

import "os"

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}
