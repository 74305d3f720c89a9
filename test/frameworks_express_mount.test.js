'use strict'
// FastAPI mounted in Express 5 with app.use('/api', handler.listener()): the mount path becomes
// root_path, so routes work under /api and url_for includes /api.
const test = require('node:test')
const assert = require('node:assert/strict')
const http = require('node:http')
const { once } = require('node:events')
const express = require('express')
const { PythonHandler } = require('..')
const { FIXTURES, captureLogger } = require('./helpers')

let base
let handler
let rawHandler
let scopeHandler
let server

test.before(async () => {
  handler = new PythonHandler({ app: 'fastapi_app:app', appDir: FIXTURES, logger: captureLogger(), pathIncludesRootPath: false })
  await handler.start()
  const app = express()
  app.get('/', (req, res) => res.send('express home'))
  app.use('/api', handler.listener())
  rawHandler = new PythonHandler({ app: 'raw_apps:headers_app', appDir: FIXTURES, logger: captureLogger() })
  app.use('/raw', rawHandler.listener())
  scopeHandler = new PythonHandler({ app: 'raw_apps:scope_json', appDir: FIXTURES, logger: captureLogger(), rootPath: '/outer' })
  app.use('/scope', scopeHandler.listener())
  app.use(express.json()) // a body parser after the mount must not matter to the mounted app
  app.post('/js-echo', (req, res) => res.json(req.body))
  app.use((req, res) => res.status(404).send('express 404'))
  server = http.createServer(app)
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  base = `http://127.0.0.1:${server.address().port}`
})

test.after(async () => {
  if (server) {
    server.closeAllConnections()
    await new Promise((resolve) => server.close(resolve))
  }
  if (handler) await handler.close()
  if (rawHandler) await rawHandler.close()
  if (scopeHandler) await scopeHandler.close()
})

const get = (path, init = {}) => fetch(base + path, { signal: AbortSignal.timeout(10000), ...init })

test('FastAPI routes answer under the /api mount', async () => {
  const res = await get('/api/items/3?q=mounted')
  assert.equal(res.status, 200)
  assert.deepEqual(await res.json(), { item_id: 3, q: 'mounted' })
})

test('url_for includes the mount path', async () => {
  const body = await (await get('/api/url-for')).json()
  assert.deepEqual(body, { url: `${base}/api/items/5`, root_path: '/api' })
})

test('a POST body streams through the mount to the pydantic model', async () => {
  const res = await get('/api/items', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'mounted', price: 3.25 }) })
  assert.equal(res.status, 200)
  const body = await res.json()
  assert.equal(body.name, 'mounted')
  assert.equal(body.price, 3.25)
})

test('validation errors, path params and streaming work through the mount', async () => {
  const invalid = await get('/api/items', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"name":"x","price":"y"}' })
  assert.equal(invalid.status, 422)
  await invalid.arrayBuffer()
  assert.deepEqual(await (await get('/api/files/a%2Fb')).json(), { file_path: 'a/b' })
  assert.deepEqual(await (await get('/api/users/Zo%C3%AB')).json(), { name: 'Zoë' })
  assert.equal(await (await get('/api/stream')).text(), 'line 0\nline 1\nline 2\nline 3\nline 4\n')
})

test('FastAPI\'s two Set-Cookie headers both arrive through the mount', async () => {
  const cookies = await get('/api/cookies')
  assert.equal(cookies.status, 200)
  await cookies.arrayBuffer()
  assert.deepEqual(cookies.headers.getSetCookie().map((c) => c.split(';')[0]), ['session=abc123', 'theme=dark'])
})

test('a path under the mount FastAPI does not know gets FastAPI\'s 404, not Express\'s', async () => {
  const res = await get('/api/nope')
  assert.equal(res.status, 404)
  assert.deepEqual(await res.json(), { detail: 'Not Found' })
})

test('the mount root /api reaches the app', async () => {
  const res = await get('/api')
  // FastAPI has no "/" route: its own 404 proves the request reached it
  assert.equal(res.status, 404)
  assert.deepEqual(await res.json(), { detail: 'Not Found' })
})

test('Express routes outside the mount still answer', async () => {
  assert.equal(await (await get('/')).text(), 'express home')
  const echoed = await get('/js-echo', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"a":1}' })
  assert.deepEqual(await echoed.json(), { a: 1 })
  const other = await get('/elsewhere')
  assert.equal(other.status, 404)
  assert.equal(await other.text(), 'express 404')
})

test('a query string and the mount path are both passed correctly (no mount path in the app\'s path)', async () => {
  const res = await get('/api/items/9?q=a%26b')
  assert.deepEqual(await res.json(), { item_id: 9, q: 'a&b' })
})

test('repeated response headers survive Express having set its own headers (X-Powered-By) first', async () => {
  const res = await get('/raw/?status=200')
  assert.equal(res.status, 200)
  assert.equal(res.headers.get('x-powered-by'), 'Express')
  assert.deepEqual(res.headers.getSetCookie(), ['a=1; Path=/', 'b=2; Path=/'])
  assert.equal(res.headers.get('x-dup'), '1, 2')
  assert.equal(await res.text(), 'body')
})

test('a raw app mounted with the spec default sees root_path = rootPath + mount path, inside path and raw_path (uvicorn >= 0.26)', async () => {
  const scope = await (await get('/scope/a%20b/c?x=1')).json()
  assert.equal(scope.root_path, '/outer/scope')
  assert.equal(scope.path, '/outer/scope/a b/c')
  assert.equal(scope.query_string, 'x=1')
  // uvicorn builds raw_path as root_path.encode() + the received raw path, like path
  assert.equal(scope.raw_path, '/outer/scope/a%20b/c')
})
