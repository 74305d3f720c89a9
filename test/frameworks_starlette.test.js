'use strict'
// Debian's Starlette 0.26 served end to end: routes, JSON, streaming, path parameters, forms and a
// state-yielding lifespan.
const test = require('node:test')
const assert = require('node:assert/strict')
const crypto = require('node:crypto')
const { startServer, rawRequest, parseResponse, decodeChunked } = require('./helpers')

let served
test.before(async () => { served = await startServer('starlette_app:app') })
test.after(() => served && served.close())

const get = (path, init = {}) => fetch(served.url + path, { signal: AbortSignal.timeout(10000), ...init })

test('GET / answers plain text', async () => {
  const res = await get('/')
  assert.equal(res.status, 200)
  assert.match(res.headers.get('content-type'), /^text\/plain; charset=utf-8$/)
  assert.equal(res.headers.get('content-length'), String(Buffer.byteLength('starlette home')))
  assert.equal(await res.text(), 'starlette home')
})

test('GET /json answers JSON', async () => {
  const res = await get('/json')
  assert.equal(res.headers.get('content-type'), 'application/json')
  assert.deepEqual(await res.json(), { framework: 'starlette', ok: true })
})

test('GET /stream is chunked with every chunk', async () => {
  const raw = await rawRequest(served.port, 'GET /stream HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n', { timeoutMs: 5000 })
  const parsed = parseResponse(raw.data)
  assert.equal(parsed.status, 200)
  assert.deepEqual(parsed.headers['transfer-encoding'], ['chunked'])
  const body = decodeChunked(parsed.body)
  assert.ok(body.complete)
  assert.equal(body.body.toString(), 'chunk 0\nchunk 1\nchunk 2\n')
})

test('a {rest:path} parameter takes the rest of the decoded path', async () => {
  assert.deepEqual(await (await get('/path/a/b/c.txt')).json(), { rest: 'a/b/c.txt', path: '/path/a/b/c.txt', root_path: '' })
  assert.deepEqual(await (await get('/path/Zo%C3%AB/x%20y')).json(), { rest: 'Zoë/x y', path: '/path/Zoë/x y', root_path: '' })
})

test('POST /form with an urlencoded body', async () => {
  const res = await get('/form', {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: 'name=Zo%C3%AB&city=S%C3%A3o+Paulo&empty='
  })
  assert.equal(res.status, 200)
  assert.deepEqual(await res.json(), { name: 'Zoë', city: 'São Paulo', empty: '' })
})

test('POST /form with URLSearchParams (fetch sets the content type)', async () => {
  const res = await get('/form', { method: 'POST', body: new URLSearchParams({ a: '1', b: 'two words' }) })
  assert.deepEqual(await res.json(), { a: '1', b: 'two words' })
})

test('POST /form with a multipart upload', async () => {
  const content = crypto.randomBytes(200 * 1024)
  const form = new FormData()
  form.append('title', 'upload')
  form.append('file', new Blob([content], { type: 'application/octet-stream' }), 'data.bin')
  const res = await get('/form', { method: 'POST', body: form })
  assert.equal(res.status, 200)
  assert.deepEqual(await res.json(), {
    title: 'upload',
    file: { filename: 'data.bin', content_type: 'application/octet-stream', size: content.length, sha256: crypto.createHash('sha256').update(content).digest('hex') }
  })
})

test('GET /form is 405 (POST only)', async () => {
  const res = await get('/form')
  assert.equal(res.status, 405)
  await res.arrayBuffer()
})

test('the lifespan ran and its yielded state reaches request.state', async () => {
  assert.deepEqual(await (await get('/lifespan')).json(), { startup_ran: true, state_started: true })
})

test('an unknown route gets Starlette\'s 404', async () => {
  const res = await get('/nope')
  assert.equal(res.status, 404)
  assert.equal(await res.text(), 'Not Found')
})

test('HEAD / has the headers and no body', async () => {
  const raw = await rawRequest(served.port, 'HEAD / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n', { timeoutMs: 5000 })
  const parsed = parseResponse(raw.data)
  assert.equal(parsed.status, 200)
  assert.equal(parsed.body.length, 0)
})

test('Starlette under a root path with pathIncludesRootPath: false', async (t) => {
  const mounted = await startServer('starlette_app:app', { rootPath: '/sub', pathIncludesRootPath: false })
  t.after(() => mounted.close())
  assert.deepEqual(await (await fetch(`${mounted.url}/path/x/y`)).json(), { rest: 'x/y', path: '/path/x/y', root_path: '/sub' })
  assert.equal(await (await fetch(`${mounted.url}/`)).text(), 'starlette home')
})
