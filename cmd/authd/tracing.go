package main

import (
	"context"
	"log/slog"
	"os"

	"github.com/redis/go-redis/v9"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/extra/bunotel"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
	"go.uber.org/fx"

	"github.com/authd/authd/adapters/config"
	"github.com/authd/authd/adapters/httpfiber"
	"github.com/authd/authd/core/tokens"
)

// tracingOption exports OpenTelemetry traces over OTLP/HTTP when the
// standard OTEL_EXPORTER_OTLP_ENDPOINT (or _TRACES_ENDPOINT) is set; the
// exporter reads the other OTEL_* variables itself. Spans: one per HTTP
// request (named by method and route pattern), one per Postgres query
// (bunotel) and one per Redis command or pipeline.
func tracingOption(getenv func(string) string) fx.Option {
	if getenv("OTEL_EXPORTER_OTLP_ENDPOINT") == "" && getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") == "" {
		return fx.Options()
	}
	return fx.Options(
		fx.Provide(func(lc fx.Lifecycle) (trace.TracerProvider, error) {
			exp, err := otlptracehttp.New(context.Background())
			if err != nil {
				return nil, err
			}
			res := resource.Default()
			if getenv("OTEL_SERVICE_NAME") == "" {
				res, _ = resource.Merge(res, resource.NewSchemaless(attribute.String("service.name", "authd")))
			}
			tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp), sdktrace.WithResource(res))
			// bunotel and anything else reading the global provider.
			otel.SetTracerProvider(tp)
			lc.Append(fx.StopHook(tp.Shutdown))
			return tp, nil
		}),
		fx.Invoke(func(p tracedStores) {
			if p.DB != nil {
				p.DB.AddQueryHook(bunotel.NewQueryHook())
			}
			if p.Redis != nil {
				p.Redis.AddHook(redisSpans{p.TP.Tracer("authd/redis")})
			}
		}),
	)
}

type tracedStores struct {
	fx.In
	TP    trace.TracerProvider
	DB    *bun.DB               `optional:"true"`
	Redis redis.UniversalClient `optional:"true"`
}

// observers are the optional per-request hooks of the HTTP adapter.
type observers struct {
	fx.In
	Metrics *httpMetrics         `optional:"true"`
	Tracer  trace.TracerProvider `optional:"true"`
}

// withObservers wraps the provider of httpfiber.Options: metrics and traces
// see every request when they are on.
func withObservers(provide func(config.Config, *slog.Logger, *tokens.Service) httpfiber.Options) func(config.Config, *slog.Logger, *tokens.Service, observers) httpfiber.Options {
	return func(cfg config.Config, log *slog.Logger, jwt *tokens.Service, obs observers) httpfiber.Options {
		o := provide(cfg, log, jwt)
		if obs.Metrics != nil {
			o.Observe = obs.Metrics.observe
		}
		if obs.Tracer != nil {
			o.Trace = httpSpans(obs.Tracer.Tracer("authd/http"))
		}
		return o
	}
}

// tracingEnv is the process environment for tracingOption.
var tracingEnv = os.Getenv

func httpSpans(tr trace.Tracer) func(ctx context.Context, method string) (context.Context, func(string, int)) {
	return func(ctx context.Context, method string) (context.Context, func(string, int)) {
		ctx, span := tr.Start(ctx, method, trace.WithSpanKind(trace.SpanKindServer))
		return ctx, func(route string, status int) {
			span.SetName(method + " " + route)
			span.SetAttributes(attribute.String("http.request.method", method), attribute.String("http.route", route),
				attribute.Int("http.response.status_code", status))
			if status >= 500 {
				span.SetStatus(codes.Error, "")
			}
			span.End()
		}
	}
}

// redisSpans is a go-redis hook: one client span per command or pipeline,
// named by the command; arguments (tokens) are never recorded.
type redisSpans struct{ tr trace.Tracer }

func (h redisSpans) DialHook(next redis.DialHook) redis.DialHook { return next }

func (h redisSpans) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		ctx, span := h.tr.Start(ctx, "redis "+cmd.Name(), trace.WithSpanKind(trace.SpanKindClient))
		defer span.End()
		err := next(ctx, cmd)
		if err != nil && err != redis.Nil {
			span.SetStatus(codes.Error, err.Error())
		}
		return err
	}
}

func (h redisSpans) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		ctx, span := h.tr.Start(ctx, "redis pipeline", trace.WithSpanKind(trace.SpanKindClient),
			trace.WithAttributes(attribute.Int("db.operation.batch.size", len(cmds))))
		defer span.End()
		err := next(ctx, cmds)
		if err != nil && err != redis.Nil {
			span.SetStatus(codes.Error, err.Error())
		}
		return err
	}
}
