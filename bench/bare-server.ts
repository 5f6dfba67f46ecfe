/**
 * HTTP ceiling: a bare node:http server that reads the whole request body and answers
 * 202 with a tiny JSON. Nothing is parsed or stored. Prints "READY <url>".
 */
import http from 'node:http';

const reply = JSON.stringify({ accepted: true });
const server = http.createServer((req, res) => {
  let bytes = 0;
  req.on('data', (d: Buffer) => (bytes += d.length));
  req.on('end', () => {
    res.writeHead(bytes > 0 ? 202 : 400, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(reply) });
    res.end(reply);
  });
});
server.keepAliveTimeout = 65_000;
server.listen(0, '127.0.0.1', () => {
  const a = server.address();
  if (typeof a === 'object' && a) process.stdout.write(`READY http://127.0.0.1:${a.port}\n`);
});
const stop = () => server.close(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
