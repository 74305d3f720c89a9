'use strict'
// Misordered or malformed messages make the app's send() raise with an error that names the
// expected and received message type, or the bad key; the server keeps serving afterwards.
// The bad_messages fixture answers 200 "<ExceptionType>: <message>" when send() raised before the
// response started, and re-raises when it had started.
const { test, before, after } = require('node:test')
const assert = require('node:assert/strict')
const { request } = require('undici')
const { startServer, rawRequest, parseResponse, waitFor } = require('./helpers')

let served
const appErrors = []

before(async () => {
  served = await startServer('raw_apps:bad_messages')
  served.handler.on('appError', (error) => appErrors.push(error))
})

after(async () => {
  await served?.close()
})

/** The text send() raised with, as the fixture reports it. */
async function raised (path) {
  const res = await fetch(`${served.url}${path}`)
  const text = await res.text()
  assert.equal(res.status, 200, `${path}: ${res.status} ${text}`)
  assert.doesNotMatch(text, /server accepted/)
  return text
}

async function stillServing () {
  const res = await fetch(`${served.url}/unknown`)
  assert.equal(res.status, 404)
  assert.equal(await res.text(), 'unknown bad_messages path')
}

test('body before start: RuntimeError naming the expected and the received type', async () => {
  assert.equal(await raised('/wrong-order'),
    "RuntimeError: Expected ASGI message 'http.response.start', but got 'http.response.body'.")
  await stillServing()
})

test('a str status: TypeError naming the status key and the type', async () => {
  const text = await raised('/bad-status')
  assert.match(text, /^TypeError: /)
  assert.match(text, /'status'/)
  assert.match(text, /int/)
  assert.match(text, /str/)
  await stillServing()
})

test('str header names and values: TypeError saying they must be bytes', async () => {
  const text = await raised('/str-header')
  assert.match(text, /^TypeError: /)
  assert.match(text, /header/)
  assert.match(text, /bytes/)
  assert.match(text, /str/)
  await stillServing()
})

test('a CR/LF in a header value: send() raises an error about the header', async () => {
  const text = await raised('/crlf-header')
  assert.match(text, /^(RuntimeError|ValueError|TypeError): /)
  assert.match(text, /header/i)
  await stillServing()
})

test('a Content-Length that is not a number: send() raises ValueError quoting it (uvicorn: int() raises)', async () => {
  const text = await raised('/bad-content-length')
  assert.match(text, /^ValueError: /)
  assert.match(text, /content-length/)
  assert.match(text, /12abc/)
  await stillServing()
})

test('a message that is not a dict: TypeError naming dict and the type received', async () => {
  const text = await raised('/not-dict')
  assert.match(text, /^TypeError: /)
  assert.match(text, /dict/)
  assert.match(text, /list/)
  await stillServing()
})

test('a second http.response.start: RuntimeError, the response is aborted, appError names both types', async () => {
  const before = appErrors.length
  const { data, ended, timedOut } = await rawRequest(served.port, 'GET /double-start HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n', { timeoutMs: 3000 })
  assert.ok(ended && !timedOut, 'the connection was not closed')
  const res = parseResponse(data)
  // the first start was accepted: the client saw a head whose body never completed
  if (res) assert.equal(res.status, 200)
  await waitFor(() => appErrors.length > before, { message: 'an appError event' })
  const error = appErrors.at(-1)
  assert.equal(error.type, 'RuntimeError')
  assert.equal(error.pythonMessage, "Expected ASGI message 'http.response.body', but got 'http.response.start'.")
  await stillServing()
})

test('a double start is seen by an HTTP client as a failed response', async () => {
  // Whether the head arrives first is tested in http_app_errors; here only that it is not a success.
  await assert.rejects(async () => {
    const { body } = await request(`${served.url}/double-start`)
    await body.text()
  })
})

test('a body after the response completed: RuntimeError; the client still got the complete response', async () => {
  const before = appErrors.length
  const res = await fetch(`${served.url}/after-complete`)
  assert.equal(res.status, 200)
  assert.equal(await res.text(), 'complete')
  await waitFor(() => appErrors.length > before, { message: 'an appError event' })
  const error = appErrors.at(-1)
  assert.equal(error.type, 'RuntimeError')
  assert.match(error.pythonMessage, /'http\.response\.body'/)
  assert.match(error.pythonMessage, /after response already completed/)
  await stillServing()
})

test('after every bad message the server still answers many requests', async () => {
  const paths = ['/wrong-order', '/bad-status', '/str-header', '/crlf-header', '/not-dict', '/after-complete']
  const results = await Promise.all(paths.map(async (path) => {
    const res = await fetch(`${served.url}${path}`)
    await res.arrayBuffer()
    return res.status
  }))
  assert.deepEqual(results, paths.map(() => 200))
  await stillServing()
})
