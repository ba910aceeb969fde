import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { NumericArray } from '../tree/tree.types';
import { EncoderJob, EncoderReply, errorFromReply } from './encoder-jobs';

/** Two threads: a slow export (seconds for a large PNG or spreadsheet) must not queue every Zarr chunk behind it. */
const THREADS = 2;

interface Thread {
  worker: Worker;
  pending: Map<number, { resolve(body: Buffer): void; reject(error: Error): void }>;
}

const threads: Thread[] = [];
let nextId = 1;

function start(): Thread {
  const worker = new Worker(join(__dirname, 'encoder-thread.js'));
  const thread: Thread = { worker, pending: new Map() };
  worker.on('message', (reply: EncoderReply) => {
    const waiting = thread.pending.get(reply.id);
    if (!waiting) return;
    thread.pending.delete(reply.id);
    if (thread.pending.size === 0) worker.unref();
    if ('body' in reply) waiting.resolve(Buffer.from(reply.body.buffer, reply.body.byteOffset, reply.body.byteLength));
    else waiting.reject(errorFromReply(reply));
  });
  const fail = (error: Error): void => {
    threads.splice(threads.indexOf(thread), 1);
    for (const waiting of thread.pending.values()) waiting.reject(error);
    thread.pending.clear();
  };
  worker.on('error', fail);
  worker.on('exit', (code) => fail(new Error(`Encoder thread exited with code ${code}`)));
  // Idle encoder threads never keep a process alive; a thread with work is referenced until it answers.
  worker.unref();
  threads.push(thread);
  return thread;
}

/**
 * The view's bytes in a buffer of their own: posting a view to a thread clones its whole underlying
 * buffer, which for an adapter's block may be far larger than the part being encoded.
 */
export function ownBuffer<T extends NumericArray>(view: T): T {
  if (view.byteOffset === 0 && view.byteLength === view.buffer.byteLength && !Buffer.isBuffer(view)) return view;
  // A plain Uint8Array's slice copies (a Buffer's would not); a Buffer comes back as a plain Uint8Array.
  const bytes = new Uint8Array(view.buffer, view.byteOffset, view.byteLength).slice();
  const Typed = Buffer.isBuffer(view) ? Uint8Array : (view.constructor as new (buffer: ArrayBuffer) => T);
  return new Typed(bytes.buffer) as T;
}

/**
 * Run an encoding job on an encoder thread, so the event loop keeps serving other requests meanwhile.
 * The inputs are copied to the thread (typed arrays by structured clone); the result comes back transferred.
 */
export function encodeOffThread(job: EncoderJob): Promise<Buffer> {
  let thread = threads.reduce<Thread | undefined>((best, t) => (!best || t.pending.size < best.pending.size ? t : best), undefined);
  if (!thread || (thread.pending.size > 0 && threads.length < THREADS)) thread = start();
  const id = nextId++;
  const chosen = thread;
  return new Promise((resolve, reject) => {
    chosen.pending.set(id, { resolve, reject });
    chosen.worker.ref();
    chosen.worker.postMessage({ id, job });
  });
}
