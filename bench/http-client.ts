import { Agent, request as httpRequest } from 'node:http';

/*
 * The benchmarks' HTTP client. The figures are about the server, so the client should cost as little as
 * possible: node:http with a keep-alive agent, reading a body with a Content-Length straight into one buffer
 * of that size. `fetch` (undici) spends about twice as long on an 8 MB body on this machine (docs/benchmarks.md,
 * "The benchmarks' client"); BENCH_CLIENT=fetch runs every HTTP case with it instead, to compare.
 */

export interface BenchResponse {
  status: number;
  ok: boolean;
  body: Buffer;
}

export interface BenchRequest {
  method?: string;
  headers?: Record<string, string>;
  body?: Uint8Array | string;
}

const agent = new Agent({ keepAlive: true, maxSockets: 64 });

export const BENCH_CLIENT = process.env.BENCH_CLIENT === 'fetch' ? 'fetch' : 'node:http';

function viaNodeHttp(url: string, options: BenchRequest): Promise<BenchResponse> {
  const body = typeof options.body === 'string' ? Buffer.from(options.body) : options.body;
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method: options.method ?? 'GET', agent, headers: { ...options.headers, ...(body ? { 'content-length': String(body.byteLength) } : {}) } }, (response) => {
      const declared = Number(response.headers['content-length']);
      const sized = Number.isSafeInteger(declared) && declared >= 0;
      const whole = sized ? Buffer.allocUnsafe(declared) : undefined;
      const chunks: Buffer[] = [];
      let received = 0;
      response.on('data', (chunk: Buffer) => {
        if (whole) chunk.copy(whole, received);
        else chunks.push(chunk);
        received += chunk.length;
      });
      response.on('end', () => {
        const status = response.statusCode ?? 0;
        resolve({ status, ok: status >= 200 && status < 300, body: whole ? whole.subarray(0, received) : Buffer.concat(chunks, received) });
      });
      response.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

async function viaFetch(url: string, options: BenchRequest): Promise<BenchResponse> {
  const response = await fetch(url, { method: options.method, headers: options.headers, body: options.body });
  return { status: response.status, ok: response.ok, body: Buffer.from(await response.arrayBuffer()) };
}

/** One request with the benchmarks' client; the whole body is read before this resolves. */
export function benchRequest(url: string, options: BenchRequest = {}): Promise<BenchResponse> {
  return BENCH_CLIENT === 'fetch' ? viaFetch(url, options) : viaNodeHttp(url, options);
}

/** Lets a benchmark process exit once its cases are done (the keep-alive sockets would hold it). */
export function closeBenchClient(): void {
  agent.destroy();
}
