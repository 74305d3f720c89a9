'use strict'
// node-asgi/platformatic: Python#handleRequestSync() blocks its caller until the response is
// complete (a worker thread runs its own instance of the app), with the same Response, errors
// and log as handleRequest().
const { test, after } = require('node:test')
const assert = require('node:assert/strict')
const { Python, Request, Response, PythonError } = require('../lib/platformatic')
const { FIXTURES } = require('./helpers')

const instances = []
function python (appTarget) {
  const p = new Python({ docroot: FIXTURES, appTarget })
  instances.push(p)
  return p
}
after(() => Promise.all(instances.map((p) => p.close())))

test('returns the Response itself, before anything else runs on this thread', () => {
  const p = python('platformatic_apps:hello')
  let ticked = false
  setImmediate(() => { ticked = true })
  process.nextTick(() => { ticked = true })
  const res = p.handleRequestSync(new Request({ url: '/' }))
  assert.equal(ticked, false) // no turn of the event loop, not even a tick, happened meanwhile
  assert.ok(res instanceof Response)
  assert.equal(res.status, 200)
  assert.equal(res.headers.get('content-type'), 'text/plain')
  assert.ok(Buffer.isBuffer(res.body))
  assert.equal(res.body.toString(), 'Hello, world!')
})

test('POST: method, headers and body reach the app; repeated response headers stay apart', () => {
  const echo = python('platformatic_apps:echo').handleRequestSync(new Request({
    method: 'POST',
    url: 'https://example.com/sync?x=1',
    headers: { 'Content-Type': 'text/plain', 'X-Many': ['1', '2'] },
    body: Buffer.from('sync body')
  }))
  const seen = JSON.parse(echo.body)
  assert.equal(seen.method, 'POST')
  assert.equal(seen.path, '/sync')
  assert.equal(seen.query, 'x=1')
  assert.equal(seen.scheme, 'https')
  assert.equal(seen.body, 'sync body')
  assert.deepEqual(seen.headers.filter(([n]) => n === 'x-many'), [['x-many', '1'], ['x-many', '2']])
  const cookies = python('platformatic_apps:cookies').handleRequestSync(new Request({ url: '/' }))
  assert.deepEqual(cookies.headers.getAll('set-cookie'), ['a=1; Path=/', 'b=2; Path=/'])
})

test('many calls in a row, and a written body that was end()ed', async () => {
  const p = python('platformatic_apps:echo')
  for (let i = 0; i < 50; i++) {
    const res = p.handleRequestSync(new Request({ url: `/n/${i}` }))
    assert.equal(JSON.parse(res.body).path, `/n/${i}`)
  }
  const req = new Request({ method: 'POST', url: '/' })
  await req.write('written')
  await req.end()
  assert.equal(JSON.parse(p.handleRequestSync(req).body).body, 'written')
})

test('errors throw synchronously: the PythonError before the response, `exception` and `log` after it', () => {
  assert.throws(() => python('platformatic_apps:raise_before_start').handleRequestSync(new Request({ url: '/' })), (err) => {
    assert.ok(err instanceof PythonError)
    assert.equal(err.type, 'ValueError')
    assert.match(err.traceback, /before the start/)
    return true
  })
  assert.throws(() => python('platformatic_apps:no_response').handleRequestSync(new Request({ url: '/' })), /No response sent/)
  const res = python('platformatic_apps:raise_after_complete').handleRequestSync(new Request({ url: '/' }))
  assert.equal(res.body.toString(), 'done')
  assert.equal(res.exception, 'RuntimeError: after the response')
  assert.match(res.log.toString(), /Exception in ASGI application/)
  const logged = python('platformatic_apps:logs').handleRequestSync(new Request({ url: '/s' }))
  assert.equal(logged.log.toString(), 'WARNING:platformatic_apps:serving /s\nINFO:platformatic_apps:second record\n')
})

test('an app that cannot load throws its PythonError, naming docroot and appTarget', () => {
  assert.throws(() => python('platformatic_apps:missing_attribute').handleRequestSync(new Request({ url: '/' })), (err) => {
    assert.equal(err.name, 'PythonError')
    assert.match(err.message, /cannot load 'platformatic_apps:missing_attribute'/)
    return true
  })
})

test('bad input throws a TypeError naming the field; a closed instance throws ERR_NODE_ASGI_CLOSED', async () => {
  const p = new Python({ docroot: FIXTURES, appTarget: 'platformatic_apps:hello' })
  assert.throws(() => p.handleRequestSync('/'), { name: 'TypeError', message: /handleRequestSync\(\) 'request' must be a Request/ })
  assert.throws(() => p.handleRequestSync(new Request({ url: '/', websocket: true })), { name: 'TypeError', message: /use handleStream\(\)/ })
  const open = new Request({ method: 'POST', url: '/' })
  await open.write('no end')
  assert.throws(() => p.handleRequestSync(open), { name: 'TypeError', message: /not end\(\)ed/ })
  assert.equal(p.handleRequestSync(new Request({ url: '/' })).status, 200)
  await p.close()
  assert.throws(() => p.handleRequestSync(new Request({ url: '/' })), { code: 'ERR_NODE_ASGI_CLOSED' })
})
