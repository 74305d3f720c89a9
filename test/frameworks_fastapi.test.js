'use strict'
// Debian's FastAPI 0.92 (Starlette 0.26, pydantic 1.10) served end to end over node:http.
const test = require('node:test')
const assert = require('node:assert/strict')
const { startServer, rawRequest, parseResponse, decodeChunked } = require('./helpers')

let served
test.before(async () => { served = await startServer('fastapi_app:app') })
test.after(() => served && served.close())

const get = (path, init = {}) => fetch(served.url + path, { signal: AbortSignal.timeout(10000), ...init })
// CRC-32 (IEEE), as Python's zlib.crc32 computes the fixture's item ids.
function crc32 (bytes) {
  let crc = 0xffffffff
  for (const byte of bytes) {
    crc ^= byte
    for (let k = 0; k < 8; k++) crc = (crc >>> 1) ^ (0xedb88320 & -(crc & 1))
  }
  return (crc ^ 0xffffffff) >>> 0
}

const postJson = (path, value) => get(path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(value) })

test('GET with a path and a query parameter answers JSON', async () => {
  const res = await get('/items/42?q=hello%20world')
  assert.equal(res.status, 200)
  assert.equal(res.headers.get('content-type'), 'application/json')
  assert.deepEqual(await res.json(), { item_id: 42, q: 'hello world' })
})

test('an optional query parameter left out is null', async () => {
  assert.deepEqual(await (await get('/items/1')).json(), { item_id: 1, q: null })
})

test('POST with a pydantic model body', async () => {
  const res = await postJson('/items', { name: 'widget', price: 9.5 })
  assert.equal(res.status, 200)
  assert.deepEqual(await res.json(), { name: 'widget', price: 9.5, id: crc32(Buffer.from('widget')) })
})

test('POST with a non-ASCII name keeps UTF-8 intact', async () => {
  const res = await postJson('/items', { name: 'Zoë 🐍', price: 1 })
  assert.equal(res.status, 200)
  assert.deepEqual(await res.json(), { name: 'Zoë 🐍', price: 1, id: crc32(Buffer.from('Zoë 🐍')) })
})

test('a body that fails validation gets 422 with FastAPI\'s error detail', async () => {
  const res = await postJson('/items', { name: 'widget', price: 'not a number' })
  assert.equal(res.status, 422)
  assert.deepEqual(await res.json(), {
    detail: [{ loc: ['body', 'price'], msg: 'value is not a valid float', type: 'type_error.float' }]
  })
})

test('a missing field and a bad path parameter also get 422', async () => {
  const missing = await postJson('/items', { name: 'widget' })
  assert.equal(missing.status, 422)
  assert.deepEqual((await missing.json()).detail[0].loc, ['body', 'price'])
  const badPath = await get('/items/abc')
  assert.equal(badPath.status, 422)
  assert.deepEqual((await badPath.json()).detail[0].loc, ['path', 'item_id'])
})

test('a body that is not JSON gets 422 from FastAPI', async () => {
  const res = await get('/items', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{not json' })
  assert.equal(res.status, 422)
  await res.arrayBuffer()
})

test('a large JSON body arrives whole', async () => {
  const value = { items: Array.from({ length: 20000 }, (_, i) => ({ i, s: 'x'.repeat(10) })) }
  const res = await postJson('/echo-json', value)
  assert.equal(res.status, 200)
  assert.deepEqual(await res.json(), value)
})

test('a {file_path:path} parameter gets %2F decoded into "/" (scope path is percent-decoded)', async () => {
  assert.deepEqual(await (await get('/files/a%2Fb/c.txt')).json(), { file_path: 'a/b/c.txt' })
  assert.deepEqual(await (await get('/files/dir/sub/file.tar.gz')).json(), { file_path: 'dir/sub/file.tar.gz' })
})

test('a UTF-8 percent-encoded path parameter is decoded (Zoë)', async () => {
  assert.deepEqual(await (await get('/users/Zo%C3%AB')).json(), { name: 'Zoë' })
  assert.deepEqual(await (await get('/users/%E6%97%A5%E6%9C%AC')).json(), { name: '日本' })
})

test('request.headers reads request headers case-insensitively', async () => {
  const res = await get('/headers', { headers: { 'User-Agent': 'node-asgi-test/1.0', 'X-Custom': 'custom value' } })
  assert.deepEqual(await res.json(), { user_agent: 'node-asgi-test/1.0', x_custom: 'custom value' })
})

test('StreamingResponse is streamed chunked with every line', async () => {
  const raw = await rawRequest(served.port, 'GET /stream HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n', { timeoutMs: 5000 })
  const parsed = parseResponse(raw.data)
  assert.equal(parsed.status, 200)
  assert.deepEqual(parsed.headers['transfer-encoding'], ['chunked'])
  assert.equal(parsed.headers['content-length'], undefined)
  assert.match(parsed.headers['content-type'][0], /^text\/plain/)
  const body = decodeChunked(parsed.body)
  assert.ok(body.complete)
  assert.equal(body.body.toString(), 'line 0\nline 1\nline 2\nline 3\nline 4\n')
})

test('two Set-Cookie headers arrive as two separate header fields', async () => {
  const res = await get('/cookies')
  assert.equal(res.status, 200)
  const cookies = res.headers.getSetCookie()
  assert.equal(cookies.length, 2)
  assert.match(cookies[0], /^session=abc123; HttpOnly; Path=\/; SameSite=lax$/i)
  assert.match(cookies[1], /^theme=dark; Path=\/; SameSite=lax$/i)
  const inProcess = await served.handler.handleRequest({ url: '/cookies' })
  assert.equal(inProcess.headers['set-cookie'].length, 2)
})

test('app.state set in a startup event is visible to routes', async () => {
  assert.deepEqual(await (await get('/state')).json(), { started: true })
})

test('url_for without a root path builds an absolute URL from the Host header', async () => {
  const body = await (await get('/url-for')).json()
  assert.equal(body.url, `${served.url}/items/5`)
  assert.equal(body.root_path, '')
})

test('an unknown route gets FastAPI\'s 404 and a wrong method 405', async () => {
  const notFound = await get('/nope')
  assert.equal(notFound.status, 404)
  assert.deepEqual(await notFound.json(), { detail: 'Not Found' })
  const wrongMethod = await get('/items/1', { method: 'DELETE' })
  assert.equal(wrongMethod.status, 405)
  await wrongMethod.arrayBuffer()
})

test('the OpenAPI schema is served', async () => {
  const res = await get('/openapi.json')
  assert.equal(res.status, 200)
  const schema = await res.json()
  assert.ok(schema.paths['/items/{item_id}'])
})

test('concurrent requests all get their own answers', async () => {
  const answers = await Promise.all(Array.from({ length: 50 }, (_, i) => get(`/items/${i}?q=c${i}`).then((r) => r.json())))
  answers.forEach((answer, i) => assert.deepEqual(answer, { item_id: i, q: `c${i}` }))
})
