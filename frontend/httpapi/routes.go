package httpapi

import (
	"github.com/engram-go/engram/frontend"
	"github.com/valyala/fasthttp"
)

// routes is the route table. docs/api.md describes each route, and openapi/openapi.json
// documents it for programs: a route added here without it fails the end-to-end tests.
func (s *Server) routes() *router {
	const (
		get    = fasthttp.MethodGet
		post   = fasthttp.MethodPost
		delete = fasthttp.MethodDelete
	)
	rt := newRouter()
	rt.handle(post, "/api/v1/memories/remember", s.handleRemember)
	rt.handle(post, "/api/v1/memories", s.handleRemember)
	rt.handle(get, "/api/v1/memories", s.handleList)
	rt.handle(post, "/api/v1/episodes/remember", s.handleEpisode)
	rt.handle(get, "/api/v1/episodes/replay", s.handleReplay)
	rt.handle(post, "/api/v1/memories/batch", s.handleBatch)
	rt.handle(get, "/api/v1/memories/recall", s.handleRecall)
	rt.handle(post, "/api/v1/memories/recall", s.handleRecall)
	rt.handle(get, "/api/v1/memories/search", s.handleSearch)
	rt.handle(post, "/api/v1/memories/recognize", s.handleRecognize)
	rt.handle(post, "/api/v1/memories/associate", s.handleAssociate)
	rt.handle(get, "/api/v1/memories/{id}", s.handleGet)
	rt.handle(delete, "/api/v1/memories/{id}", s.handleDelete)
	rt.handle(get, "/api/v1/memories/{id}/associations", s.handleAssociations)
	rt.handle(get, "/api/v1/query/probabilistic", s.handleProbabilistic)
	rt.handle(post, "/api/v1/complete", s.handleComplete)
	rt.handle(post, "/api/v1/query", s.handleQuery)
	rt.handle(get, "/api/v1/consolidations", s.handleConsolidations)
	rt.handle(post, "/api/v1/consolidations", s.handleConsolidate)
	rt.handle(get, "/api/v1/consolidations/{id}", s.handleConsolidation)

	rt.handle(get, "/api/v1/spaces", s.handleSpaces)
	rt.handle(post, "/api/v1/spaces", s.handleCreateSpace)
	rt.handle(get, "/api/v1/spaces/{id}", s.handleGetSpace)
	rt.handle(delete, "/api/v1/spaces/{id}", s.handleDeleteSpace)
	rt.handle(get, "/api/v1/spaces/{id}/export", s.handleExport)
	rt.handle(post, "/api/v1/spaces/{id}/import", s.handleImport)

	rt.handle(get, "/api/v1/stream/activities", s.handleStream(frontend.ActivityEvents()))
	rt.handle(get, "/api/v1/stream/memories", s.handleStream(frontend.MemoryEvents()))
	rt.handle(get, "/api/v1/stream/consolidation", s.handleStream(frontend.ConsolidationEvents()))
	rt.handle(get, "/api/v1/monitoring/events", s.handleStream(frontend.AllEvents()))
	rt.handle(get, "/api/v1/monitoring/activations", s.handleStream(frontend.ActivationEvents()))
	rt.handle(get, "/api/v1/monitoring/causality", s.handleStream(frontend.CausalityEvents()))

	rt.handle(get, "/api/v1/system/health", s.handleSystemHealth)
	rt.handle(get, "/api/v1/system/introspect", s.handleIntrospect)
	rt.handle(post, "/api/v1/maintenance/compact", s.handleCompact)
	rt.handle(get, "/health", s.handleHealth)
	rt.handle(get, "/health/alive", s.handleAlive)
	rt.handle(get, "/health/spreading", s.handleSpreadingHealth)
	rt.handle(get, "/api/v1/system/spreading/config", s.handleSpreadingConfig)
	rt.handle(get, "/metrics", s.handleMetrics)
	rt.handle(get, "/metrics/prometheus", s.handleMetrics) // the Rust server's Prometheus path
	rt.handle(get, "/api/v1/cluster", s.handleCluster)
	rt.handle(post, "/api/v1/cluster/nodes/{node}/drain", s.handleDrain)
	rt.handle(post, "/shutdown", s.handleShutdown)
	rt.handle(get, "/openapi.json", s.handleOpenAPI)
	rt.handle(get, "/docs", s.handleDocs)
	rt.handle(get, "/docs/{asset}", s.handleDocs)
	return rt
}
