'use strict'
// The incumbent, for `npm run bench` when it is installed: @platformatic/python-node serving a
// bench app behind node:http, the way its README shows (Python + Request → handleRequest).
//   node bench/platformatic_server.js MODULE:ATTR PORT [PATH_OF_THE_MODULE]
const http = require('node:http')
const path = require('node:path')

let Python, Request
try {
  ({ Python, Request } = require(process.argv[4] || '@platformatic/python-node'))
} catch (err) {
  // e.g. its prebuilt binary links libpython3.13, which Debian 12 does not have
  console.error(`cannot load @platformatic/python-node: ${(err.cause || err).message}`)
  process.exit(1)
}
const [appTarget, port] = [process.argv[2], Number(process.argv[3])]
const python = new Python({ docroot: path.join(__dirname, 'apps'), appTarget })

http.createServer((req, res) => {
  const chunks = []
  req.on('data', (c) => chunks.push(c))
  req.on('end', async () => {
    try {
      const headers = {}
      for (let i = 0; i < req.rawHeaders.length; i += 2) headers[req.rawHeaders[i]] = req.rawHeaders[i + 1]
      const response = await python.handleRequest(new Request({ method: req.method, url: req.url, headers, body: Buffer.concat(chunks) }))
      const out = []
      for (const [name, value] of response.headers.entries()) out.push(name, value)
      res.writeHead(response.status, out)
      res.end(response.body ?? undefined)
    } catch (err) {
      res.writeHead(500)
      res.end(String(err && err.message))
    }
  })
}).listen(port, '127.0.0.1')
