/**
 * A worker thread that reads or decodes files for an adapter, supervised: started on first use, kept
 * out of the way of process exit while idle, and replaced when it exits, throws or spends longer than
 * `timeoutMs` on one request. Every failure reaches the caller as an AdapterError naming the file, so
 * a bad file fails its own node and never the server.
 *
 * The thread answers each `{ id, … }` request with `{ id, ok: true, … }` or `{ id, ok: false, message, code? }`.
 */
import { Worker } from 'node:worker_threads';
import { AdapterError } from './adapter.types';
import { fileError } from './array-support';

export type ThreadResponse<T> = ({ id: number; ok: true } & T) | { id: number; ok: false; message: string; code?: string };

export interface ReaderThreadOptions {
  /** The built script the thread runs. */
  workerPath: string;
  /** What users are told stopped, e.g. "HDF5 reader". */
  label: string;
  timeoutMs?: number;
}

/** A request that takes longer than this means the library is stuck on a pathological file. */
const DEFAULT_TIMEOUT_MS = 60_000;

interface Pending<T> {
  resolve: (response: { id: number; ok: true } & T) => void;
  reject: (error: AdapterError) => void;
  name: string;
  timer: NodeJS.Timeout;
}

export class ReaderThread<Request extends object, Result extends object> {
  private worker: Worker | undefined;
  private nextId = 1;
  private readonly pending = new Map<number, Pending<Result>>();
  private readonly timeoutMs: number;

  constructor(private readonly options: ReaderThreadOptions) {
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  }

  /** Sends one request; `name` is how the file is shown to users in any error. */
  request(body: Request, name: string): Promise<{ id: number; ok: true } & Result> {
    const worker = this.start();
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => this.fail(worker, `${name}: Reading took longer than ${this.timeoutMs / 1000} s; the ${this.options.label} was restarted`), this.timeoutMs);
      timer.unref();
      this.pending.set(id, { resolve, reject, name, timer });
      worker.ref();
      worker.postMessage({ ...body, id });
    });
  }

  private start(): Worker {
    if (this.worker) return this.worker;
    const worker = new Worker(this.options.workerPath);
    worker.on('message', (response: ThreadResponse<Result>) => {
      const entry = this.pending.get(response.id);
      if (!entry) return;
      this.pending.delete(response.id);
      clearTimeout(entry.timer);
      if (this.pending.size === 0) worker.unref();
      if (response.ok) entry.resolve(response);
      else entry.reject(fileError(entry.name, Object.assign(new Error(response.message), { code: response.code })));
    });
    worker.on('error', (error) => this.fail(worker, `The ${this.options.label} failed (${error.message.split('\n')[0]})`));
    worker.on('exit', (code) => this.fail(worker, `The ${this.options.label} stopped (exit code ${code}) while reading this file; it restarts for the next request`));
    // An idle reader must not keep a CLI or test process alive.
    worker.unref();
    this.worker = worker;
    return worker;
  }

  /** Rejects everything in flight on `worker` and forgets it, so the next request starts a fresh one. */
  private fail(worker: Worker, reason: string): void {
    if (this.worker !== worker) return;
    this.worker = undefined;
    void worker.terminate();
    for (const [id, entry] of this.pending) {
      clearTimeout(entry.timer);
      entry.reject(new AdapterError(reason.startsWith(entry.name) ? reason : `${entry.name}: ${reason}`, 500));
      this.pending.delete(id);
    }
  }
}
