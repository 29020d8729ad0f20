/** Forwards one HTTP request to `upstream` and streams the answer back (test proxies put faults or auth in front of real servers). */
import http from 'node:http';

export function forward(req: http.IncomingMessage, res: http.ServerResponse, upstream: string, headers: http.IncomingHttpHeaders = req.headers): void {
  const target = new URL(upstream);
  const out = http.request({ host: target.hostname, port: target.port, method: req.method, path: req.url, headers }, (answer) => {
    res.writeHead(answer.statusCode ?? 502, answer.headers);
    answer.pipe(res);
  });
  out.on('error', (err) => {
    if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' });
    res.end(err.message);
  });
  req.pipe(out);
}
