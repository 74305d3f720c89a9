'use strict'
// node-asgi/platformatic: Python#handleRequest() as @platformatic/python-node's README shows it
// (docroot + appTarget, Request in, buffered Response out), with its exception and log, lifespan
// (which the ASGI spec asks for), root_path '' and a closed instance's error.
const { test, after } = require('node:test')
const assert = require('node:assert/strict')
const { Python, Request, Response, Headers, PythonError } = require('../lib/platformatic')
const { FIXTURES, runNodeProcess } = require('./helpers')

const instances = []
function python (appTarget) {
  const p = new Python({ docroot: FIXTURES, appTarget })
  instances.push(p)
  return p
}
after(() => Promise.all(instances.map((p) => p.close())))

test('new Python({ docroot, appTarget }): docroot as given, handleRequest() answers a Response', async () => {
  const p = python('platformatic_apps:hello')
  assert.equal(p.docroot, FIXTURES)
  const res = await p.handleRequest(new Request({ method: 'GET', url: '/' }))
  assert.ok(res instanceof Response)
  assert.equal(res.status, 200)
  assert.ok(res.headers instanceof Headers)
  assert.equal(res.headers.get('content-type'), 'text/plain')
  assert.equal(res.headers.get('content-length'), '13')
  assert.equal(res.body.toString(), 'Hello, world!')
  assert.equal(res.log.length, 0)
  assert.equal(res.exception, null)
  assert.deepEqual(res.toJSON(), { status: 200, headers: { 'content-type': 'text/plain', 'content-length': '13' }, body: Buffer.from('Hello, world!') })
})

test('the request reaches the app: method, path, query, headers, body; root_path is the ASGI default', async () => {
  const p = python('platformatic_apps:echo')
  const res = await p.handleRequest(new Request({
    method: 'POST',
    url: '/api/items?x=1&y=2',
    headers: { 'Content-Type': 'application/json', Accept: ['text/html', 'application/json'] },
    body: Buffer.from('{"a":1}')
  }))
  const seen = JSON.parse(res.body)
  assert.equal(seen.method, 'POST')
  assert.equal(seen.path, '/api/items')
  assert.equal(seen.query, 'x=1&y=2')
  assert.equal(seen.body, '{"a":1}')
  assert.equal(seen.root_path, '') // not the docroot, as @platformatic/python-node sets it
  assert.deepEqual(seen.headers, [['content-type', 'application/json'], ['accept', 'text/html'], ['accept', 'application/json'], ['content-length', '7']])
})

test('an absolute URL sets scheme and server; socket info sets client and server', async () => {
  const p = python('platformatic_apps:echo')
  const viaUrl = JSON.parse((await p.handleRequest(new Request({ url: 'https://example.com:8443/a?b=1' }))).body)
  assert.equal(viaUrl.scheme, 'https')
  assert.deepEqual(viaUrl.server, ['example.com', 8443])
  assert.equal(viaUrl.path, '/a')
  assert.equal(viaUrl.query, 'b=1')
  const viaSocket = JSON.parse((await p.handleRequest(new Request({
    url: '/',
    socket: { remoteAddress: '10.0.0.7', remotePort: 51000, remoteFamily: 'IPv4', localAddress: '10.0.0.1', localPort: 3000, localFamily: 'IPv4' }
  }))).body)
  assert.deepEqual(viaSocket.client, ['10.0.0.7', 51000])
  assert.deepEqual(viaSocket.server, ['10.0.0.1', 3000])
  assert.deepEqual(viaSocket.headers, []) // node-asgi's own marker never reaches the app
})

test('a body written with write()/end() is sent once end() was called', async () => {
  const p = python('platformatic_apps:echo')
  const req = new Request({ method: 'PUT', url: '/w' })
  await req.write('Hello ')
  let settled = false
  const pending = p.handleRequest(req).finally(() => { settled = true })
  await req.write(Buffer.from('from '))
  await req.write(new Uint8Array([119, 114, 105, 116, 101])) // "write"
  await new Promise((resolve) => setTimeout(resolve, 50))
  assert.equal(settled, false) // waits for end()
  await req.end()
  const seen = JSON.parse((await pending).body)
  assert.equal(seen.body, 'Hello from write')
  assert.ok(seen.headers.some(([name, value]) => name === 'content-length' && value === '16'))
})

test('repeated response headers stay apart, in order: getAll(), get() the last, getLine() joined', async () => {
  const res = await python('platformatic_apps:cookies').handleRequest(new Request({ url: '/' }))
  assert.deepEqual(res.headers.getAll('set-cookie'), ['a=1; Path=/', 'b=2; Path=/'])
  assert.deepEqual(res.headers.getAll('X-Tag'), ['one', 'two'])
  assert.equal(res.headers.get('x-tag'), 'two')
  assert.equal(res.headers.getLine('x-tag'), 'one,two')
  assert.equal(res.headers.size, 3)
  assert.deepEqual(res.headers.toJSON()['set-cookie'], ['a=1; Path=/', 'b=2; Path=/'])
})

test('status codes, and no body where HTTP has none (HEAD, 204, 304)', async () => {
  const p = python('platformatic_apps:status')
  for (const code of [200, 201, 400, 404, 500]) {
    const res = await p.handleRequest(new Request({ url: `/${code}` }))
    assert.equal(res.status, code)
    assert.equal(res.body.toString(), `status ${code}`)
  }
  for (const code of [204, 304]) {
    const res = await p.handleRequest(new Request({ url: `/${code}` }))
    assert.equal(res.status, code)
    assert.equal(res.body.length, 0)
  }
  const head = await p.handleRequest(new Request({ method: 'HEAD', url: '/200' }))
  assert.equal(head.status, 200)
  assert.equal(head.headers.get('x-method'), 'HEAD') // the app sees HEAD
  assert.equal(head.body.length, 0)
})

test('a FastAPI app: the README example (POST JSON), lifespan state, StreamingResponse', async () => {
  const p = python('platformatic_fastapi:app')
  const res = await p.handleRequest(new Request({
    method: 'POST',
    url: '/items/',
    headers: { 'Content-Type': 'application/json' },
    body: Buffer.from(JSON.stringify({ name: 'Widget', price: 29.99 }))
  }))
  assert.equal(res.status, 200)
  assert.deepEqual(JSON.parse(res.body), { name: 'Widget', price: 29.99 })
  const invalid = await p.handleRequest(new Request({ method: 'POST', url: '/items/', headers: { 'content-type': 'application/json' }, body: Buffer.from('{}') }))
  assert.equal(invalid.status, 422)
  const state = await p.handleRequest(new Request({ url: '/state' }))
  assert.deepEqual(JSON.parse(state.body), { db: 'connected in lifespan' })
  const streamed = await p.handleRequest(new Request({ url: '/stream' }))
  assert.equal(streamed.body.toString(), 'part 0\npart 1\npart 2\n')
})

test('lifespan runs before the first request (a raw app)', async () => {
  const res = await python('platformatic_apps:lifespan_state').handleRequest(new Request({ url: '/' }))
  assert.equal(res.body.toString(), 'set by lifespan startup')
})

test('an exception before the response rejects with the PythonError (type, message, traceback, log)', async () => {
  const p = python('platformatic_apps:raise_before_start')
  await assert.rejects(p.handleRequest(new Request({ url: '/' })), (err) => {
    assert.ok(err instanceof PythonError)
    assert.equal(err.type, 'ValueError')
    assert.equal(err.pythonMessage, 'before the start')
    assert.match(err.traceback, /raise ValueError\("before the start"\)/)
    assert.match(err.log, /Exception in ASGI application/)
    return true
  })
})

test('an exception mid-body rejects with it; returning without a response rejects "No response sent"', async () => {
  await assert.rejects(python('platformatic_apps:raise_mid_body').handleRequest(new Request({ url: '/' })), { name: 'PythonError', type: 'KeyError', pythonMessage: "'mid body'" })
  await assert.rejects(python('platformatic_apps:no_response').handleRequest(new Request({ url: '/' })), /No response sent: ASGI callable returned without starting response\./)
})

test('an exception after a complete response: the Response, with `exception` and the traceback in `log`', async () => {
  const res = await python('platformatic_apps:raise_after_complete').handleRequest(new Request({ url: '/' }))
  assert.equal(res.status, 200)
  assert.equal(res.body.toString(), 'done')
  assert.equal(res.exception, 'RuntimeError: after the response')
  assert.match(res.log.toString(), /Exception in ASGI application\nTraceback[^]*RuntimeError: after the response/)
  assert.equal(res.toJSON().exception, 'RuntimeError: after the response')

  // FastAPI: Starlette's error middleware answers 500, then raises
  const fastapi = await python('platformatic_fastapi:app').handleRequest(new Request({ url: '/divide' }))
  assert.equal(fastapi.status, 500)
  assert.equal(fastapi.body.toString(), 'Internal Server Error')
  assert.equal(fastapi.exception, 'ZeroDivisionError: division by zero')
  assert.match(fastapi.log.toString(), /^ERROR:platformatic_fastapi:about to divide by zero\n/)
})

test("`log` holds the Python logging records of that request only, even when requests overlap", async () => {
  const p = python('platformatic_apps:logs')
  const [a, quiet, b] = await Promise.all([
    p.handleRequest(new Request({ url: '/a' })),
    p.handleRequest(new Request({ url: '/quiet' })),
    p.handleRequest(new Request({ url: '/b' }))
  ])
  assert.equal(a.log.toString(), 'WARNING:platformatic_apps:serving /a\nINFO:platformatic_apps:second record\n')
  assert.equal(b.log.toString(), 'WARNING:platformatic_apps:serving /b\nINFO:platformatic_apps:second record\n')
  assert.equal(quiet.log.length, 0)
  assert.equal(a.exception, null)
})

test('captured records still reach stderr as Python prints them without handlers; the process exits without close()', async () => {
  const script = `
    const { Python, Request } = require(${JSON.stringify(require.resolve('../lib/platformatic'))})
    const python = new Python({ docroot: ${JSON.stringify(FIXTURES)}, appTarget: 'platformatic_apps:logs' })
    python.handleRequest(new Request({ url: '/child' })).then((res) => process.stdout.write(res.log))`
  const r = await runNodeProcess(['-e', script], { timeoutMs: 30000 })
  assert.equal(r.code, 0, r.stderr)
  assert.equal(r.stdout, 'WARNING:platformatic_apps:serving /child\nINFO:platformatic_apps:second record\n')
  assert.equal(r.stderr, 'serving /child\n') // logging.lastResort: WARNING and up, once
})

test('1,000 concurrent requests on one instance', async () => {
  const p = python('platformatic_apps:hello')
  const responses = await Promise.all(Array.from({ length: 1000 }, (_, i) => p.handleRequest(new Request({ url: `/?i=${i}` }))))
  for (const res of responses) assert.equal(res.body.toString(), 'Hello, world!')
})

test('ten instances made and used at once, two apps, each loading its own module', async () => {
  const results = await Promise.all(Array.from({ length: 10 }, async (_, i) => {
    const p = python(i % 2 ? 'platformatic_apps:echo' : 'platformatic_apps:hello')
    return Promise.all(Array.from({ length: 10 }, (_, j) => p.handleRequest(new Request({ url: `/?handler=${i}&request=${j}` }))))
  }))
  results.forEach((responses, i) => {
    for (const res of responses) {
      if (i % 2) assert.equal(JSON.parse(res.body).path, '/')
      else assert.equal(res.body.toString(), 'Hello, world!')
    }
  })
})

test('bad input: TypeErrors naming the field; a missing app file fails in the constructor', async () => {
  assert.throws(() => new Python({ docroot: 42 }), { name: 'TypeError', message: /option 'docroot'/ })
  assert.throws(() => new Python({ docroot: FIXTURES, appTarget: 'no_colon' }), { name: 'TypeError', message: /option 'appTarget' must be "file:function"/ })
  assert.throws(() => new Python({ docroot: FIXTURES, appTarget: 'a:b:c' }), { name: 'TypeError', message: /option 'appTarget'/ })
  assert.throws(() => new Python({ docroot: FIXTURES, appTarget: 'platformatic_apps:not-an-identifier' }), { name: 'TypeError', message: /invalid function/ })
  assert.throws(() => new Python({ docroot: FIXTURES, appTarget: 'does_not_exist:app' }), /Entry point not found: .*does_not_exist\.py/)
  assert.throws(() => new Python({ docroot: '/no/such/dir' }), /option 'docroot' names \/no\/such\/dir, which is not a directory/)
  const p = python('platformatic_apps:hello')
  await assert.rejects(p.handleRequest({ method: 'GET', url: '/' }), { name: 'TypeError', message: /handleRequest\(\) 'request' must be a Request/ })
  await assert.rejects(p.handleRequest(new Request({ url: '/' }), 'signal'), { name: 'TypeError', message: /'signal' must be an AbortSignal/ })
  await assert.rejects(p.handleRequest(new Request({ url: '/', websocket: true })), { name: 'TypeError', message: /use handleStream\(\)/ })
})

test('an attribute the module lacks rejects with a PythonError naming the docroot and appTarget', async () => {
  const p = python('platformatic_apps:missing_attribute')
  await assert.rejects(p.handleRequest(new Request({ url: '/' })), (err) => {
    assert.equal(err.name, 'PythonError')
    assert.equal(err.type, 'ImportError')
    assert.match(err.message, /^node-asgi\/platformatic: cannot load 'platformatic_apps:missing_attribute' from .*fixtures: ImportError: Attribute "missing_attribute" not found in .*platformatic_apps\.py\.$/)
    return true
  })
})

test('close(): lifespan shutdown runs; later calls fail with ERR_NODE_ASGI_CLOSED', async () => {
  const p = new Python({ docroot: FIXTURES, appTarget: 'platformatic_apps:hello' })
  assert.equal((await p.handleRequest(new Request({ url: '/' }))).status, 200)
  await p.close()
  await p.close() // idempotent
  await assert.rejects(p.handleRequest(new Request({ url: '/' })), { code: 'ERR_NODE_ASGI_CLOSED', message: 'node-asgi/platformatic: this Python instance is closed' })
  await assert.rejects(p.handleStream(new Request({ url: '/' })), { code: 'ERR_NODE_ASGI_CLOSED' })
  assert.throws(() => p.handleRequestSync(new Request({ url: '/' })), { code: 'ERR_NODE_ASGI_CLOSED' })
})
