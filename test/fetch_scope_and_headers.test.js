'use strict'
// handler.fetch(): the scope built from the Request (scheme, server from the URL, path, raw_path,
// query_string, root_path per call, client option, host header), and the Response's headers with
// repeated names kept (set-cookie through getSetCookie()) and statuses that carry no body.
const { test, before, after } = require('node:test')
const assert = require('node:assert/strict')
const { PythonHandler } = require('..')
const { FIXTURES, captureLogger } = require('./helpers')

let handler

before(async () => {
  handler = new PythonHandler({ app: 'fetch_apps:app', appDir: FIXTURES, logger: captureLogger(), rootPath: '/base' })
  await handler.start()
})

after(() => handler.close())

const header = (scope, name) => scope.headers.filter(([n]) => n === name).map(([, v]) => v)

test('scope from the URL: scheme, server, path (decoded), raw_path, query_string, root_path, host header', async () => {
  const res = await handler.fetch(new Request('https://api.example.test:8443/scope/caf%C3%A9?q=a%20b&x=1#frag', {
    headers: { 'x-token': 'abc', accept: 'application/json' }
  }))
  const scope = await res.json()
  assert.equal(scope.type, 'http')
  assert.equal(scope.http_version, '1.1')
  assert.equal(scope.method, 'GET')
  assert.equal(scope.scheme, 'https')
  assert.deepEqual(scope.server, ['api.example.test', 8443])
  assert.equal(scope.client, null)
  assert.equal(scope.root_path, '/base', 'the handler\'s rootPath by default')
  assert.equal(scope.path, '/base/scope/café')
  assert.equal(scope.raw_path, '/base/scope/caf%C3%A9')
  assert.equal(scope.query_string, 'q=a%20b&x=1')
  assert.deepEqual(header(scope, 'host'), ['api.example.test:8443'])
  assert.deepEqual(header(scope, 'x-token'), ['abc'])
  assert.deepEqual(header(scope, 'accept'), ['application/json'])
  assert.deepEqual(scope.state, ['started'], 'the lifespan state copy')
})

test('options: rootPath per call, client address; default ports and an IPv6 host', async () => {
  const scope = await (await handler.fetch(new Request('http://[::1]/scope'), { rootPath: '/py/', client: ['10.1.2.3', 40000] })).json()
  assert.equal(scope.root_path, '/py')
  assert.equal(scope.path, '/py/scope')
  assert.deepEqual(scope.client, ['10.1.2.3', 40000])
  assert.deepEqual(scope.server, ['::1', 80])
  assert.deepEqual(header(scope, 'host'), ['[::1]'])
  const secure = await (await handler.fetch(new Request('https://h.test/scope'), { rootPath: '' })).json()
  assert.deepEqual(secure.server, ['h.test', 443])
  assert.equal(secure.path, '/scope')
  const withHost = await (await handler.fetch(new Request('http://127.0.0.1:9/scope', { headers: { host: 'public.test' } }))).json()
  assert.deepEqual(header(withHost, 'host'), ['public.test'], 'a host header the Request carries is kept')
})

test('repeated response headers are kept; set-cookie through getSetCookie(); status and statusText', async () => {
  const res = await handler.fetch(new Request('http://localhost/headers'))
  assert.equal(res.status, 201)
  assert.equal(res.statusText, 'Created')
  assert.deepEqual(res.headers.getSetCookie(), ['a=1; Path=/', 'b=2; HttpOnly'])
  assert.equal(res.headers.get('x-dup'), 'one, two')
  assert.equal(res.headers.get('content-type'), 'text/plain')
  assert.equal(await res.text(), 'ok')
})

test('204, 304 and HEAD responses have a null body; 205 too', async () => {
  for (const code of [204, 205, 304]) {
    const res = await handler.fetch(new Request(`http://localhost/status?code=${code}`))
    assert.equal(res.status, code)
    assert.equal(res.body, null)
  }
  const head = await handler.fetch(new Request('http://localhost/status?code=200', { method: 'HEAD' }))
  assert.equal(head.status, 200)
  assert.equal(head.headers.get('content-length'), '4')
  assert.equal(head.body, null)
})

test('a status a Response cannot carry (1xx, 600+) rejects with an Error naming it', async () => {
  await assert.rejects(handler.fetch(new Request('http://localhost/status?code=103')), /cannot represent the app's response \(status 103\)/)
})
