package server

import (
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/adaptor"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics are the server's Prometheus series, on a registry of its own so two
// servers in one process (tests) never collide. Packages below server receive
// the collectors they increment (SyncChanges, PushResults, ...) as plain
// prometheus types, so they need not import this package.
type Metrics struct {
	Registry *prometheus.Registry

	Requests *prometheus.CounterVec   // method, route, status
	Latency  *prometheus.HistogramVec // method, route, status

	SyncChanges        prometheus.Counter     // changes served by pull
	PushResults        *prometheus.CounterVec // status: applied, merged, conflict, rejected
	ConflictsOpened    prometheus.Counter
	OldestTxAgeSeconds prometheus.Gauge // age of the oldest open Postgres transaction
	// PullStages times the stages of a pull (stage: begin, bound, read, stamp, or
	// fast for a pull answered from memory; empty: whether the page had no
	// changes), to find where an idle poll's time goes.
	PullStages *prometheus.HistogramVec
}

// NewMetrics registers every series on a fresh registry.
func NewMetrics() *Metrics {
	reg := prometheus.NewRegistry()
	m := &Metrics{
		Registry: reg,
		Requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "fieldsync_http_requests_total", Help: "HTTP requests by method, route template and status.",
		}, []string{"method", "route", "status"}),
		Latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "fieldsync_http_request_duration_seconds", Help: "HTTP request latency by method, route template and status.",
			Buckets: []float64{.001, .0025, .005, .01, .02, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"method", "route", "status"}),
		SyncChanges: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "fieldsync_sync_changes_total", Help: "Changes served to devices by pull.",
		}),
		PushResults: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "fieldsync_push_results_total", Help: "Pushed mutations by result status.",
		}, []string{"status"}),
		ConflictsOpened: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "fieldsync_conflicts_opened_total", Help: "Conflict records opened by pushes.",
		}),
		OldestTxAgeSeconds: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "fieldsync_oldest_transaction_age_seconds", Help: "Age of the oldest open database transaction; it delays pulls.",
		}),
	}
	m.PullStages = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "fieldsync_pull_stage_seconds", Help: "Time of each stage of a pull: begin (a connection from the pool and BEGIN of the snapshot transaction), bound (the pull bound, its first statement), read (the rest of the snapshot transaction, COMMIT included), stamp (the device's last-pull stamp); fast (a caught-up pull answered from memory, no database: the whole pull).",
		Buckets: []float64{.0005, .001, .0025, .005, .01, .02, .05, .1, .25, .5, 1, 2.5},
	}, []string{"stage", "empty"})
	reg.MustRegister(m.Requests, m.Latency, m.SyncChanges, m.PushResults, m.ConflictsOpened, m.OldestTxAgeSeconds, m.PullStages,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

func (m *Metrics) observe(method, route string, status int, d time.Duration) {
	s := strconv.Itoa(status)
	m.Requests.WithLabelValues(method, route, s).Inc()
	m.Latency.WithLabelValues(method, route, s).Observe(d.Seconds())
}

// handler serves the registry in the Prometheus text format.
func (m *Metrics) handler() fiber.Handler {
	return adaptor.HTTPHandler(promhttp.HandlerFor(m.Registry, promhttp.HandlerOpts{}))
}
