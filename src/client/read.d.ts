declare module 'read' {
  interface ReadOptions {
    prompt?: string;
    silent?: boolean;
    replace?: string;
    input?: NodeJS.ReadableStream;
    output?: NodeJS.WritableStream;
    terminal?: boolean;
    default?: string;
    timeout?: number;
  }
  function read(options: ReadOptions): Promise<string>;
  export = read;
}
