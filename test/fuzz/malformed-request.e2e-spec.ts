import { connect } from 'node:net';
import { useDemoServer } from '../helpers/tiled-process';

/**
 * Requests refused before any route runs, found by the fuzz suite. Node's HTTP parser refusals were
 * answered in Fastify's own body shape without `Connection: close` and the socket destroyed, so a
 * keep-alive client sent its next request into a dead connection; a URL that is not valid
 * percent-encoded UTF-8 was quoted whole in the error, `?api_key=` included.
 */

/** Send raw requests on one connection, each once the previous one is answered; collect everything until the server closes it. */
function exchange(url: string, ...requests: string[]): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname);
    let received = '';
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`the server kept the connection open; received so far:\n${received}`));
    }, 10_000);
    let next = 0;
    const sendNext = (): void => {
      if (next < requests.length) socket.write(Buffer.from(requests[next++], 'latin1'));
    };
    socket.on('data', (chunk: Buffer) => {
      received += chunk.toString('latin1');
      if (responses(received).length === next && received.endsWith('}')) sendNext();
    });
    socket.on('error', (error) => {
      clearTimeout(timer);
      reject(new Error(`${error.message} after receiving:\n${received}`));
    });
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(received);
    });
    sendNext();
  });
}

function responses(text: string): { status: number; headers: string; body: string }[] {
  return text
    .split(/(?=HTTP\/1\.1 \d{3})/)
    .filter(Boolean)
    .map((response) => {
      const [head, body = ''] = response.split('\r\n\r\n');
      return { status: Number(head.slice(9, 12)), headers: head.toLowerCase(), body };
    });
}

describe('requests refused before any route runs', () => {
  const demo = useDemoServer();

  it('should answer a URL that is not valid UTF-8 with 400 without echoing the URL or its api_key', async () => {
    for (const path of ['/api/v1/metadata/%c0%af', '/api/v1/search/%ff/x', '/api/v1/metadata/%']) {
      const response = await fetch(`${demo.server.url}${path}?api_key=${demo.server.printedKey}`);
      const text = await response.text();
      expect({ path, status: response.status, body: JSON.parse(text) }).toEqual({ path, status: 400, body: { detail: 'Malformed request: the URL is not valid percent-encoded UTF-8' } });
      expect(text).not.toContain(demo.server.printedKey);
    }
  });

  it('should answer headers that are too large with 431 in Tiled shape, and close the connection', async () => {
    const text = await exchange(demo.server.url, `GET /api/v1/metadata/?x=${'x'.repeat(20_000)} HTTP/1.1\r\nHost: x\r\n\r\n`);
    const [answer, ...more] = responses(text);
    expect(answer.status).toBe(431);
    expect(answer.headers).toContain('connection: close');
    expect(JSON.parse(answer.body)).toEqual({ detail: 'Request line and headers are too large' });
    expect(more).toEqual([]);
  });

  it('should answer a malformed request after a kept-alive one with 400, and close the connection', async () => {
    const text = await exchange(demo.server.url, 'GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n', 'GET /api/v1/metadata/\xff\xfe HTTP/1.1\r\nHost: x\r\n\r\n');
    const [first, second] = responses(text);
    expect(first.status).toBe(200);
    expect(second.status).toBe(400);
    expect(second.headers).toContain('connection: close');
    expect(JSON.parse(second.body)).toEqual({ detail: 'Invalid HTTP request' });
  });

  it('should answer a malformed HEAD without a body', async () => {
    const [answer] = responses(await exchange(demo.server.url, 'HEAD /api/v1/metadata/\xff HTTP/1.1\r\nHost: x\r\n\r\n'));
    expect(answer.status).toBe(400);
    expect(answer.headers).toContain('connection: close');
    expect(answer.body).toBe('');
  });
});
