import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { decode as decodeMsgpack } from '@msgpack/msgpack';
import { Float64, Int64, Table, tableFromIPC, tableToIPC, vectorFromArray } from 'apache-arrow';
import { RunningServer, startTiled } from '../helpers/tiled-process';
import { Header, header } from './capture';
import { csrfCookie, send } from './replay';

/** One write call of Tiled's Python client, as test/compat/fixtures/python-client-writes.json describes it. */
interface Exchange {
  call: string;
  source: string;
  request: { method: string; target: string; headers: Header[]; json?: unknown; float64?: number[]; arrow?: Record<string, ['int64' | 'float64', number[]]> };
  expect: { status: number; document?: unknown; absent?: string[]; float64?: number[]; arrow?: Record<string, number[]> };
}

const FIXTURE = JSON.parse(readFileSync(join(__dirname, 'fixtures', 'python-client-writes.json'), 'utf8')) as { defaultHeaders: Header[]; session: Exchange[] };
const KEY = 'b'.repeat(64);

/** pyarrow's Arrow file of a DataFrame: typed columns in the given order. */
function arrowFile(columns: Record<string, ['int64' | 'float64', number[]]>): Buffer {
  const vectors = Object.fromEntries(
    Object.entries(columns).map(([name, [type, values]]) => [name, type === 'int64' ? vectorFromArray(values.map(BigInt), new Int64()) : vectorFromArray(values, new Float64())]),
  );
  return Buffer.from(tableToIPC(new Table(vectors), 'file'));
}

/** A table structure's arrow_schema, given in the fixture as column types, as the client's data URI. */
function withSchemas(body: unknown): unknown {
  const json = JSON.parse(JSON.stringify(body)) as { data_sources?: { structure?: { arrow_schema?: unknown } }[] };
  for (const source of json.data_sources ?? []) {
    const schema = source.structure?.arrow_schema;
    if (schema && typeof schema === 'object') {
      const empty = arrowFile(Object.fromEntries(Object.entries(schema as Record<string, 'int64' | 'float64'>).map(([n, t]) => [n, [t, []]])));
      const stream = Buffer.from(tableToIPC(tableFromIPC(empty), 'stream'));
      source.structure!.arrow_schema = `data:application/vnd.apache.arrow.file;base64,${stream.toString('base64')}`;
    }
  }
  return json;
}

function placeholders(value: unknown, api: string): unknown {
  if (typeof value === 'string') return value.split('{api}').join(api);
  if (Array.isArray(value)) return value.map((v) => placeholders(v, api));
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, placeholders(v, api)]));
  return value;
}

/*
 * The write calls of Tiled 0.2.16's Python client, replayed request by request against a real
 * `tiled serve catalog --temp`: each answer must carry what the client reads from it. The fixture says,
 * for each exchange, which client source (or capture) the request comes from.
 */
describe('replay of the Python client write calls (python-client-writes.json)', () => {
  let server: RunningServer;
  let cookie: string | undefined;

  beforeAll(async () => {
    server = await startTiled(['serve', 'catalog', '--temp', '--api-key', KEY]);
  });
  afterAll(async () => {
    await server?.stop();
  });

  for (const exchange of FIXTURE.session) {
    it(`${exchange.call}: ${exchange.request.method} ${decodeURIComponent(exchange.request.target)}`, async () => {
      const { request, expect: wanted } = exchange;
      const headers: Header[] = [...FIXTURE.defaultHeaders, ['Authorization', `Apikey ${KEY}`]];
      if (cookie) headers.push(['Cookie', `tiled_csrf=${cookie}`]);
      for (const [name, value] of request.headers) {
        const at = headers.findIndex(([n]) => n.toLowerCase() === name.toLowerCase());
        if (at >= 0) headers.splice(at, 1);
        headers.push([name, value]);
      }
      let body: string | Buffer | undefined;
      if (request.json !== undefined) body = JSON.stringify(withSchemas(request.json));
      else if (request.float64) body = Buffer.from(Float64Array.from(request.float64).buffer);
      else if (request.arrow) body = arrowFile(request.arrow);
      const answer = await send(server.url, request.method, request.target, headers, body);
      cookie ??= csrfCookie(answer.headers);

      expect({ status: answer.status, body: answer.status === wanted.status ? '' : answer.body.toString('utf8').slice(0, 300) }).toEqual({ status: wanted.status, body: '' });
      const type = header(answer.headers, 'content-type')?.split(';')[0];
      if (wanted.document !== undefined) {
        // The client asked for msgpack and decodes what it gets by its content type.
        const document = type === 'application/x-msgpack' ? decodeMsgpack(answer.body) : JSON.parse(answer.body.toString('utf8'));
        if (wanted.document === null) expect(document).toBeNull();
        else expect(document).toMatchObject(placeholders(wanted.document, server.api) as Record<string, unknown>);
        for (const key of wanted.absent ?? []) expect(document).not.toHaveProperty(key);
      }
      if (wanted.float64) {
        expect(type).toBe('application/octet-stream');
        expect(Array.from(new Float64Array(answer.body.buffer.slice(answer.body.byteOffset, answer.body.byteOffset + answer.body.byteLength)))).toEqual(wanted.float64);
      }
      if (wanted.arrow) {
        expect(type).toBe('application/vnd.apache.arrow.file');
        const table = tableFromIPC(answer.body);
        expect(table.schema.fields.map((f) => f.name)).toEqual(Object.keys(wanted.arrow));
        for (const [name, values] of Object.entries(wanted.arrow)) expect(Array.from(table.getChild(name)!.toArray() as ArrayLike<number | bigint>, Number)).toEqual(values);
      }
    });
  }
});
