'use strict'
// node-asgi/platformatic: Python#handleStream() over HTTP: the Response resolves once the app
// starts it, the body streams (for await / next()) while the request body streams in, failures
// before and during the body, the reader leaving (http.disconnect for the app) and AbortSignal.
const { test, after } = require('node:test')
const assert = require('node:assert/strict')
const { Python, Request, PythonError } = require('../lib/platformatic')
const { FIXTURES, waitFor } = require('./helpers')

const instances = []
function python (appTarget) {
  const p = new Python({ docroot: FIXTURES, appTarget })
  instances.push(p)
  return p
}
after(() => Promise.all(instances.map((p) => p.close())))

async function text (response) {
  let body = ''
  for await (const chunk of response) body += chunk.toString()
  return body
}

test('status and headers first, then the body chunk by chunk', async () => {
  const res = await python('platformatic_apps:chunks').handleStream(new Request({ url: 'http://example.com/?n=4' }))
  assert.equal(res.status, 200)
  assert.equal(res.headers.get('content-type'), 'text/plain')
  assert.equal(res.body, null) // a streamed response has no buffered body
  const chunks = []
  for await (const chunk of res) chunks.push(chunk.toString())
  assert.equal(chunks.join(''), 'chunk 0\nchunk 1\nchunk 2\nchunk 3\n')
  assert.ok(chunks.length >= 2, `the body came in ${chunks.length} chunk(s)`)
  assert.equal(res.exception, null)
})

test('the response streams while the request body does: each written chunk comes back before the next is written', async () => {
  const req = new Request({ method: 'POST', url: '/' })
  await req.write('zero') // written before handleStream(): the body streams until end()
  const res = await python('platformatic_apps:stream_echo').handleStream(req)
  assert.equal(res.status, 200)
  assert.equal((await res.next()).toString(), 'zero')
  for (const message of ['one', 'two', 'three']) {
    await req.write(message)
    assert.equal((await res.next()).toString(), message)
  }
  await req.end()
  assert.equal(await res.next(), null)
  assert.equal(await res.next(), null) // and again after the end
})

test('a large request body written in many chunks arrives whole (backpressure holds the writes)', async () => {
  const req = new Request({ method: 'POST', url: '/' })
  const block = Buffer.alloc(64 * 1024, 7)
  await req.write(block)
  const res = await python('platformatic_apps:stream_echo').handleStream(req)
  const reading = (async () => {
    let total = 0
    for await (const chunk of res) total += chunk.length
    return total
  })()
  for (let i = 1; i < 64; i++) await req.write(block) // 4 MiB in all
  await req.end()
  assert.equal(await reading, 64 * block.length)
})

test('a body given to the constructor or written before handleStream() is sent as is', async () => {
  const p = python('platformatic_apps:echo')
  const given = JSON.parse(await text(await p.handleStream(new Request({ method: 'POST', url: '/', body: Buffer.from('given') }))))
  assert.equal(given.body, 'given')
  assert.ok(given.headers.some(([n, v]) => n === 'content-length' && v === '5'))
  const req = new Request({ method: 'POST', url: '/' })
  await req.write('written ')
  await req.write('first')
  await req.end()
  const written = JSON.parse(await text(await p.handleStream(req)))
  assert.equal(written.body, 'written first')
  assert.ok(written.headers.some(([n, v]) => n === 'transfer-encoding' && v === 'chunked'))
})

test('an exception before the response rejects handleStream() with the PythonError', async () => {
  await assert.rejects(python('platformatic_apps:raise_before_start').handleStream(new Request({ url: '/' })), (err) => {
    assert.ok(err instanceof PythonError)
    assert.equal(err.message, 'ValueError: before the start')
    return true
  })
})

test('an exception mid-body: the data sent before it, then the iteration rejects with it', async () => {
  const res = await python('platformatic_apps:raise_mid_body').handleStream(new Request({ url: '/' }))
  assert.equal(res.status, 200)
  const chunks = []
  await assert.rejects(async () => { for await (const chunk of res) chunks.push(chunk.toString()) }, { name: 'PythonError', type: 'KeyError' })
  assert.equal(chunks.join(''), 'part one\n')
})

test('an exception after the complete response: the body ends normally, then `exception` and `log` are set', async () => {
  const res = await python('platformatic_apps:raise_after_complete').handleStream(new Request({ url: '/' }))
  assert.equal(await text(res), 'done')
  assert.equal(res.exception, 'RuntimeError: after the response')
  assert.match(res.log.toString(), /Exception in ASGI application/)
})

test('a FastAPI StreamingResponse and HEAD (no body, the app sees HEAD)', async () => {
  const res = await python('platformatic_fastapi:app').handleStream(new Request({ url: '/stream' }))
  assert.equal(await text(res), 'part 0\npart 1\npart 2\n')
  const head = await python('platformatic_apps:status').handleStream(new Request({ method: 'HEAD', url: '/200' }))
  assert.equal(head.headers.get('x-method'), 'HEAD')
  assert.equal(await text(head), '')
})

async function seen (p, tag) {
  return (await p.handleRequest(new Request({ url: `/seen?${tag}` }))).body.toString()
}

test('leaving the iteration early: the app sees http.disconnect', async () => {
  const p = python('platformatic_apps:watch_disconnect')
  const res = await p.handleStream(new Request({ url: '/?left-early' }))
  for await (const chunk of res) {
    assert.equal(chunk.toString(), 'first')
    break
  }
  await waitFor(async () => (await seen(p, 'left-early')) === 'http.disconnect', { message: 'the app to see http.disconnect' })
})

test('AbortSignal: aborting after the start rejects next() with the reason and disconnects the app', async () => {
  const p = python('platformatic_apps:watch_disconnect')
  const controller = new AbortController()
  const res = await p.handleStream(new Request({ url: '/?aborted' }), controller.signal)
  assert.equal((await res.next()).toString(), 'first')
  const pending = res.next()
  controller.abort()
  await assert.rejects(pending, { name: 'AbortError' })
  await waitFor(async () => (await seen(p, 'aborted')) === 'http.disconnect', { message: 'the app to see http.disconnect' })
})

test('AbortSignal: handleRequest() with an aborted signal rejects; with a live one it answers as usual', async () => {
  const p = python('platformatic_apps:hello')
  await assert.rejects(p.handleRequest(new Request({ url: '/' }), AbortSignal.abort()), { name: 'AbortError' })
  const res = await p.handleRequest(new Request({ url: '/' }), new AbortController().signal)
  assert.equal(res.body.toString(), 'Hello, world!')
  assert.equal(res.headers.get('content-length'), '13')
})

test('an app that cannot load rejects handleStream() with its PythonError', async () => {
  await assert.rejects(python('platformatic_apps:missing_attribute').handleStream(new Request({ url: '/' })), { name: 'PythonError', type: 'ImportError', message: /cannot load 'platformatic_apps:missing_attribute'/ })
})

test('an empty body: the iteration ends at once', async () => {
  const res = await python('platformatic_apps:chunks').handleStream(new Request({ url: '/?n=0' }))
  assert.equal(res.status, 200)
  assert.equal(await text(res), '')
})
