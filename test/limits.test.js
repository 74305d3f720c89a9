'use strict'
// Limits refuse requests before the app sees them: 503 beyond limitConcurrency, 413 above
// maxRequestBodySize, 431 above maxHeaderCount; the CLI closes connections that send no complete
// head in time and answers malformed HTTP with 400, staying healthy afterwards.
const { test } = require('node:test')
const assert = require('node:assert/strict')
const { spawn } = require('node:child_process')
const path = require('node:path')
const { startServer, rawRequest, native } = require('./helpers')

const ROOT = path.join(__dirname, '..')

test('limitConcurrency: requests beyond the limit get an immediate 503', async (t) => {
  const server = await startServer('raw_apps:long_poll', { limitConcurrency: 2 })
  t.after(() => server.close())
  const slow = [fetch(`${server.url}/?seconds=1`), fetch(`${server.url}/?seconds=1`)]
  await new Promise((resolve) => setTimeout(resolve, 200))
  const t0 = Date.now()
  const refused = await fetch(`${server.url}/?seconds=0`)
  assert.equal(refused.status, 503)
  assert.equal(await refused.text(), 'Service Unavailable')
  assert.ok(Date.now() - t0 < 500, 'refused at once')
  for (const r of await Promise.all(slow)) assert.equal(r.status, 200)
  assert.equal((await fetch(`${server.url}/?seconds=0`)).status, 200, 'served again below the limit')
})

test('maxRequestBodySize: a larger Content-Length gets 413 and the app sees nothing', async (t) => {
  const server = await startServer('raw_apps:echo', { maxRequestBodySize: 100 })
  t.after(() => server.close())
  const res = await fetch(server.url, { method: 'POST', body: Buffer.alloc(101, 'a') })
  assert.equal(res.status, 413)
  assert.equal(res.headers.get('connection'), 'close')
  const ok = await fetch(server.url, { method: 'POST', body: Buffer.alloc(100, 'a') })
  assert.equal(ok.status, 200)
  assert.equal((await ok.arrayBuffer()).byteLength, 100)
})

test('maxRequestBodySize: a chunked body growing past it gets 413', async (t) => {
  const server = await startServer('raw_apps:upload_count', { maxRequestBodySize: 1000 })
  t.after(() => server.close())
  const body = '400\r\n' + 'a'.repeat(1024) + '\r\n400\r\n' + 'b'.repeat(1024) + '\r\n0\r\n\r\n'
  const r = await rawRequest(server.port, `POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n${body}`)
  assert.match(r.data.toString('latin1'), /^HTTP\/1\.1 413 /)
  assert.ok(r.ended, 'the connection is closed')
})

test('maxHeaderCount: more header fields than allowed get 431', async (t) => {
  const server = await startServer('raw_apps:hello', { maxHeaderCount: 20 })
  t.after(() => server.close())
  const headers = {}
  for (let i = 0; i < 21; i++) headers[`x-h${i}`] = String(i)
  assert.equal((await fetch(server.url, { headers })).status, 431)
  assert.equal((await fetch(server.url)).status, 200)
})

async function startCli (args) {
  const child = spawn(process.execPath, [path.join(ROOT, 'bin/node-asgi.js'), 'raw_apps:hello', '--app-dir', path.join(ROOT, 'fixtures'), '--port', '0', '--no-access-log', ...args], { stdio: ['ignore', 'ignore', 'pipe'] })
  let err = ''
  const port = await new Promise((resolve, reject) => {
    child.stderr.on('data', (d) => {
      err += d
      const m = /running on http:\/\/127\.0\.0\.1:(\d+)/.exec(err)
      if (m) resolve(Number(m[1]))
    })
    child.on('exit', (code) => reject(new Error(`CLI exited ${code}: ${err}`)))
    setTimeout(() => reject(new Error(`CLI did not start: ${err}`)), 15000)
  })
  return { child, port, stop: () => { child.kill('SIGKILL') } }
}

test('CLI: a connection that sends no complete head within --timeout-headers is closed', async (t) => {
  const cli = await startCli(['--timeout-headers', '1'])
  t.after(cli.stop)
  const t0 = Date.now()
  const r = await rawRequest(cli.port, 'GET / HTTP/1.1\r\nHost: x\r\n', { timeoutMs: 8000 })
  assert.ok(r.ended && !r.timedOut, 'closed by the server')
  assert.ok(Date.now() - t0 >= 900 && Date.now() - t0 < 7000, `closed after ${Date.now() - t0} ms`)
})

test('CLI: malformed requests get 400 and the connection closed; the server stays healthy', async (t) => {
  const cli = await startCli([])
  t.after(cli.stop)
  const malformed = {
    'bad method token': 'G@T / HTTP/1.1\r\nHost: x\r\n\r\n',
    'bad version': 'GET / HTTP/9.1\r\nHost: x\r\n\r\n',
    'space in target': 'GET /a b HTTP/1.1\r\nHost: x\r\n\r\n',
    'Content-Length with Transfer-Encoding': 'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
    'conflicting Content-Length': 'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd',
    'bad chunk framing': 'POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nab\r\n0\r\n\r\n',
    'control byte in a header value': 'GET / HTTP/1.1\r\nHost: x\r\nX-A: a\x01b\r\n\r\n'
  }
  for (const [name, request] of Object.entries(malformed)) {
    const r = await rawRequest(cli.port, request)
    assert.match(r.data.toString('latin1'), /^HTTP\/1\.1 400 /, name)
    assert.ok(r.ended, `${name}: connection closed`)
  }
  const res = await fetch(`http://127.0.0.1:${cli.port}/`)
  assert.equal(res.status, 200)
})

test('CLI: a request head above --max-header-size gets 431', async (t) => {
  const cli = await startCli(['--max-header-size', '4096'])
  t.after(cli.stop)
  const r = await rawRequest(cli.port, `GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(5000)}\r\n\r\n`)
  assert.match(r.data.toString('latin1'), /^HTTP\/1\.1 431 /)
})

test(`${native ? 'handler.listen()' : 'handler.createServer()'}: serves requests and WebSockets with the header timeout and size limits`, async (t) => {
  const { PythonHandler } = require('..')
  const WebSocket = require('ws')
  const handler = new PythonHandler({ app: 'ws_echo:app', appDir: path.join(ROOT, 'fixtures'), logger: { error () {}, warn () {}, info () {} } })
  await handler.start()
  let server
  if (native) {
    server = await handler.listen({ port: 0, host: '127.0.0.1', timeoutHeaders: 1, maxHeaderSize: 4096 })
  } else {
    server = handler.createServer({ timeoutHeaders: 1, maxHeaderSize: 4096 })
    server.listen(0, '127.0.0.1')
    await new Promise((resolve) => server.once('listening', resolve))
  }
  t.after(async () => {
    server.closeAllConnections()
    await new Promise((resolve) => server.close(resolve))
    await handler.close()
  })
  const { port } = server.address()
  const ws = new WebSocket(`ws://127.0.0.1:${port}/`)
  await new Promise((resolve, reject) => { ws.once('open', resolve); ws.once('error', reject) })
  ws.send('ping')
  const [reply] = await new Promise((resolve) => ws.once('message', (...args) => resolve(args)))
  assert.ok(reply.toString().includes('ping'))
  ws.close()
  const big = await rawRequest(port, `GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(5000)}\r\n\r\n`)
  assert.match(big.data.toString('latin1'), /^HTTP\/1\.1 431 /)
  const slow = await rawRequest(port, 'GET / HTTP/1.1\r\nHost: x\r\n', { timeoutMs: 8000 })
  assert.ok(slow.ended && !slow.timedOut, 'an incomplete head is cut off by the header timeout')
  if (native) await assert.rejects(handler.listen({ timeoutHeaders: 0 }), /'timeoutHeaders'/)
  else assert.throws(() => handler.createServer({ timeoutHeaders: 0 }), /'timeoutHeaders'/)
})
