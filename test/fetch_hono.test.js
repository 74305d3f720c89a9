'use strict'
// handler.fetch() inside a Hono 4 app: mounted with mount() (root_path set through its
// optionHandler), called from routes with c.req.raw, wrapped by Hono middleware, and served over
// node:http by a small fetch adapter — scope, streaming, headers and set-cookie as a client sees them.
const { test, before, after } = require('node:test')
const assert = require('node:assert/strict')
const http = require('node:http')
const { once } = require('node:events')
const { Readable } = require('node:stream')
const { Hono } = require('hono')
const { mount } = require('hono/mount')
const { PythonHandler } = require('..')
const { FIXTURES, captureLogger } = require('./helpers')

let handler
let app
let server
let base

/** A minimal node:http adapter for a fetch-style app: Request in, Response streamed out. */
function serveFetch (fetchApp) {
  return http.createServer(async (req, res) => {
    const controller = new AbortController()
    res.on('close', () => { if (!res.writableFinished) controller.abort() })
    const hasBody = req.method !== 'GET' && req.method !== 'HEAD'
    const request = new Request(`http://${req.headers.host}${req.url}`, {
      method: req.method,
      headers: Object.entries(req.headers).flatMap(([name, value]) => Array.isArray(value) ? value.map((v) => [name, v]) : [[name, value]]),
      body: hasBody ? Readable.toWeb(req) : undefined,
      duplex: hasBody ? 'half' : undefined,
      signal: controller.signal
    })
    const response = await fetchApp(request)
    const headers = []
    for (const [name, value] of response.headers) {
      if (name === 'set-cookie') continue
      headers.push(name, value)
    }
    for (const cookie of response.headers.getSetCookie()) headers.push('set-cookie', cookie)
    res.writeHead(response.status, headers)
    if (response.body === null) {
      res.end()
      return
    }
    try {
      for await (const chunk of response.body) res.write(chunk)
      res.end()
    } catch {
      res.destroy()
    }
  })
}

before(async () => {
  handler = new PythonHandler({ app: 'fetch_apps:app', appDir: FIXTURES, logger: captureLogger() })
  app = new Hono()
  app.use('*', async (c, next) => {
    await next()
    c.res.headers.set('x-via', 'hono')
  })
  app.get('/hello', (c) => c.text('hello from hono'))
  app.all('/py/*', mount(handler.fetch, { optionHandler: () => ({ rootPath: '/py' }) }))
  app.mount('/legacy', handler.fetch, { optionHandler: () => ({ rootPath: '/legacy' }) }) // Hono's deprecated app.mount()
  app.all('/scope', (c) => handler.fetch(c.req.raw))
  app.get('/record', (c) => handler.fetch(c.req.raw))
  app.get('/open', (c) => handler.fetch(c.req.raw))
  server = serveFetch((request) => app.fetch(request))
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  base = `http://127.0.0.1:${server.address().port}`
})

after(async () => {
  server.closeAllConnections()
  await new Promise((resolve) => server.close(resolve))
  await handler.close()
})

test('mount(): the Python app sees root_path and the full path; Hono middleware wraps its Response', async () => {
  const res = await app.request('/py/scope?x=1', { headers: { 'x-token': 't' } })
  assert.equal(res.status, 200)
  assert.equal(res.headers.get('x-via'), 'hono')
  const scope = await res.json()
  assert.equal(scope.root_path, '/py')
  assert.equal(scope.path, '/py/scope')
  assert.equal(scope.query_string, 'x=1')
  assert.ok(scope.headers.some(([n, v]) => n === 'x-token' && v === 't'))
  assert.equal(await (await app.request('/hello')).text(), 'hello from hono', 'Hono\'s own routes still answer')
  const legacy = await (await app.request('/legacy/scope')).json()
  assert.equal(legacy.root_path, '/legacy')
  assert.equal(legacy.path, '/legacy/scope')
})

test('a route calling handler.fetch(c.req.raw): method and body stream through; repeated headers and set-cookie kept', async () => {
  const echo = await app.request('/py/echo', { method: 'POST', body: 'posted through hono' })
  assert.equal(echo.headers.get('x-method'), 'POST')
  assert.equal(await echo.text(), 'posted through hono')
  const res = await app.request('/py/headers')
  assert.equal(res.status, 201)
  assert.deepEqual(res.headers.getSetCookie(), ['a=1; Path=/', 'b=2; HttpOnly'])
  assert.equal(res.headers.get('x-dup'), 'one, two')
  const direct = await app.request('/scope', { method: 'PATCH' })
  const scope = await direct.json()
  assert.equal(scope.method, 'PATCH')
  assert.equal(scope.root_path, '')
  assert.equal(scope.path, '/scope')
})

test('over node:http: a real client gets the first chunk while the app is still streaming, and set-cookie twice', async () => {
  const res = await fetch(`${base}/py/gated-stream?id=hono1`)
  assert.equal(res.headers.get('x-via'), 'hono')
  const reader = res.body.getReader()
  assert.equal(Buffer.from((await reader.read()).value).toString(), 'first')
  const record = await (await fetch(`${base}/record?id=hono1`)).json()
  assert.deepEqual(record, { first_sent: true }, 'the app has not finished')
  await fetch(`${base}/open?id=hono1`)
  let rest = ''
  for (let r = await reader.read(); !r.done; r = await reader.read()) rest += Buffer.from(r.value).toString()
  assert.equal(rest, 'second')

  const cookies = await fetch(`${base}/py/headers`)
  assert.deepEqual(cookies.headers.getSetCookie(), ['a=1; Path=/', 'b=2; HttpOnly'])
  const upload = await fetch(`${base}/py/echo`, { method: 'PUT', body: Buffer.alloc(300 * 1024, 1) })
  assert.equal((await upload.arrayBuffer()).byteLength, 300 * 1024)
})
