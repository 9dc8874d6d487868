// Package mcpapi serves Engram to agents over the Model Context Protocol: an MCP server
// (the official Go SDK) on the streamable HTTP transport, with tools to remember, recall,
// get and forget memories, remember episodes, and list and create memory spaces.
//
// Invariants:
//   - A tool call resolves its memory space with the rule every frontend uses: the
//     connection's X-Memory-Space header first, then the tool's memory_space argument, then
//     the default space; an invalid value is an error naming where it came from.
//   - With authentication on, every HTTP request carries a bearer key checked by the shared
//     Authenticator, and a key reaches only the spaces it names, exactly as on HTTP and gRPC.
//   - Bad arguments and engine errors become tool errors (isError results naming the field
//     or the cause); they never end the session or the process.
//   - An accepted write is carried to the end even if the client goes away.
package mcpapi
