// Type test for handler.fetch(): the documented usages compile; @ts-expect-error marks usages that must not.
import { PythonHandler } from 'node-asgi'
import type { FetchOptions } from 'node-asgi'

async function main (): Promise<void> {
  const handler = new PythonHandler({ app: 'main:app' })
  const res: Response = await handler.fetch(new Request('http://localhost/items?x=1', { method: 'POST', body: '{}' }))
  console.log(res.status, res.headers.getSetCookie(), await res.text())
  const options: FetchOptions = { rootPath: '/py', client: ['10.0.0.1', 5000] }
  const controller = new AbortController()
  const streamed = await handler.fetch(new Request('http://localhost/stream', { signal: controller.signal }), options)
  if (streamed.body !== null) for await (const chunk of streamed.body) console.log(chunk.byteLength)
  await handler.fetch(new Request('http://localhost/'), null)
  const unbound: (request: Request, options?: FetchOptions | null) => Promise<Response> = handler.fetch
  console.log(unbound)

  // @ts-expect-error a URL string is not a Request
  await handler.fetch('http://localhost/')
  // @ts-expect-error client is a [host, port] pair
  await handler.fetch(new Request('http://localhost/'), { client: '10.0.0.1' })
  // @ts-expect-error unknown option
  await handler.fetch(new Request('http://localhost/'), { rootpath: '/py' })
}
main().catch(console.error)
