import { collectDefaultMetrics, Counter, Histogram, Registry } from 'prom-client';

export type AuthenticationMethod = 'apikey' | 'token' | 'single-user' | 'anonymous';
export type AuthenticationOutcome = 'accepted' | 'rejected';

type RequestLabel = 'method' | 'code' | 'endpoint';

/** prometheus_client's default buckets, which Tiled's duration histogram uses: its dashboards keep working. */
const DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10];
/** Tiled's `tiled_response_content_length_bytes` buckets: powers of ten from 1 B to 10 GB. */
const SIZE_BUCKETS = [1, 10, 100, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10];

/**
 * The Prometheus metrics of one app instance. Its own registry, not prom-client's global one, so two apps
 * in one process (tests, a host embedding tiled-ts) do not register the same metric twice.
 * No Nest decorators: the Fastify hook and the controller share this one object.
 */
export class HttpMetrics {
  private readonly registry = new Registry();
  private readonly duration: Histogram<RequestLabel>;
  private readonly size: Histogram<RequestLabel>;
  private readonly authentications: Counter<'method' | 'outcome'>;

  /** `methods`: the credential kinds this mode can see; their series exist at 0 before the first request. */
  constructor(methods: readonly AuthenticationMethod[]) {
    collectDefaultMetrics({ register: this.registry });
    const registers = [this.registry];
    this.duration = new Histogram({
      name: 'tiled_request_duration_seconds',
      help: 'request duration for all HTTP requests',
      labelNames: ['method', 'code', 'endpoint'],
      buckets: DURATION_BUCKETS,
      registers,
    });
    this.size = new Histogram({
      name: 'tiled_response_content_length_bytes',
      help: 'response size in bytes for all HTTP requests',
      labelNames: ['method', 'code', 'endpoint'],
      buckets: SIZE_BUCKETS,
      registers,
    });
    this.authentications = new Counter({
      name: 'tiled_authentications_total',
      help: 'credentials checked on routes that need them, by kind and outcome',
      labelNames: ['method', 'outcome'],
      registers,
    });
    for (const method of methods) {
      for (const outcome of ['accepted', 'rejected'] as const) this.authentications.inc({ method, outcome }, 0);
    }
  }

  /** `endpoint` must be a route pattern or another fixed string: every distinct value is a new series. */
  observeResponse(method: string, code: number, endpoint: string, seconds: number, bytes: number): void {
    const labels = { method, code: String(code), endpoint };
    this.duration.observe(labels, seconds);
    this.size.observe(labels, bytes);
  }

  countAuthentication(method: AuthenticationMethod, outcome: AuthenticationOutcome): void {
    this.authentications.inc({ method, outcome });
  }

  /** The text exposition format, with its content type. */
  async exposition(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}
