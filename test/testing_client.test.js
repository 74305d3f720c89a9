'use strict'
// node-asgi/testing: createTestClient() starts the app with lifespan and close() shuts it down;
// request() (handleRequest's shape plus text()/json()), fetch() (streaming) and websocket()
// (Starlette TestClient's helpers) against FastAPI, Starlette and raw ASGI apps; errors named.
const { test, after } = require('node:test')
const assert = require('node:assert/strict')
const { PythonHandler, PythonError } = require('..')
const { createTestClient, TestClient, WebSocketDisconnect, WebSocketDeniedError } = require('../lib/testing')
const { FIXTURES, captureLogger } = require('./helpers')

const clients = []
async function clientFor (app, options = {}) {
  const client = await createTestClient({ app, appDir: FIXTURES, logger: captureLogger(), ...options })
  clients.push(client)
  return client
}

after(async () => {
  await Promise.all(clients.map((c) => c.close()))
})

test('FastAPI: lifespan runs on start and shutdown on close(); request() with JSON, cookies and headers', async () => {
  const client = await createTestClient({ app: 'fastapi_app:app', appDir: FIXTURES, logger: captureLogger() })
  assert.equal(client.handler.state, 'started')
  assert.deepEqual((await client.request({ url: '/state' })).json(), { started: true })
  const created = await client.request({ method: 'POST', url: '/items', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'a', price: 1.5 }) })
  assert.equal(created.status, 200)
  assert.equal(created.json().name, 'a')
  const cookies = await client.request({ url: '/cookies' })
  assert.equal(cookies.headers['set-cookie'].length, 2)
  const headers = await client.request({ url: '/headers', headers: { 'x-custom': 'yes', 'user-agent': 'node-test' } })
  assert.deepEqual(headers.json(), { user_agent: 'node-test', x_custom: 'yes' })
  const urlFor = (await client.request({ url: '/url-for' })).json()
  assert.equal(urlFor.url, 'http://testserver/items/5', 'Host comes from baseUrl')
  assert.equal((await client.request({ url: '/items/x' })).status, 422)
  await client.close()
  assert.equal(client.handler.state, 'closed')
})

test('FastAPI WebSockets: sendJson/receiveJson, text and bytes, the app\'s close as WebSocketDisconnect, a dependency refusing', async () => {
  const client = await clientFor('ws_fastapi_app:app')
  const ws = await client.websocket('/ws/items/7', { query: { q: 'hi', id: 'tc1' } })
  assert.deepEqual(await ws.receiveJson(), { item_id: 7, q: 'hi' })
  await ws.sendJson({ values: [1, 2, 3] })
  assert.deepEqual(await ws.receiveJson(), { item_id: 7, got: { values: [1, 2, 3] }, total: 6 })
  await ws.close(1001)
  assert.deepEqual((await client.request({ url: '/events?id=tc1' })).json(), [{ where: 'item_socket', code: 1001 }])

  const text = await client.websocket('/ws/text')
  await text.sendText('abc')
  assert.equal(await text.receiveText(), 'cba')
  await text.sendBytes(Buffer.from('xy'))
  assert.deepEqual(await text.receiveBytes(), Buffer.from('xy!'))
  await assert.rejects(text.receiveText(), (err) => err instanceof WebSocketDisconnect && err.code === 4002 && err.reason === 'done here')

  const denied = await client.websocket('/ws/secure', { query: { token: 'wrong' } }).catch((e) => e)
  assert.ok(denied instanceof WebSocketDeniedError, String(denied))
  assert.equal(denied.status, 403)
  assert.equal(denied.closeCode, 1008)
  const secure = await client.websocket('/ws/secure?token=secret')
  assert.equal(await secure.receiveText(), 'welcome, token secret')
})

test('Starlette: lifespan state reaches requests; fetch() streams; a multipart FormData posts through fetch()', async () => {
  const client = await clientFor('starlette_app:app')
  assert.deepEqual((await client.request({ url: '/lifespan' })).json(), { startup_ran: true, state_started: true })
  const res = await client.fetch('/stream')
  assert.equal(res.headers.get('content-type'), 'text/plain; charset=utf-8')
  assert.equal(await res.text(), 'chunk 0\nchunk 1\nchunk 2\n')
  const form = new FormData()
  form.append('name', 'value')
  form.append('file', new Blob(['hello']), 'h.txt')
  const posted = await client.fetch('/form', { method: 'POST', body: form })
  const fields = await posted.json()
  assert.equal(fields.name, 'value')
  assert.equal(fields.file.filename, 'h.txt')
  assert.equal(fields.file.size, 5)
})

test('Starlette WebSockets: the client address and Host in the scope, subprotocols, the async iterator', async () => {
  const client = await clientFor('ws_starlette_app:app')
  const ws = await client.websocket('/ws/rooms/blue?x=1', { subprotocols: ['v1', 'v2'], headers: { 'x-token': 'tk', cookie: 'session=s1' } })
  assert.equal(ws.subprotocol, 'v2')
  const info = await ws.receiveJson()
  assert.equal(info.room, 'blue')
  assert.deepEqual(info.query, { x: '1' })
  assert.equal(info.header, 'tk')
  assert.equal(info.cookie, 's1')
  assert.equal(info.url, 'ws://testserver/ws/rooms/blue?x=1')
  assert.equal(info.client_host, 'testclient')
  const rest = []
  for await (const message of ws) rest.push(message)
  assert.deepEqual(rest, [])
  assert.deepEqual(await ws.receive(), { type: 'close', code: 4001, reason: '' })

  const counter = await client.websocket('/ws/endpoint')
  await counter.send('a')
  await counter.send('b')
  assert.equal(await counter.receiveText(), '1:a')
  assert.equal(await counter.receiveText(), '2:b')
  await counter.send('c')
  await assert.rejects(counter.receiveBytes(), { name: 'TypeError', message: /receiveBytes\(\) expected a binary message, got a text one/ })
})

test('new TestClient(handler) over a raw app: close() closes its open WebSockets (1000), waits for their apps and leaves the handler up', async () => {
  const handler = new PythonHandler({ app: 'ws_echo:app', appDir: FIXTURES, logger: captureLogger() })
  const client = new TestClient(handler, { baseUrl: 'https://example.test:8443', client: null })
  await client.start()
  const ws = await client.websocket('/', { query: { id: 'raw1' } })
  await ws.send(Buffer.from([1, 2]))
  assert.deepEqual(await ws.receiveBytes(), Buffer.from([1, 2]))
  await client.close() // the handler is not the client's: it stays up
  assert.equal(ws.closed, true)
  assert.equal(handler.state, 'started')
  assert.deepEqual((await client.request({ url: '/events?id=raw1' })).json(), [{ event: 'disconnect', code: 1000, reason: '' }])
  await handler.close()
})

test('an app that fails to start rejects createTestClient() with its PythonError', async () => {
  await assert.rejects(createTestClient({ app: 'raw_apps:lifespan_failed', appDir: FIXTURES, logger: captureLogger(), lifespan: 'on' }), PythonError)
})

test('wrong types are TypeErrors naming the field', async () => {
  await assert.rejects(createTestClient('main:app'), { name: 'TypeError', message: /createTestClient\(\) expects options/ })
  await assert.rejects(createTestClient({ app: 'fetch_apps:app', appDir: FIXTURES, baseUrl: 'nope' }), { name: 'TypeError', message: /'baseUrl'/ })
  await assert.rejects(createTestClient({ app: 'fetch_apps:app', appDir: FIXTURES, client: 'x' }), { name: 'TypeError', message: /'client'/ })
  assert.throws(() => new TestClient({}), { name: 'TypeError', message: /'handler' must be a PythonHandler/ })
  const client = await clientFor('fetch_apps:app')
  await assert.rejects(client.request('/'), { name: 'TypeError', message: /request\(\) expects a request object/ })
  await assert.rejects(client.request({ url: 'x' }), { name: 'TypeError', message: /'url'/ })
  await assert.rejects(client.fetch(42), TypeError)
  await assert.rejects(client.websocket('/', 'x'), { name: 'TypeError', message: /websocket\(\) 'options'/ })
  await assert.rejects(client.websocket('ws'), { name: 'TypeError', message: /'path'/ })
  const ws = await (await clientFor('ws_echo:app')).websocket('/')
  await assert.rejects(ws.close(1000.5), { name: 'TypeError', message: /'code'/ })
  await assert.rejects(ws.sendText(Buffer.from('x')), { name: 'TypeError', message: /'text'/ })
  await assert.rejects(ws.sendBytes('x'), { name: 'TypeError', message: /'bytes'/ })
  await assert.rejects(ws.sendJson(undefined), { name: 'TypeError', message: /'value'/ })
  await assert.rejects(ws.sendJson({}, { mode: 'hex' }), { name: 'TypeError', message: /'mode'/ })
})
