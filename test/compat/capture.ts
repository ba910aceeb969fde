import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** The exchanges recorded from a real Tiled 0.2.16 (see its README.md): data, kept byte for byte as recorded. */
export const CAPTURES = join(__dirname, 'fixtures', 'tiled-0.2.16');

/** The text of one capture file, e.g. `04-apikeys.txt`. */
export function captureText(file: string): string {
  return readFileSync(join(CAPTURES, file), 'utf8');
}

export type Header = [name: string, value: string];

/**
 * A recorded response body. Captures show bodies in four ways: full text, a hex dump of the first
 * 512 bytes (curl files), a hex preview of the first bytes (proxy files), or not at all.
 */
export type CapturedBody =
  | { kind: 'empty' }
  | { kind: 'text'; text: string; complete: boolean }
  | { kind: 'bytes'; prefix: Buffer; length: number }
  | { kind: 'omitted'; length: number };

export interface CapturedRequest {
  method: string;
  /** Path and query exactly as sent, e.g. `/api/v1/search/?page%5Boffset%5D=0`. */
  target: string;
  headers: Header[];
  body?: string;
}

export interface CapturedResponse {
  status: number;
  headers: Header[];
  body: CapturedBody;
}

export interface Exchange {
  /** File name without directory, e.g. `04-apikeys.txt`. */
  file: string;
  /** The `###` title (curl files) or `#N` (proxy files). */
  title: string;
  request: CapturedRequest;
  response: CapturedResponse;
}

export function header(headers: Header[], name: string): string | undefined {
  return headers.find(([n]) => n.toLowerCase() === name.toLowerCase())?.[1];
}

export function headersNamed(headers: Header[], name: string): string[] {
  return headers.filter(([n]) => n.toLowerCase() === name.toLowerCase()).map(([, v]) => v);
}

/** Split a shell command line the way bash would for the quoting curl's recorder used (backslashes, quotes). */
export function shellWords(line: string): string[] {
  const words: string[] = [];
  let current = '';
  let inWord = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (c === '\\' && i + 1 < line.length) {
      current += line[++i];
      inWord = true;
    } else if (c === "'") {
      const end = line.indexOf("'", i + 1);
      current += line.slice(i + 1, end);
      i = end;
      inWord = true;
    } else if (c === '"') {
      let j = i + 1;
      while (j < line.length && line[j] !== '"') {
        if (line[j] === '\\' && j + 1 < line.length) j++;
        current += line[j];
        j++;
      }
      i = j;
      inWord = true;
    } else if (c === ' ') {
      if (inWord) words.push(current);
      current = '';
      inWord = false;
    } else {
      current += c;
      inWord = true;
    }
  }
  if (inWord) words.push(current);
  return words;
}

/** The body curl sends for `-d a -d b` (joined with `&`, as curl does). */
export function curlBody(command: string): string | undefined {
  const words = shellWords(command.replace(/^\$ /, ''));
  const parts: string[] = [];
  for (let i = 0; i < words.length; i++) {
    if (['-d', '--data', '--data-binary', '--data-raw'].includes(words[i])) parts.push(words[++i]);
  }
  return parts.length ? parts.join('&') : undefined;
}

function parseHexDump(lines: string[]): Buffer {
  const hex = lines
    .map((l) => /^[0-9a-f]{8}: ((?:[0-9a-f]{2,4} ?)+)/.exec(l)?.[1] ?? '')
    .join('')
    .replace(/\s+/g, '');
  return Buffer.from(hex, 'hex');
}

/** `name: value` lines of a request or response head; anything else (blank, prose) is skipped. */
function parseHeaderLines(lines: string[]): Header[] {
  return lines
    .filter((l) => l.includes(':'))
    .map((l) => {
      const at = l.indexOf(':');
      return [l.slice(0, at), l.slice(at + 1).trim()];
    });
}

function parseRequestLines(lines: string[]): Omit<CapturedRequest, 'body'> {
  const [method, target] = lines[0].split(' ');
  const headers = parseHeaderLines(lines.slice(1));
  return { method, target, headers };
}

function parseResponseLines(lines: string[]): Omit<CapturedResponse, 'body'> {
  const status = Number(lines[0].split(' ')[1]);
  const headers = parseHeaderLines(lines.slice(1));
  return { status, headers };
}

/** A curl-style capture (01–24): `=====` separated sections of `###` title, `$ curl`, `>`, `<`, `--- body`. */
function parseCurlFile(file: string, text: string): Exchange[] {
  const exchanges: Exchange[] = [];
  for (const section of text.split(/^={20,}\n/m).slice(1)) {
    const lines = section.split('\n');
    const title = lines.find((l) => l.startsWith('### '))?.slice(4) ?? '';
    const command = lines.find((l) => l.startsWith('$ curl'));
    const requestLines = lines.filter((l) => l.startsWith('> ')).map((l) => l.slice(2)).filter((l) => l !== '');
    const responseLines = lines.filter((l) => l.startsWith('< ')).map((l) => l.slice(2)).filter((l) => l !== '');
    const bodyAt = lines.findIndex((l) => l.startsWith('--- body:'));
    if (!command || requestLines.length === 0 || responseLines.length === 0 || bodyAt < 0) continue;
    const marker = lines[bodyAt];
    // The last section of a file may be followed by the server's log (`----- log after requests …`).
    const logAt = lines.findIndex((l, i) => i > bodyAt && l.startsWith('----- '));
    const rest = lines.slice(bodyAt + 1, logAt < 0 ? undefined : logAt);
    let body: CapturedBody;
    const length = Number(/(\d+) bytes/.exec(marker)?.[1] ?? 0);
    if (marker.includes('(empty)')) body = { kind: 'empty' };
    else if (marker.includes('not reproduced')) body = { kind: 'omitted', length };
    else if (marker.includes('hex dump')) body = { kind: 'bytes', prefix: parseHexDump(rest), length };
    else body = { kind: 'text', text: rest.join('\n').replace(/\n+$/, ''), complete: true };
    exchanges.push({
      file,
      title,
      request: { ...parseRequestLines(requestLines), body: curlBody(command) },
      response: { ...parseResponseLines(responseLines), body },
    });
  }
  return exchanges;
}

function parsePreview(line: string): CapturedBody {
  const value = line.replace(/^(<<|>>) body: /, '');
  if (value === '(empty)') return { kind: 'empty' };
  const binary = /^<(\d+) bytes binary> ?([0-9a-f]*)/.exec(value);
  if (binary) return { kind: 'bytes', prefix: Buffer.from(binary[2], 'hex'), length: Number(binary[1]) };
  const truncated = /\.\.\.( \[\d+ bytes total\])?$/.exec(value);
  return { kind: 'text', text: truncated ? value.slice(0, truncated.index) : value, complete: !truncated };
}

/** A proxy-style capture (30, 32): `----- #N` blocks of `>` request, `>> body`, `<` response, `<< body`. */
function parseProxyFile(file: string, text: string): Exchange[] {
  const exchanges: Exchange[] = [];
  const start = Math.max(0, text.indexOf('########## HTTP exchanges'));
  for (const block of text.slice(start).split(/^----- /m).slice(1)) {
    const lines = block.split('\n');
    const title = lines[0].trim();
    const requestLines = lines.filter((l) => l.startsWith('> ')).map((l) => l.slice(2));
    const responseLines = lines.filter((l) => l.startsWith('< ')).map((l) => l.slice(2));
    const requestBody = lines.find((l) => l.startsWith('>> body: '));
    const responseBody = lines.find((l) => l.startsWith('<< body: '));
    if (requestLines.length === 0 || responseLines.length === 0) continue;
    const sent = requestBody ? parsePreview(requestBody) : undefined;
    exchanges.push({
      file,
      title,
      request: { ...parseRequestLines(requestLines), body: sent?.kind === 'text' ? sent.text : undefined },
      response: { ...parseResponseLines(responseLines), body: responseBody ? parsePreview(responseBody) : { kind: 'empty' } },
    });
  }
  return exchanges;
}

export function loadCapture(file: string): Exchange[] {
  const text = captureText(file);
  // 32 has no section banners: it is nothing but proxy blocks.
  return /^----- #\d+$/m.test(text) ? parseProxyFile(file, text) : parseCurlFile(file, text);
}

/** The client's printed session (the part of a 30-* file before the HTTP exchanges). */
export function clientTranscript(file: string): string {
  const text = captureText(file);
  return text.slice(0, text.indexOf('########## HTTP exchanges'));
}
