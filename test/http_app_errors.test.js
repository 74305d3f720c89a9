'use strict'
// uvicorn's error policy: an exception before http.response.start → 500 and an 'appError'
// PythonError with the traceback; after it → the connection is closed mid-body; returning without
// responding → 500; returning after the start without the final body → the connection is closed.
const { test, before, after } = require('node:test')
const assert = require('node:assert/strict')
const { request } = require('undici')
const { PythonError } = require('..')
const { startServer, rawRequest, parseResponse, decodeChunked, waitFor } = require('./helpers')

const servers = {}
const appErrors = {}

before(async () => {
  for (const name of ['raise_before_start', 'raise_after_start', 'no_response', 'partial_response', 'start_then_raise']) {
    servers[name] = await startServer(name === 'start_then_raise' ? 'test_http_timing:start_then_raise' : `raw_apps:${name}`)
    appErrors[name] = []
    servers[name].handler.on('appError', (error) => appErrors[name].push(error))
  }
})

after(async () => {
  await Promise.all(Object.values(servers).map((s) => s.close()))
})

const GET = 'GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n'

test('exception before start: 500 Internal Server Error with a content-length', async () => {
  const res = await fetch(`${servers.raise_before_start.url}/`)
  assert.equal(res.status, 500)
  assert.equal(res.headers.get('content-type'), 'text/plain; charset=utf-8')
  assert.equal(res.headers.get('content-length'), '21')
  assert.equal(await res.text(), 'Internal Server Error')
})

test('exception before start: an appError event carries a PythonError with the traceback', async () => {
  const errors = appErrors.raise_before_start
  const before = errors.length
  const res = await fetch(`${servers.raise_before_start.url}/again`)
  assert.equal(res.status, 500)
  await res.arrayBuffer()
  await waitFor(() => errors.length > before, { message: 'an appError event' })
  const error = errors.at(-1)
  assert.ok(error instanceof PythonError, `not a PythonError: ${error}`)
  assert.ok(error instanceof Error)
  assert.equal(error.type, 'ValueError')
  assert.equal(error.pythonMessage, 'boom before start')
  assert.equal(error.message, 'ValueError: boom before start')
  assert.match(error.traceback, /Traceback \(most recent call last\)/)
  assert.match(error.traceback, /raw_apps\.py/)
  assert.match(error.traceback, /in raise_before_start/)
  assert.match(error.traceback, /ValueError: boom before start/)
})

test('exception before start: the traceback is logged like uvicorn\'s "Exception in ASGI application"', async () => {
  const log = servers.raise_before_start.logger.text()
  assert.match(log, /Exception in ASGI application/)
  assert.match(log, /ValueError: boom before start/)
})

test('exception before start: the server keeps serving', async () => {
  for (let i = 0; i < 5; i++) {
    const res = await fetch(`${servers.raise_before_start.url}/${i}`)
    assert.equal(res.status, 500)
    await res.arrayBuffer()
  }
})

test('exception after start: the client gets the head and the partial body, then the connection closes', async () => {
  const { data, ended, timedOut } = await rawRequest(servers.raise_after_start.port, GET, { timeoutMs: 3000 })
  assert.ok(ended && !timedOut, 'the connection was not closed')
  const res = parseResponse(data)
  assert.equal(res.status, 200)
  assert.deepEqual(res.headers['transfer-encoding'], ['chunked'])
  const body = decodeChunked(res.body)
  assert.equal(body.body.toString(), 'partial')
  assert.equal(body.complete, false, 'the chunked body was terminated as if complete')
})

test('exception after start: an HTTP client sees an error reading the body', async () => {
  const { statusCode, body } = await request(`${servers.raise_after_start.url}/`)
  assert.equal(statusCode, 200)
  await assert.rejects(body.text())
})

test('exception after start: fetch rejects while reading the body', async () => {
  const res = await fetch(`${servers.raise_after_start.url}/`)
  assert.equal(res.status, 200)
  await assert.rejects(res.text())
})

test('exception after start: an appError event with the RuntimeError', async () => {
  const errors = appErrors.raise_after_start
  await waitFor(() => errors.length > 0, { message: 'an appError event' })
  assert.equal(errors[0].type, 'RuntimeError')
  assert.equal(errors[0].pythonMessage, 'boom after start')
  assert.match(errors[0].traceback, /in raise_after_start/)
})

test('exception right after start, before any body: the client sees the head, then the connection closes', async () => {
  // uvicorn writes the status line and headers when the app sends http.response.start.
  const { data, ended, timedOut } = await rawRequest(servers.start_then_raise.port, GET, { timeoutMs: 3000 })
  assert.ok(ended && !timedOut, 'the connection was not closed')
  const res = parseResponse(data)
  assert.ok(res, `no response head before the connection closed: ${JSON.stringify(data.toString('latin1'))}`)
  assert.equal(res.status, 200)
  assert.equal(decodeChunked(res.body).complete, false, 'the body was terminated as if complete')
  await waitFor(() => appErrors.start_then_raise.length > 0, { message: 'an appError event' })
  assert.equal(appErrors.start_then_raise[0].pythonMessage, 'boom right after start')
})

test('returning without a response: 500', async () => {
  const res = await fetch(`${servers.no_response.url}/`)
  assert.equal(res.status, 500)
  assert.equal(await res.text(), 'Internal Server Error')
  assert.match(servers.no_response.logger.text(), /ASGI callable returned without starting response/)
  assert.equal(appErrors.no_response.length, 0, 'no exception was raised, so no appError')
})

test('returning after the start without the final body: the connection is closed', async () => {
  const { data, ended, timedOut } = await rawRequest(servers.partial_response.port, GET, { timeoutMs: 3000 })
  assert.ok(ended && !timedOut, 'the connection was not closed')
  const res = parseResponse(data)
  assert.equal(res.status, 200)
  assert.deepEqual(res.headers['content-length'], ['100'])
  assert.equal(res.body.toString(), '0123456789')
  assert.match(servers.partial_response.logger.text(), /ASGI callable returned without completing response/)
})

test('returning after the start without the final body: an HTTP client sees an error', async () => {
  const { statusCode, body } = await request(`${servers.partial_response.url}/`)
  assert.equal(statusCode, 200)
  await assert.rejects(body.text())
})
