// Package httpreq provides the HTTP kinds: `http`, a request with any method
// and an optional text or JSON body, and `http.get`, a read-only GET that
// plan --discover may run. Both verify TLS by default, can trust a private
// CA (ca_file) or pin the server's certificate (pinned_sha256), and decode
// JSON responses into values later steps can index.
//
// Secrets stay secret: basic_auth is a sensitive argument, header values
// that carry credentials (Authorization, Cookie, tokens) are masked in plans
// whether or not they are marked, and every sensitive string is redacted
// from diagnostics, including excerpts of response bodies. The response is
// marked sensitive when the request's URL or body was (a server may echo
// them) or when it contains a secret verbatim; credentials alone do not
// taint it.
//
// The package does not own retries or timeouts (the runtime), nor the
// service-specific kinds built on HTTP (Ganeti RAPI, etcd).
package httpreq
