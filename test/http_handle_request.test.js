'use strict'
// handler.handleRequest(): one request through the app in-process, no sockets. Status, headers
// (lower-cased, repeated ones and set-cookie as arrays), rawHeaders as sent, body as a Buffer;
// 500 for an exception before the start; rejection for an incomplete response; TypeError for bad
// arguments.
const { test, before, after } = require('node:test')
const assert = require('node:assert/strict')
const { PythonHandler, PythonError } = require('..')
const { FIXTURES, captureLogger, waitFor } = require('./helpers')

const handlers = {}

function handlerFor (name) {
  const app = name.includes(':') ? name : `raw_apps:${name}`
  handlers[app] ??= new PythonHandler({ app, appDir: FIXTURES, logger: captureLogger() })
  return handlers[app]
}

before(async () => {
  // one at a time: starting handlers concurrently in a fresh process is tested in
  // http_handlers_started_together.test.js
  for (const name of ['hello', 'echo', 'scope_json', 'headers_app', 'raise_before_start', 'raise_after_start', 'partial_response', 'no_response', 'test_http_headers:one_cookie']) {
    await handlerFor(name).start()
  }
})

after(async () => {
  await Promise.all(Object.values(handlers).map((h) => h.close()))
})

test('GET: status, headers and body', async () => {
  const res = await handlerFor('hello').handleRequest({ url: '/' })
  assert.equal(res.status, 200)
  assert.equal(res.headers['content-type'], 'text/plain')
  assert.equal(res.headers['content-length'], '13')
  assert.ok(Buffer.isBuffer(res.body))
  assert.equal(res.body.toString(), 'Hello, world!')
})

test('defaults: no argument means GET /', async () => {
  const res = await handlerFor('echo').handleRequest()
  assert.equal(res.status, 200)
  assert.equal(res.headers['x-method'], 'GET')
  assert.equal(res.headers['x-path'], '/')
  assert.equal(res.body.length, 0)
})

test('POST: a string body reaches the app and is echoed', async () => {
  const res = await handlerFor('echo').handleRequest({ method: 'POST', url: '/items?x=1', body: '{"name":"a"}' })
  assert.equal(res.status, 200)
  assert.equal(res.headers['x-method'], 'POST')
  assert.equal(res.headers['x-path'], '/items')
  assert.equal(res.headers['x-query'], 'x=1')
  assert.equal(res.body.toString(), '{"name":"a"}')
})

test('POST: a binary Buffer / Uint8Array body arrives byte for byte', async () => {
  const bytes = Buffer.from(Array.from({ length: 256 }, (_, i) => i))
  const fromBuffer = await handlerFor('echo').handleRequest({ method: 'PUT', url: '/b', body: bytes })
  assert.ok(fromBuffer.body.equals(bytes))
  const fromView = await handlerFor('echo').handleRequest({ method: 'PUT', url: '/b', body: new Uint8Array(bytes).subarray(10, 20) })
  assert.ok(fromView.body.equals(bytes.subarray(10, 20)))
})

test('a lower-case method is upper-cased', async () => {
  const res = await handlerFor('echo').handleRequest({ method: 'post', url: '/m', body: 'x' })
  assert.equal(res.headers['x-method'], 'POST')
})

test('request headers reach the scope (object form, arrays repeat, content-length added)', async () => {
  const res = await handlerFor('scope_json').handleRequest({
    method: 'POST',
    url: '/h?q=caf%C3%A9',
    headers: { 'Content-Type': 'application/json', 'X-Dup': ['1', '2'], 'X-Num': 5 },
    body: '{}'
  })
  assert.equal(res.status, 200)
  const scope = JSON.parse(res.body.toString())
  assert.equal(scope.type, 'http')
  assert.equal(scope.method, 'POST')
  assert.equal(scope.path, '/h')
  assert.equal(scope.query_string, 'q=caf%C3%A9')
  assert.equal(scope.http_version, '1.1')
  assert.deepEqual(scope.headers, [
    ['content-type', 'application/json'],
    ['x-dup', '1'],
    ['x-dup', '2'],
    ['x-num', '5'],
    ['content-length', '2']
  ])
})

test('request headers as a flat [name, value, ...] array keep their order', async () => {
  const res = await handlerFor('scope_json').handleRequest({ url: '/flat', headers: ['B-Header', 'b', 'A-Header', 'a', 'b-header', 'again'] })
  const scope = JSON.parse(res.body.toString())
  assert.deepEqual(scope.headers, [['b-header', 'b'], ['a-header', 'a'], ['b-header', 'again']])
})

test('the path is percent- and UTF-8-decoded, raw_path kept', async () => {
  const res = await handlerFor('scope_json').handleRequest({ url: '/caf%C3%A9/a%2Fb' })
  const scope = JSON.parse(res.body.toString())
  assert.equal(scope.path, '/café/a/b')
  assert.equal(scope.raw_path, '/caf%C3%A9/a%2Fb')
})

test('response headers: set-cookie always an array, repeated headers as arrays, rawHeaders as sent', async () => {
  const res = await handlerFor('headers_app').handleRequest({ url: '/' })
  assert.equal(res.status, 200)
  assert.deepEqual(res.headers['set-cookie'], ['a=1; Path=/', 'b=2; Path=/'])
  assert.deepEqual(res.headers['x-dup'], ['1', '2'])
  assert.equal(res.headers['content-type'], 'text/plain; charset=utf-8')
  assert.equal(res.headers['x-latin1'], 'caf\u00e9')
  assert.deepEqual(res.rawHeaders, [
    'content-type', 'text/plain; charset=utf-8',
    'content-length', '4',
    'set-cookie', 'a=1; Path=/',
    'set-cookie', 'b=2; Path=/',
    'x-dup', '1',
    'x-dup', '2',
    'x-latin1', 'caf\u00e9'
  ])
  assert.equal(res.body.toString(), 'body')
})

test('a single set-cookie is still an array; other single headers are strings', async () => {
  const res = await handlerFor('test_http_headers:one_cookie').handleRequest({ url: '/' })
  assert.deepEqual(res.headers['set-cookie'], ['only=1'])
  assert.equal(res.headers['x-single'], 'v')
  assert.equal(res.body.toString(), 'ok')
})

test('a response without set-cookie has no set-cookie key; single headers are strings', async () => {
  const res = await handlerFor('hello').handleRequest({ url: '/' })
  assert.equal(res.headers['set-cookie'], undefined)
  assert.equal(typeof res.headers['content-type'], 'string')
})

test('HEAD, 204 and 304 give an empty body', async () => {
  const head = await handlerFor('headers_app').handleRequest({ method: 'HEAD', url: '/' })
  assert.equal(head.status, 200)
  assert.equal(head.body.length, 0)
  const noContent = await handlerFor('headers_app').handleRequest({ url: '/?status=204&cl=0' })
  assert.equal(noContent.status, 204)
  assert.equal(noContent.body.length, 0)
  const notModified = await handlerFor('headers_app').handleRequest({ url: '/?status=304' })
  assert.equal(notModified.status, 304)
  assert.equal(notModified.body.length, 0)
})

test('an exception before the start: a 500 response and an appError event', async () => {
  const handler = handlerFor('raise_before_start')
  const errors = []
  const onError = (error) => errors.push(error)
  handler.on('appError', onError)
  try {
    const res = await handler.handleRequest({ url: '/' })
    assert.equal(res.status, 500)
    assert.equal(res.body.toString(), 'Internal Server Error')
    await waitFor(() => errors.length > 0, { message: 'an appError event' })
    assert.ok(errors[0] instanceof PythonError)
    assert.equal(errors[0].type, 'ValueError')
    assert.match(errors[0].traceback, /boom before start/)
  } finally {
    handler.off('appError', onError)
  }
})

test('returning without a response: a 500 response', async () => {
  const res = await handlerFor('no_response').handleRequest({ url: '/' })
  assert.equal(res.status, 500)
})

test('an exception after the start: rejects with the PythonError, marked incomplete', async () => {
  await assert.rejects(handlerFor('raise_after_start').handleRequest({ url: '/' }), (error) => {
    assert.ok(error instanceof PythonError, `not a PythonError: ${error}`)
    assert.equal(error.type, 'RuntimeError')
    assert.equal(error.pythonMessage, 'boom after start')
    assert.equal(error.incomplete, true)
    return true
  })
})

test('returning with the response incomplete: rejects', async () => {
  await assert.rejects(handlerFor('partial_response').handleRequest({ url: '/' }), /did not complete its response/)
})

test('many in-process requests at once each get their own answer', async () => {
  const results = await Promise.all(Array.from({ length: 200 }, (_, i) =>
    handlerFor('echo').handleRequest({ method: 'POST', url: `/n/${i}`, body: `body-${i}` })))
  results.forEach((res, i) => {
    assert.equal(res.headers['x-path'], `/n/${i}`)
    assert.equal(res.body.toString(), `body-${i}`)
  })
})

test('bad arguments reject with a TypeError naming the field', async () => {
  const handler = handlerFor('echo')
  await assert.rejects(handler.handleRequest(null), TypeError)
  await assert.rejects(handler.handleRequest({ method: 'GE T' }), { name: 'TypeError', message: /'method'/ })
  await assert.rejects(handler.handleRequest({ url: 'no-slash' }), { name: 'TypeError', message: /'url'/ })
  await assert.rejects(handler.handleRequest({ url: '/a b' }), { name: 'TypeError', message: /'url'/ })
  await assert.rejects(handler.handleRequest({ headers: 'x' }), { name: 'TypeError', message: /'headers'/ })
  await assert.rejects(handler.handleRequest({ headers: ['a'] }), { name: 'TypeError', message: /'headers'/ })
  await assert.rejects(handler.handleRequest({ headers: { 'x-bad': 'a\r\nb' } }), { name: 'TypeError', message: /x-bad/ })
  await assert.rejects(handler.handleRequest({ headers: { 'bad name': 'v' } }), { name: 'TypeError', message: /bad name/ })
  await assert.rejects(handler.handleRequest({ body: 42 }), { name: 'TypeError', message: /'body'/ })
})
