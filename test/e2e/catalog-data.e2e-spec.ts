import { tableFromIPC } from 'apache-arrow';
import { gunzipSync } from 'node:zlib';
import { request as httpRequest } from 'node:http';
import { useDemoServer } from '../helpers/tiled-process';

/** What the demo tree generates, recomputed here so the test does not trust the server. */
const small = Float64Array.from({ length: 100 }, (_, i) => i * 0.25);
const medium = Float64Array.from({ length: 10000 }, (_, i) => i);

/** fetch() always asks for gzip and hides it; plain node:http shows what went over the wire. */
function rawGet(url: string, headers: Record<string, string>): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: Buffer }> {
  return new Promise((resolve, reject) => {
    httpRequest(url, { headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
    })
      .on('error', reject)
      .end();
  });
}

describe('catalog data routes (tiled serve demo)', () => {
  const demo = useDemoServer();

  const get = (path: string, headers: Record<string, string> = {}): Promise<Response> => demo.get(path, headers);

  describe('GET /array/full and /array/block', () => {
    it('refuses a request without credentials, naming read:data', async () => {
      const response = await fetch(`${demo.server.api}/array/full/small`);
      expect(response.status).toBe(401);
      expect(response.headers.get('x-tiled-root')).toBe(demo.server.api);
    });

    it('sends the generated values byte-exact as octet-stream, also by default', async () => {
      for (const accept of ['application/octet-stream', '*/*']) {
        const response = await get('/array/full/small', { accept });
        expect(response.status).toBe(200);
        expect(response.headers.get('content-type')).toBe('application/octet-stream');
        expect(Buffer.from(await response.arrayBuffer())).toEqual(Buffer.from(small.buffer));
      }
    });

    it('sends the same numbers as JSON nested lists and header-less CSV', async () => {
      const json = await get('/array/full/small', { accept: 'application/json' });
      expect(json.headers.get('content-type')).toBe('application/json');
      const text = await json.text();
      expect(text.startsWith('[[0.0,0.25,0.5,')).toBe(true);
      expect((JSON.parse(text) as number[][]).flat()).toEqual([...small]);
      const csv = await get('/array/full/small', { accept: 'text/csv' });
      expect(csv.headers.get('content-type')).toBe('text/csv; charset=utf-8');
      const rows = (await csv.text()).trimEnd().split('\n');
      expect(rows).toHaveLength(10);
      expect(rows.flatMap((r) => r.split(',').map(Number))).toEqual([...small]);
    });

    it('honours ?format= aliases over Accept', async () => {
      const response = await get('/array/full/ints?format=json', { accept: '*/*' });
      expect(await response.text()).toBe('[0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19]');
      const csv = await get('/array/full/nested/vec?format=csv');
      expect(await csv.text()).toBe('1.5\n2.5\n3.5\n4.5\n5.5\n');
    });

    it('reads one block and slices within it', async () => {
      const block = await get('/array/block/medium?block=0,1', { accept: 'application/octet-stream' });
      const values = new Float64Array(new Uint8Array(await block.arrayBuffer()).buffer);
      expect(values).toHaveLength(2500);
      expect(values[0]).toBe(50);
      expect(values[2499]).toBe(4999);
      const sliced = await get('/array/block/medium?block=1,0&slice=0:2,0:3', { accept: 'application/json' });
      expect(await sliced.text()).toBe('[[5000.0,5001.0,5002.0],[5100.0,5101.0,5102.0]]');
    });

    it('assembles a sliced read across blocks, as the Python client asks for it', async () => {
      const response = await get('/array/full/medium?expected_shape=2%2C3&slice=%3A2%3A1%2C%3A3%3A1', { accept: 'application/octet-stream' });
      expect(response.status).toBe(200);
      expect([...new Float64Array(new Uint8Array(await response.arrayBuffer()).buffer)]).toEqual([0, 1, 2, 100, 101, 102]);
      const strided = await get('/array/full/medium?slice=-1,95::2', { accept: 'application/json' });
      expect(await strided.text()).toBe('[9995.0,9997.0,9999.0]');
      const whole = await get('/array/full/medium', { accept: 'application/octet-stream' });
      expect(Buffer.from(await whole.arrayBuffer())).toEqual(Buffer.from(medium.buffer));
    });

    it('serves every dtype with the right structure and bytes', async () => {
      const cases: [string, string, number, string][] = [
        ['arrays/float32_2d', 'f', 4, 'little'],
        ['arrays/int64_1d', 'i', 8, 'little'],
        ['arrays/int32_2d', 'i', 4, 'little'],
        ['arrays/uint8_image', 'u', 1, 'not_applicable'],
        ['arrays/bool_1d', 'b', 1, 'not_applicable'],
        ['nested/deeper/cube', 'f', 8, 'little'],
      ];
      for (const [path, kind, itemsize, endianness] of cases) {
        const meta = (await (await get(`/metadata/${path}`)).json()) as { data: { attributes: { structure: { data_type: Record<string, unknown>; shape: number[]; dims: unknown; resizable: boolean } } } };
        const structure = meta.data.attributes.structure;
        expect(structure.data_type).toEqual({ endianness, kind, itemsize, dt_units: null });
        expect(structure.resizable).toBe(false);
        expect(structure).toHaveProperty('dims');
        const bytes = Buffer.from(await (await get(`/array/full/${path}`, { accept: 'application/octet-stream' })).arrayBuffer());
        expect(bytes.length).toBe(structure.shape.reduce((a, b) => a * b, 1) * itemsize);
        const json = (await (await get(`/array/full/${path}`, { accept: 'application/json' })).json()) as unknown[];
        expect(json).toHaveLength(structure.shape[0]);
      }
      const ints = await get('/array/full/arrays/int64_1d?format=json');
      expect(await ints.json()).toEqual([-5000000035, -4000000028, -3000000021, -2000000014, -1000000007, 0, 1000000007, 2000000014, 3000000021, 4000000028]);
      const bools = await get('/array/full/arrays/bool_1d', { accept: 'application/json' });
      expect(await bools.json()).toEqual([true, false, false, true, false, false, true, false, false]);
    });

    it('serves the 8 MiB block of the benchmark array', async () => {
      const response = await get('/array/block/big?block=1,0', { accept: 'application/octet-stream' });
      expect(response.status).toBe(200);
      const values = new Float64Array(new Uint8Array(await response.arrayBuffer()).buffer);
      expect(values.length * 8).toBe(8 * 1024 * 1024);
      expect(values[0]).toBe(1024 / 1000);
      expect(values[1025]).toBe(1 + 1025 / 1000);
    });

    it('answers 304 to a matching If-None-Match', async () => {
      const first = await get('/array/block/small?block=0,0', { accept: 'application/octet-stream' });
      const etag = first.headers.get('etag')!;
      expect(etag).toMatch(/^[0-9a-f]{32}$/);
      const again = await get('/array/block/small?block=0,0', { accept: 'application/octet-stream', 'if-none-match': etag });
      expect(again.status).toBe(304);
    });

    it('gzips bodies of 1000 bytes or more only when asked, and not the 800-byte block', async () => {
      const plain = await rawGet(`${demo.server.api}/array/full/medium`, { ...demo.auth, accept: 'application/octet-stream' });
      expect(plain.headers['content-encoding']).toBeUndefined();
      const zipped = await rawGet(`${demo.server.api}/array/full/medium`, { ...demo.auth, accept: 'application/octet-stream', 'accept-encoding': 'gzip' });
      expect(zipped.headers['content-encoding']).toBe('gzip');
      expect(String(zipped.headers.vary)).toContain('Accept-Encoding');
      expect(gunzipSync(zipped.body)).toEqual(Buffer.from(medium.buffer));
      const tiny = await rawGet(`${demo.server.api}/array/full/small`, { ...demo.auth, accept: 'application/octet-stream', 'accept-encoding': 'gzip' });
      expect(tiny.headers['content-encoding']).toBeUndefined();
      expect(tiny.body.length).toBe(800);
    });

    it('adds Content-Disposition for ?filename=', async () => {
      const response = await get('/array/full/small?format=csv&filename=small.csv');
      expect(response.headers.get('content-disposition')).toBe('attachment; filename="small.csv"');
    });
  });

  describe('GET /table/partition and /table/full', () => {
    it('sends Arrow IPC files that apache-arrow reads with the right columns and rows', async () => {
      const full = await get('/table/full/table');
      expect(full.headers.get('content-type')).toBe('application/vnd.apache.arrow.file');
      const bytes = new Uint8Array(await full.arrayBuffer());
      expect(Buffer.from(bytes.subarray(0, 6)).toString()).toBe('ARROW1');
      const table = tableFromIPC(bytes);
      expect(table.schema.fields.map((f) => f.name)).toEqual(['x', 'y', 'name']);
      expect(table.numRows).toBe(6);
      expect(table.getChild('name')!.toArray()).toEqual(['a', 'b', 'c', 'd', 'e', 'f']);
      expect([...table.getChild('x')!.toArray()].map(Number)).toEqual([0, 1, 2, 3, 4, 5]);

      const partition = tableFromIPC(new Uint8Array(await (await get('/table/partition/table?partition=1', { accept: 'application/vnd.apache.arrow.file' })).arrayBuffer()));
      expect(partition.numRows).toBe(3);
      expect([...partition.getChild('y')!.toArray()]).toEqual([0.6000000000000001, 0.8, 1.0]);
    });

    it('reads a table of numbers, strings and booleans over four partitions', async () => {
      const meta = (await (await get('/metadata/tables/measurements')).json()) as { data: { attributes: { structure: { npartitions: number; columns: string[]; arrow_schema: string } } } };
      const structure = meta.data.attributes.structure;
      expect(structure.npartitions).toBe(4);
      expect(structure.arrow_schema.startsWith('data:application/vnd.apache.arrow.file;base64,')).toBe(true);
      let rows = 0;
      for (let i = 0; i < structure.npartitions; i++) {
        const part = tableFromIPC(new Uint8Array(await (await get(`/table/partition/tables/measurements?partition=${i}`)).arrayBuffer()));
        expect(part.schema.fields.map((f) => String(f.type))).toEqual(['Int64', 'Float64', 'Utf8', 'Bool']);
        rows += part.numRows;
      }
      const full = tableFromIPC(new Uint8Array(await (await get('/table/full/tables/measurements')).arrayBuffer()));
      expect(full.numRows).toBe(rows);
      expect(full.getChild('valid')!.get(3)).toBe(false);
    });

    it('sends CSV with a header, column-oriented JSON, and a column subset', async () => {
      const csv = await get('/table/full/table', { accept: 'text/csv' });
      expect(await csv.text()).toBe('x,y,name\n0,0.0,a\n1,0.2,b\n2,0.4,c\n3,0.6000000000000001,d\n4,0.8,e\n5,1.0,f\n');
      const json = await get('/table/partition/table?partition=1', { accept: 'application/json' });
      expect(await json.text()).toBe('{"x":[3,4,5],"y":[0.6000000000000001,0.8,1.0],"name":["d","e","f"]}');
      const subset = await get('/table/full/table?column=x&column=name', { accept: 'text/csv' });
      expect(await subset.text()).toBe('x,name\n0,a\n1,b\n2,c\n3,d\n4,e\n5,f\n');
    });

    it('exposes numeric columns as array children, as the client\'s df["x"] expects', async () => {
      const response = await get('/array/full/table/y', { accept: 'application/json' });
      expect(await response.json()).toEqual([0, 0.2, 0.4, 0.6000000000000001, 0.8, 1]);
    });
  });

  describe('GET /container/full', () => {
    it('exports the metadata tree as JSON', async () => {
      const response = await get('/container/full/nested', { accept: 'application/json' });
      expect(response.headers.get('content-type')).toBe('application/json');
      expect(await response.json()).toEqual({
        contents: { vec: { contents: {}, metadata: {} }, deeper: { contents: { cube: { contents: {}, metadata: { kind: 'cube' } } }, metadata: { level: 2 } } },
        metadata: { description: 'a nested container', sample: { id: 7, tags: ['x', 'y'] } },
      });
    });
  });
});
