'use strict'
// A Response whose whole body came with its head (lib/fetch_response.js keeps the bytes and makes a
// stream only on demand) behaves as a Response: body stream, bodyUsed, each reading method once,
// clone() before reading, blob() and formData() typed by Content-Type, use as init of a new Response.
const { test, before, after } = require('node:test')
const assert = require('node:assert/strict')
const { PythonHandler } = require('..')
const { FIXTURES, captureLogger } = require('./helpers')

let handler

before(async () => {
  handler = new PythonHandler({ app: 'fetch_apps:app', appDir: FIXTURES, logger: captureLogger() })
  await handler.start()
})

after(() => handler.close())

const echo = (body, headers = {}) => handler.fetch(new Request('http://localhost/echo', { method: 'POST', body, headers }))

test('instanceof Response; text() once, then bodyUsed and a TypeError for a second read', async () => {
  const res = await echo('hello')
  assert.ok(res instanceof Response)
  assert.equal(res.bodyUsed, false)
  assert.equal(await res.text(), 'hello')
  assert.equal(res.bodyUsed, true)
  await assert.rejects(res.text(), { name: 'TypeError', message: /Body is unusable/ })
  await assert.rejects(res.arrayBuffer(), TypeError)
  assert.equal(res.body.locked, true, 'a read body shows as a locked stream')
  assert.throws(() => res.clone(), TypeError)
})

test('body is one byte stream, read as any Response\'s; then the reading methods reject', async () => {
  const bytes = Buffer.from(Array.from({ length: 300 }, (_, i) => i % 256))
  const res = await echo(bytes)
  const stream = res.body
  assert.equal(res.body, stream, 'the same stream every time')
  assert.equal(res.bodyUsed, false)
  const chunks = []
  for await (const chunk of stream) chunks.push(Buffer.from(chunk))
  assert.ok(Buffer.concat(chunks).equals(bytes))
  assert.equal(res.bodyUsed, true)
  await assert.rejects(res.arrayBuffer(), { name: 'TypeError' })
})

test('a stream asked for but not read can still be read by arrayBuffer()/text()', async () => {
  const res = await echo('via stream')
  assert.ok(res.body instanceof ReadableStream)
  assert.equal(await res.text(), 'via stream')
  assert.equal(res.bodyUsed, true)
})

test('arrayBuffer(), bytes(), json() and a BOM dropped by text()', async () => {
  assert.deepEqual([...new Uint8Array(await (await echo('ab')).arrayBuffer())], [97, 98])
  assert.deepEqual([...await (await echo('ab')).bytes()], [97, 98])
  assert.deepEqual(await (await echo('{"a":[1,2]}')).json(), { a: [1, 2] })
  await assert.rejects((await echo('{nope')).json(), SyntaxError)
  assert.equal(await (await echo(Buffer.from('\ufeffhi'))).text(), 'hi')
})

test('clone() before reading: both copies read the whole body, before or after the stream exists', async () => {
  const res = await echo('twice')
  const copy = res.clone()
  assert.equal(copy.status, 200)
  assert.equal(copy.headers.get('x-method'), 'POST')
  assert.equal(await copy.text(), 'twice')
  assert.equal(await res.text(), 'twice')
  const streamed = await echo('tee')
  assert.ok(streamed.body)
  const teed = streamed.clone()
  assert.equal(await teed.text(), 'tee')
  assert.equal(await streamed.text(), 'tee')
})

test('blob() carries the content type; formData() parses a form; new Response(res.body, res) copies it', async () => {
  const blob = await (await handler.fetch(new Request('http://localhost/scope'))).blob()
  assert.equal(blob.type, 'application/json')
  assert.equal(JSON.parse(await blob.text()).path, '/scope')
  const formResponse = await handler.fetch(new Request('http://localhost/echo?type=application/x-www-form-urlencoded', { method: 'POST', body: 'a=1&b=x%20y' }))
  const form = await formResponse.formData()
  assert.equal(form.get('a'), '1')
  assert.equal(form.get('b'), 'x y')
  const res = await handler.fetch(new Request('http://localhost/headers'))
  const copy = new Response(res.body, res)
  assert.equal(copy.status, 201)
  assert.deepEqual(copy.headers.getSetCookie(), ['a=1; Path=/', 'b=2; HttpOnly'])
  assert.equal(await copy.text(), 'ok')
})
