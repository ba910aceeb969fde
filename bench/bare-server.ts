import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';

/**
 * The baseline of the benchmark: a bare `node:http` server that replays, byte for byte, the status,
 * headers and body the real server gave for each benchmarked URL. Whatever tiled-ts costs beyond this
 * is the price of Fastify, Nest, authentication and encoding.
 *
 * Usage: node dist/bench/bare-server.js <fixtures.json> <port>
 */
export interface RecordedResponse {
  url: string;
  status: number;
  /** Flat [name, value, name, value, …] as received (repeated set-cookie kept). */
  headers: string[];
  bodyBase64: string;
}

interface Prepared {
  status: number;
  headers: string[];
  body: Buffer;
}

function main(): void {
  const [fixturesPath, portText] = process.argv.slice(2);
  if (!fixturesPath) {
    process.stderr.write('usage: bare-server <fixtures.json> [port]\n');
    process.exit(2);
  }
  const recorded = JSON.parse(readFileSync(fixturesPath, 'utf8')) as RecordedResponse[];
  const byUrl = new Map<string, Prepared>();
  for (const entry of recorded) {
    byUrl.set(entry.url, { status: entry.status, headers: entry.headers, body: Buffer.from(entry.bodyBase64, 'base64') });
  }
  const notFound = Buffer.from('{"detail":"Not Found"}');
  const server = createServer((request, response) => {
    const hit = byUrl.get(request.url ?? '');
    if (!hit) {
      response.writeHead(404, { 'content-type': 'application/json', 'content-length': notFound.length });
      response.end(notFound);
      return;
    }
    response.writeHead(hit.status, hit.headers);
    response.end(hit.body);
  });
  server.keepAliveTimeout = 72_000;
  server.listen(Number(portText ?? 0), '127.0.0.1', () => {
    const address = server.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    process.stdout.write(`bare server listening on http://127.0.0.1:${port}\n`);
  });
  process.on('SIGTERM', () => server.close(() => process.exit(0)));
}

if (require.main === module) main();
