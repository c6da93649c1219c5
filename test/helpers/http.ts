import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { request as httpsRequest } from 'node:https';

export interface HttpReply {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

/**
 * One real HTTP(S) request on a fresh connection (no agent, so no socket outlives the test); the reply
 * body is read whole, as UTF-8 text. Self-signed certificates are accepted.
 */
export function httpExchange(
  target: URL | { readonly port: number; readonly path: string },
  opts: { method: string; headers?: Record<string, string> },
  body?: Buffer | string,
): Promise<HttpReply> {
  // A port and path go to 127.0.0.1 as they are: a URL would normalise the odd paths some tests send.
  const https = target instanceof URL && target.protocol === 'https:';
  const where =
    target instanceof URL
      ? { host: target.hostname, port: target.port, path: `${target.pathname}${target.search}` }
      : { host: '127.0.0.1', port: target.port, path: target.path };
  const request = https ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = request(
      {
        ...where,
        method: opts.method,
        headers: opts.headers,
        agent: false,
        rejectUnauthorized: false,
      },
      res => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks).toString('utf8'),
          }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}
