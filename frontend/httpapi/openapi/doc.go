// Package openapi holds the OpenAPI 3.1 document of the HTTP API and the static files of
// its interactive documentation page (Swagger UI), both embedded in the binary.
//
// openapi.json is the contract as programs read it: every route of frontend/httpapi, its
// parameters, bodies, answers and the one error shape. It is not generated from the code;
// the end-to-end tests validate every request they send and every answer they receive
// against it (internal/apicheck), so a route or field that drifts from it fails the suite.
package openapi
