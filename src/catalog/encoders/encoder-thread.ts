import { parentPort } from 'node:worker_threads';
import { importEsm } from '../../common/esm';
import { writeHdf5 } from './hdf5-writer';
import { EncoderJob, replyForError } from './encoder-jobs';
import { ARRAY_BY_TYPE, TABLE_BY_TYPE } from './registry';
import { BLOSC_CONFIG } from './blosc-config';

/*
 * geotiff loads the web-worker package, which on any thread but the main one assumes it *is* one of its
 * own workers and reads workerData it was never given. Given a Worker global it uses that instead; geotiff
 * only instantiates it for its decoder pool, which writing never creates.
 */
const scope = globalThis as { Worker?: unknown };
if (typeof scope.Worker !== 'function') {
  scope.Worker = class {
    constructor() {
      throw new Error('Web workers are not available on an encoder thread');
    }
  };
}

interface BloscModule {
  default: { fromConfig(config: typeof BLOSC_CONFIG): { encode(data: Uint8Array): Promise<Uint8Array> } };
}

async function run(job: EncoderJob): Promise<Uint8Array> {
  switch (job.kind) {
    case 'array': {
      const encode = ARRAY_BY_TYPE.get(job.type)?.encode;
      if (!encode) throw new Error(`No array encoder for ${job.type}`);
      return encode(job.array);
    }
    case 'table': {
      const encode = TABLE_BY_TYPE.get(job.type)?.encode;
      if (!encode) throw new Error(`No table encoder for ${job.type}`);
      return encode(job.columns, job.partitions);
    }
    case 'hdf5':
      return writeHdf5(job.rootMetadata, job.items);
    case 'blosc': {
      const blosc = await importEsm<BloscModule>('numcodecs/blosc');
      return blosc.default.fromConfig(BLOSC_CONFIG).encode(job.bytes);
    }
  }
}

/** One encoder thread (encoder-pool.ts starts it): jobs in, encoded bytes (transferred, not copied) out. */
parentPort?.on('message', (message: { id: number; job: EncoderJob }) => {
  run(message.job).then(
    (body) => {
      // Small Buffers share Node's allocation pool, which cannot be transferred: copy those into a buffer of their own.
      const whole = body.byteOffset === 0 && body.byteLength === body.buffer.byteLength && !Buffer.isBuffer(body);
      const copy = whole ? body : new Uint8Array(body.buffer, body.byteOffset, body.byteLength).slice();
      parentPort?.postMessage({ id: message.id, body: copy }, [copy.buffer as ArrayBuffer]);
    },
    (error: unknown) => parentPort?.postMessage(replyForError(message.id, error)),
  );
});
