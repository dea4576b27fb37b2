// A stand-in for `liveagg worker --config FILE`: serves /readyz on the config's admin port, exits 0 on SIGTERM.
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';

const file = process.argv[process.argv.indexOf('--config') + 1];
const text = readFileSync(file, 'utf8');
const port = Number(/\n\s+port: (\d+)/.exec(text)[1]);
const server = createServer((req, res) => {
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ ok: true, path: req.url }));
});
server.listen(port, '127.0.0.1');
process.on('SIGTERM', () => server.close(() => process.exit(0)));
