'use strict'
// node-asgi/fastify with real Fastify 5: the app under a prefix with root_path, raw bodies and
// responses streamed, WebSockets on Fastify's server, Fastify's own routes and 404s beside it,
// lifecycle with fastify.close(), and bad options.
const test = require('node:test')
const assert = require('node:assert/strict')
const http = require('node:http')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { once } = require('node:events')
const Fastify = require('fastify')
const WebSocket = require('ws')
const nodeAsgi = require('../lib/fastify')
const { PythonHandler, PythonError } = require('..')
const { FIXTURES, captureLogger, rawRequest, parseResponse, decodeChunked } = require('./helpers')

const APP = 'fastify_plugin_app:app'
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'node-asgi-fastify-'))
const shutdownLog = path.join(tmp, 'shutdown.log')
process.env.NODE_ASGI_TEST_SHUTDOWN_LOG = shutdownLog // read by the app at lifespan shutdown

let fastify
let base
let provided // a handler the test owns, mounted at /other
const sockets = new Set()

test.before(async () => {
  provided = new PythonHandler({ app: APP, appDir: FIXTURES, logger: captureLogger(), rootPath: '/outer' })
  fastify = Fastify()
  fastify.get('/', async () => 'fastify home')
  fastify.post('/js-echo', async (request) => ({ parsed: request.body }))
  fastify.addHook('onRequest', async (request, reply) => {
    if (request.headers['x-deny'] !== undefined) return reply.code(401).send({ denied: true })
  })
  await fastify.register(nodeAsgi, { prefix: '/api', app: APP, appDir: FIXTURES, logger: captureLogger() })
  await fastify.register(nodeAsgi, { prefix: '/other', handler: provided })
  await fastify.listen({ port: 0, host: '127.0.0.1' })
  base = `http://127.0.0.1:${fastify.server.address().port}`
})

test.after(async () => {
  for (const ws of sockets) ws.terminate()
  await fastify?.close()
  await provided?.close()
  fs.rmSync(tmp, { recursive: true, force: true })
})

const get = (p, init = {}) => fetch(base + p, { signal: AbortSignal.timeout(20000), ...init })

async function openWebSocket (url) {
  const ws = new WebSocket(url)
  sockets.add(ws)
  ws.on('close', () => sockets.delete(ws))
  const first = once(ws, 'message')
  await once(ws, 'open')
  const [data] = await first
  return { ws, hello: JSON.parse(String(data)) }
}

test('requests under the prefix reach the app with root_path = the prefix', async () => {
  const res = await get('/api/scope?x=1&y=%20')
  assert.equal(res.status, 200)
  assert.deepEqual(await res.json(), { path: '/api/scope', raw_path: '/api/scope', root_path: '/api', query_string: 'x=1&y=%20', method: 'GET' })
  const post = await get('/api/scope', { method: 'DELETE' })
  assert.equal((await post.json()).method, 'DELETE')
  for (const p of ['/api', '/api/', '/api?q=1', '/api/missing']) {
    const bare = await get(p)
    assert.equal(bare.status, 404, p)
    assert.equal(await bare.text(), 'app 404\n', `${p} is answered by the app`)
  }
})

test("a given handler's rootPath comes before the prefix", async () => {
  const res = await get('/other/scope')
  assert.deepEqual(await res.json(), { path: '/outer/other/scope', raw_path: '/outer/other/scope', root_path: '/outer/other', query_string: '', method: 'GET' })
})

test("Fastify's own routes and body parsing still work beside the mount", async () => {
  assert.equal(await (await get('/')).text(), 'fastify home')
  const res = await get('/js-echo', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"a":[1,2]}' })
  assert.deepEqual(await res.json(), { parsed: { a: [1, 2] } })
})

test("the parent context's hooks run before the app (an onRequest hook answers 401 instead)", async () => {
  const denied = await get('/api/scope', { headers: { 'x-deny': '1' } })
  assert.equal(denied.status, 401)
  assert.deepEqual(await denied.json(), { denied: true })
})

test("paths outside the prefix get Fastify's 404, not the app's", async () => {
  for (const p of ['/apix/scope', '/nothing', '/ap']) {
    const res = await get(p)
    assert.equal(res.status, 404, p)
    const body = await res.json()
    assert.equal(body.message, `Route GET:${p} not found`)
  }
})

test('a large upload streams to the app unparsed: the app answers before the client finished sending', { timeout: 60000 }, async () => {
  const first = Buffer.alloc(64 * 1024, 'a')
  const chunk = Buffer.alloc(256 * 1024, 'b')
  const rounds = 40 // 10 MiB after the first chunk: 10× Fastify's default bodyLimit
  const req = http.request(`${base}/api/upload`, { method: 'POST', headers: { 'content-type': 'application/json', 'transfer-encoding': 'chunked' } })
  req.write(first)
  const [res] = await once(req, 'response') // only possible if the body is not buffered first
  assert.equal(res.status ?? res.statusCode, 200)
  res.setEncoding('utf8')
  let text = ''
  const firstLine = new Promise((resolve) => res.on('data', (d) => { text += d; if (text.includes('\n')) resolve() }))
  await firstLine
  assert.match(text, /^first:\d+\n$/)
  assert.ok(Number(text.slice(6, -1)) > 0 && Number(text.slice(6, -1)) <= first.length)
  for (let i = 0; i < rounds; i++) {
    if (!req.write(chunk)) await once(req, 'drain')
  }
  req.end()
  await once(res, 'end')
  const total = first.length + rounds * chunk.length
  const [, last] = text.split('\n')
  assert.match(last, new RegExp(`^total:${total} messages:\\d+$`))
  assert.ok(Number(last.split('messages:')[1]) > 2, 'the body arrived in several messages')
})

test('a streamed response arrives before the app has finished it', { timeout: 60000 }, async () => {
  const res = await get('/api/stream?id=held')
  assert.equal(res.status, 200)
  const reader = res.body.getReader()
  const { value } = await reader.read()
  assert.equal(Buffer.from(value).toString(), 'first\n') // the app is still waiting for /release
  assert.equal(await (await get('/api/release?id=held')).text(), 'released\n')
  let rest = ''
  for (;;) {
    const { value: v, done } = await reader.read()
    if (done) break
    rest += Buffer.from(v).toString()
  }
  assert.equal(rest, 'last\n')
})

test("WebSockets under the prefix are served on Fastify's server with root_path", async () => {
  const port = fastify.server.address().port
  const { ws, hello } = await openWebSocket(`ws://127.0.0.1:${port}/api/ws/chat?room=1`)
  assert.deepEqual(hello, { path: '/api/ws/chat', root_path: '/api' })
  ws.send('héllo')
  const [text, isBinary] = await once(ws, 'message')
  assert.equal(String(text), 'héllo')
  assert.equal(isBinary, false)
  ws.send(Buffer.from([0, 1, 2, 255]))
  const [bytes, binary] = await once(ws, 'message')
  assert.equal(binary, true)
  assert.deepEqual([...bytes], [0, 1, 2, 255])
  ws.close(1000)
  await once(ws, 'close')

  const other = await openWebSocket(`ws://127.0.0.1:${port}/other/ws`)
  assert.deepEqual(other.hello, { path: '/outer/other/ws', root_path: '/outer/other' })
  other.ws.close(1000)
  await once(other.ws, 'close')
})

test('a WebSocket handshake outside every prefix gets 404', async () => {
  const port = fastify.server.address().port
  for (const p of ['/apix/ws', '/ws', '/']) {
    const ws = new WebSocket(`ws://127.0.0.1:${port}${p}`)
    ws.on('error', () => {}) // terminate() before the handshake completed reports one
    const [, res] = await once(ws, 'unexpected-response')
    assert.equal(res.statusCode, 404, p)
    ws.terminate()
  }
})

test('a non-WebSocket upgrade (h2c) is served as a plain request, by Fastify and under the prefix by the app', async () => {
  const port = fastify.server.address().port
  const ask = (p) => rawRequest(port, `GET ${p} HTTP/1.1\r\nHost: x\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQAAP__\r\n\r\n`, { timeoutMs: 20000 })
  const own = parseResponse((await ask('/')).data)
  assert.equal(own.status, 200)
  assert.equal(own.body.toString(), 'fastify home')
  const app = parseResponse((await ask('/api/scope')).data)
  assert.equal(app.status, 200)
  const body = app.headers['transfer-encoding'] ? decodeChunked(app.body).body : app.body
  assert.equal(JSON.parse(body.toString()).root_path, '/api')
})

test('fastify.close() closes a handler the plugin created: WebSockets get 1012, lifespan shutdown runs; a given handler stays open', async () => {
  fs.rmSync(shutdownLog, { force: true })
  const mine = new PythonHandler({ app: APP, appDir: FIXTURES, logger: captureLogger() })
  const f = Fastify()
  await f.register(nodeAsgi, { prefix: '/py', app: APP, appDir: FIXTURES, logger: captureLogger() })
  await f.register(nodeAsgi, { prefix: '/mine', handler: mine })
  await f.listen({ port: 0, host: '127.0.0.1' })
  const { ws } = await openWebSocket(`ws://127.0.0.1:${f.server.address().port}/py/ws`)
  const closed = once(ws, 'close')
  await f.close()
  const [code] = await closed
  assert.equal(code, 1012)
  assert.equal(fs.readFileSync(shutdownLog, 'utf8'), 'shutdown\n', 'only the plugin-owned handler shut down')
  assert.equal(mine.state, 'started')
  assert.equal(f.server.listenerCount('upgrade'), 0, "the plugin's upgrade listener is removed")
  const res = await mine.handleRequest({ url: '/scope' })
  assert.equal(res.status, 200)
  await mine.close()
  assert.equal(fs.readFileSync(shutdownLog, 'utf8'), 'shutdown\nshutdown\n')
})

test('an app that cannot be imported fails fastify.ready() with the PythonError', async () => {
  const f = Fastify()
  f.register(nodeAsgi, { prefix: '/py', app: 'no_such_module_here:app', appDir: FIXTURES, logger: captureLogger() })
  await assert.rejects(f.ready(), (err) => err instanceof PythonError && err.type === 'ModuleNotFoundError')
  await f.close()
})

test('bad options are TypeErrors naming the option', async () => {
  const handler = new PythonHandler({ app: APP, appDir: FIXTURES })
  const cases = [
    [{ handler: 5 }, /option 'handler' must be a PythonHandler, got number 5/],
    [{ handler: { listener () {} } }, /option 'handler' must be a PythonHandler, got an object/],
    [{ handler, app: APP }, /option 'app' cannot be combined with 'handler'/],
    [{}, /option 'handler' \(a PythonHandler\) or 'app' .* is required/],
    [{ app: 5 }, /option 'app'/],
    [{ app: APP, appDri: FIXTURES }, /appDri.*did you mean 'appDir'/],
    [{ app: APP, appDir: FIXTURES, prefix: '/t/:tenant' }, /option 'prefix' must be a plain path/]
  ]
  for (const [options, message] of cases) {
    const f = Fastify()
    f.register(nodeAsgi, options)
    await assert.rejects(f.ready(), (err) => err instanceof TypeError && message.test(err.message), JSON.stringify(Object.keys(options)))
    await f.close()
  }
  assert.equal(handler.state, 'new', 'a rejected registration does not start the given handler')
})
