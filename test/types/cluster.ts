// Type usage of node-asgi/cluster (checked by `npm run test:types`, never run).
import { Supervisor, StartupError, type ClusterOptions } from 'node-asgi/cluster'

async function main (): Promise<void> {
  const options: ClusterOptions = { app: 'main:app', appDir: './py', workers: 2, port: 8000, sticky: false }
  const supervisor = new Supervisor(options)
  supervisor.on('workerExit', ({ pid, code }: { pid: number, code: number | null }) => console.log(pid, code))
  try {
    await supervisor.start()
  } catch (err) {
    if (err instanceof StartupError) console.error(err.message)
  }
  const address = supervisor.address()
  if (address !== null && typeof address !== 'string') console.log(address.port)
  const pids: Array<number | null> = supervisor.workers
  await supervisor.restart()
  await supervisor.close()
  // @ts-expect-error app is required
  new Supervisor({ workers: 2 })
  // @ts-expect-error workers is a number
  new Supervisor({ app: 'main:app', workers: '2' })
  console.log(pids)
}
void main
