'use strict'
// The message limit: up to 255 characters (Unicode code points) arrive intact; 256 are refused
// with the reason over both the line protocol and REST, and nothing of them is delivered.
const test = require('node:test')
const assert = require('node:assert/strict')
const { startChat, LineClient, post } = require('./chat_support')

let served
const open = new Set()
const hello = async (room, id) => track(await LineClient.hello(served.url, room, id))
const track = (client) => { open.add(client); return client }
const TOO_LONG = (n) => `ERROR message is ${n} characters; the limit is 255 (nothing was sent)`

test.before(async () => { served = await startChat() })
test.after(async () => {
  await Promise.all([...open].map((c) => c.close()))
  await served?.close()
})

test('a 255-character message arrives intact; 256 characters are refused and nothing is delivered', async () => {
  const sender = await hello('long', 'sender')
  const reader = await hello('long', 'reader')
  const exact = Array.from({ length: 255 }, (_, i) => String.fromCharCode(33 + (i % 90))).join('')
  assert.equal(await sender.command(`SEND long:sender ${exact}`), 'OK SEND long:sender delivered=1 held=0')
  const got = await reader.next()
  assert.equal(got, `MSG long:sender ${exact}`)
  assert.equal(got.length, 'MSG long:sender '.length + 255)

  assert.equal(await sender.command(`SEND long:sender ${'a'.repeat(256)}`), TOO_LONG(256))
  assert.equal(await sender.command(`SEND long:sender ${'b'.repeat(5000)}`), TOO_LONG(5000))
  assert.equal(await sender.command('SEND long:sender after'), 'OK SEND long:sender delivered=1 held=0')
  assert.equal(await reader.next(), 'MSG long:sender after', 'the refused messages were not delivered, not even cut')
})

test('characters are code points: 255 emoji (510 UTF-16 units) pass, 256 do not', async () => {
  const sender = await hello('emoji', 'esender')
  const reader = await hello('emoji', 'ereader')
  const emoji = '\u{1F600}'.repeat(255)
  assert.equal(await sender.command(`SEND emoji:esender ${emoji}`), 'OK SEND emoji:esender delivered=1 held=0')
  assert.equal(await reader.next(), `MSG emoji:esender ${emoji}`)
  assert.equal(await sender.command(`SEND emoji:esender ${emoji}\u{1F600}`), TOO_LONG(256))
  assert.deepEqual(reader.unread(), [])
})

test('over REST: 255 characters reach the WebSocket client intact, 256 get 422 with the reason', async () => {
  const reader = await hello('restlong', 'rreader')
  assert.equal((await post(served.url, '/clients/register', { client_id: 'poster', room: 'restlong' })).status, 201)
  const exact = 'é'.repeat(200) + 'z'.repeat(55)
  const ok = await post(served.url, '/messages/send', { room: 'restlong', client_id: 'poster', message: exact })
  assert.deepEqual(ok.body, { room: 'restlong', client_id: 'poster', delivered: 1, held: 0 })
  assert.equal(await reader.next(), `MSG restlong:poster ${exact}`)
  const refused = await post(served.url, '/messages/send', { room: 'restlong', client_id: 'poster', message: exact + '!' })
  assert.equal(refused.status, 422)
  assert.deepEqual(refused.body.detail.map((d) => [d.loc, d.msg]), [[['body', 'message'], 'ensure this value has at most 255 characters']])
  assert.equal((await post(served.url, '/messages/send', { room: 'restlong', client_id: 'poster', message: 'next' })).status, 200)
  assert.equal(await reader.next(), 'MSG restlong:poster next', 'the refused message was not delivered')
})
