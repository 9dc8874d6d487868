// Package prefault has the kernel back a fresh buffer's pages before anyone writes to it.
//
// Memory the Go runtime takes from the operating system arrives unbacked: the first write to
// each 4 KiB page traps into the kernel, which allocates and clears the page. For a buffer
// written under a lock (the hot tier's vectors), those traps lengthen the critical section.
// Populate backs a range in one system call, at a moment the caller chooses, for less CPU
// than the traps it replaces; where the kernel cannot do that, it does nothing and the pages
// are backed on first write as before.
package prefault
