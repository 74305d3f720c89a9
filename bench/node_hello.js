'use strict'
// The ceiling: a plain node:http hello server (same body and headers as bench_apps.hello).
const http = require('node:http')
const port = Number(process.argv[2])
http.createServer((req, res) => {
  res.writeHead(200, { 'content-type': 'text/plain', 'content-length': 13 })
  res.end('Hello, world!')
}).listen(port, '127.0.0.1', () => process.send?.('ready'))
