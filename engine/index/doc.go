// Package index holds the search structures of a memory space: exact (flat) and
// approximate (HNSW) vector search over the rows of an embedding slab, a BM25 lexical
// index over memory content, the tokenizer both text paths share, and reciprocal rank
// fusion to merge their rankings.
//
// Rows. Every structure here speaks of rows: the dense uint32 slot numbers under which a
// space keeps its hot memories, row r's embedding being slab[r*dim:(r+1)*dim]. The
// package never owns vectors; the caller keeps them stable while a call that reads them
// runs, and rows are L2-normalised so that the dot product is the cosine similarity.
//
// Rankings. Every vector result list is ordered by Score descending, then Row ascending,
// so equal inputs always give equal outputs. Lexical hits are ordered by the number of
// distinct query terms matched, then BM25 score, then row.
//
// Tokens. AllTokens is the only tokenizer: the lexical index (through Tokenize) and the
// built-in embedder (engine/embed) both use it, so a term means the same to both.
//
// Concurrency. Lexical and HNSW are safe for concurrent use. HNSW has one writer at a
// time: Insert holds an insert mutex for its whole run, and every mutation of the graph
// happens under that mutex. Hence the insert mutex holder may read the graph without
// other locks (no one else can change it) and computes its links while searches run. It
// publishes each changed link list under the lock of that node's stripe, the new node's
// own lists before any neighbour links to it; a search copies a node's list under the
// same stripe lock before walking it, so searches and an insert wait for one another only
// for the copy of one list. The graph's read-write lock, held shared by searches, is taken
// exclusively only to grow the arrays, move the entry point or change a deleted mark.
// AppendSaved holds the insert mutex, so a save sees no insert half-published. TopK,
// TopKRows and Int8Scan hold no lock.
//
// Saving. Lexical.AppendSaved writes the documents renumbered (docs/formats/lexical.md) and
// LoadLexical rebuilds an index from them, checking that the data is consistent, so a
// loaded index answers every search exactly as one built by Add on the same rows.
// HNSW.AppendSaved writes the live nodes and their links renumbered
// (docs/formats/hnsw.md) and HNSW.Load fills an empty graph with them, checked the same
// way: the loaded graph has the same links, so it answers as the saved one did.
//
// Deletion. HNSW.Delete only marks a row: the node keeps routing searches and is never
// returned. Inserting the row again relinks it from its current vector.
package index
