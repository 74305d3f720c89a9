'use strict'
// scope["state"]: each request gets a shallow copy of the state the lifespan startup filled in.
const test = require('node:test')
const assert = require('node:assert/strict')
const { startServer } = require('./helpers')

test('each request sees the startup state, its own top-level copy, and shared nested objects', async (t) => {
  const served = await startServer('raw_apps:lifespan_state')
  t.after(() => served.close())
  const answers = []
  for (let i = 0; i < 3; i++) {
    const res = await fetch(`${served.url}/req${i}`, { signal: AbortSignal.timeout(5000) })
    assert.equal(res.status, 200)
    answers.push(await res.json())
  }
  for (const [i, answer] of answers.entries()) {
    assert.equal(answer.started, true, 'state set at startup is visible')
    assert.equal(answer.mutated_before, false, 'a previous request\'s top-level assignment does not leak')
    assert.equal(answer.counter, 0, 'a previous request\'s counter increment does not leak')
    assert.equal(answer.hits, i + 1, 'the nested list is shared (shallow copy)')
  }
})

test('concurrent requests each get their own copy', async (t) => {
  const served = await startServer('raw_apps:lifespan_state')
  t.after(() => served.close())
  const answers = await Promise.all(Array.from({ length: 10 }, (_, i) =>
    fetch(`${served.url}/c${i}`, { signal: AbortSignal.timeout(5000) }).then((r) => r.json())))
  for (const answer of answers) {
    assert.equal(answer.mutated_before, false)
    assert.equal(answer.counter, 0)
  }
  assert.deepEqual(answers.map((a) => a.hits).sort((a, b) => a - b), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10])
})

test('handleRequest() requests get the state copy too', async (t) => {
  const served = await startServer('raw_apps:lifespan_state')
  t.after(() => served.close())
  const first = JSON.parse((await served.handler.handleRequest({ url: '/a' })).body)
  const second = JSON.parse((await served.handler.handleRequest({ url: '/b' })).body)
  assert.deepEqual(first, { started: true, mutated_before: false, counter: 0, hits: 1 })
  assert.deepEqual(second, { started: true, mutated_before: false, counter: 0, hits: 2 })
})

test('the lifespan scope carries state and the ASGI versions', async (t) => {
  const served = await startServer('raw_apps:scope_json')
  t.after(() => served.close())
  const lifespan = await (await fetch(`${served.url}/?show=lifespan`)).json()
  assert.equal(lifespan.type, 'lifespan')
  assert.deepEqual(lifespan.asgi, { version: '3.0', spec_version: '2.0' })
  assert.deepEqual(lifespan.state, [])
})

test('two handlers of the same app have separate lifespan states', async (t) => {
  const a = await startServer('raw_apps:lifespan_state')
  t.after(() => a.close())
  const b = await startServer('raw_apps:lifespan_state')
  t.after(() => b.close())
  await fetch(`${a.url}/1`).then((r) => r.json())
  await fetch(`${a.url}/2`).then((r) => r.json())
  const fromB = await fetch(`${b.url}/1`).then((r) => r.json())
  assert.equal(fromB.hits, 1, 'handler b has its own hits list')
})
