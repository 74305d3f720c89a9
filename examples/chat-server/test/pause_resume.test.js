'use strict'
// PAUSE and resuming: a SUSPENDED client receives nothing; its messages are held (up to 50) and
// arrive, in order, after it resumes by sending any command or through POST /clients/pause.
const test = require('node:test')
const assert = require('node:assert/strict')
const { startChat, LineClient, post } = require('./chat_support')

let served
const open = new Set()
const hello = async (room, id) => track(await LineClient.hello(served.url, room, id))
const track = (client) => { open.add(client); return client }

test.before(async () => { served = await startChat() })
test.after(async () => {
  await Promise.all([...open].map((c) => c.close()))
  await served?.close()
})

test('a paused client receives nothing; its next command resumes it and the held messages follow the reply', async () => {
  const pia = await hello('den', 'pia')
  const quinn = await hello('den', 'quinn')
  assert.equal(await pia.command('PAUSE pia'), 'OK PAUSE pia SUSPENDED')
  assert.equal(await quinn.command('SEND den:quinn first'), 'OK SEND den:quinn delivered=0 held=1')
  assert.equal(await quinn.command('SEND den:quinn second'), 'OK SEND den:quinn delivered=0 held=1')
  assert.equal(await quinn.command('LIST clients'), 'OK CLIENTS pia:SUSPENDED quinn:ACTIVE')
  // Had anything reached pia while paused, it would arrive before the reply to her command.
  assert.match(await pia.command('LIST rooms'), /^OK ROOMS .*\bden:2\b/)
  assert.equal(await pia.next(), 'RESUMED pia CONNECTED held=2 dropped=0')
  assert.equal(await pia.next(), 'MSG den:quinn first')
  assert.equal(await pia.next(), 'MSG den:quinn second')
  assert.equal(await quinn.command('SEND den:quinn live again'), 'OK SEND den:quinn delivered=1 held=0')
  assert.equal(await pia.next(), 'MSG den:quinn live again')
  assert.deepEqual(pia.unread(), [])
})

test('a malformed command resumes too; the ERROR reply comes first', async () => {
  const rae = await hello('nook', 'rae')
  const sam = await hello('nook', 'sam')
  assert.equal(await rae.command('JOIN nook:rae'), 'OK JOIN nook:rae ACTIVE')
  assert.equal(await rae.command('PAUSE rae'), 'OK PAUSE rae SUSPENDED')
  assert.equal(await sam.command('SEND nook:sam held'), 'OK SEND nook:sam delivered=0 held=1')
  assert.match(await rae.command('WHAT'), /^ERROR unknown command 'WHAT'/)
  assert.equal(await rae.next(), 'RESUMED rae ACTIVE held=1 dropped=0', 'back to the status before the pause')
  assert.equal(await rae.next(), 'MSG nook:sam held')
})

test('PAUSE of a paused client keeps it paused; QUIT while paused closes without delivering', async () => {
  const tom = await hello('loft', 'tom')
  const uma = await hello('loft', 'uma')
  assert.equal(await tom.command('PAUSE tom'), 'OK PAUSE tom SUSPENDED')
  assert.equal(await tom.command('PAUSE tom'), 'OK PAUSE tom SUSPENDED')
  assert.equal(await uma.command('SEND loft:uma unseen'), 'OK SEND loft:uma delivered=0 held=1')
  assert.equal(await tom.command('QUIT tom'), 'OK QUIT tom CLOSING')
  assert.deepEqual(await tom.closed, { code: 1000, reason: 'tom quit' })
  assert.deepEqual(tom.unread(), [], 'the held message was discarded, not sent')
})

test('POST /clients/pause suspends a WebSocket client; resume: true delivers what was held', async () => {
  const vic = await hello('hub', 'vic')
  const wes = await hello('hub', 'wes')
  assert.equal((await post(served.url, '/clients/pause', { client_id: 'vic' })).body.status, 'SUSPENDED')
  assert.equal(await wes.command('SEND hub:wes one'), 'OK SEND hub:wes delivered=0 held=1')
  assert.equal((await post(served.url, '/clients/register', { client_id: 'hubbot', room: 'hub' })).status, 201)
  assert.equal((await post(served.url, '/messages/send', { room: 'hub', client_id: 'hubbot', message: 'two' })).body.held, 1)
  assert.equal((await post(served.url, '/clients/pause', { client_id: 'vic', resume: true })).body.status, 'CONNECTED')
  assert.equal(await vic.next(), 'RESUMED vic CONNECTED held=2 dropped=0', 'nothing arrived before the resume')
  assert.equal(await vic.next(), 'MSG hub:wes one')
  assert.equal(await vic.next(), 'MSG hub:hubbot two')
})

test('at most 50 messages are held: older ones are dropped and the RESUMED line counts them', async () => {
  const xia = await hello('busy', 'xia')
  const yan = await hello('busy', 'yan')
  assert.equal(await xia.command('PAUSE xia'), 'OK PAUSE xia SUSPENDED')
  // 53 lines in one frame: 53 replies, each message held
  yan.send(Array.from({ length: 53 }, (_, i) => `SEND busy:yan m${i}`).join('\n'))
  for (let i = 0; i < 53; i++) assert.equal(await yan.next(), 'OK SEND busy:yan delivered=0 held=1')
  assert.match(await xia.command('LIST rooms'), /^OK ROOMS busy:2 /)
  assert.equal(await xia.next(), 'RESUMED xia CONNECTED held=50 dropped=3')
  for (let i = 3; i < 53; i++) assert.equal(await xia.next(), `MSG busy:yan m${i}`)
  assert.match(await xia.command('LIST rooms'), /^OK ROOMS busy:2 /, 'nothing more was held')
  assert.deepEqual(xia.unread(), [])
})
