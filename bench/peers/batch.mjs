// Milliseconds to enqueue one batch of no-op jobs with pg-boss's insert() and BullMQ's addBulk(),
// median of a few repeats, printed as one JSON line.
//
// Run by bench/batch.py from the scratch folder where bench/peers/compare.py installed both
// packages, with PEERS_DATABASE_URL (a scratch PostgreSQL database), PEERS_REDIS_URL (a free Redis
// database), PEERS_JOBS (jobs per batch) and PEERS_REPEATS in the environment. One batch first
// warms each client up (connections, prepared plans) and is not counted.

import PgBoss from 'pg-boss'
import { Queue } from 'bullmq'
import IORedis from 'ioredis'

const jobs = Number(process.env.PEERS_JOBS)
const repeats = Number(process.env.PEERS_REPEATS)
const now = () => performance.now()

function median (values) {
  const sorted = [...values].sort((a, b) => a - b)
  const middle = Math.floor(sorted.length / 2)
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
}

async function timed (send) {
  await send() // warm-up
  const times = []
  for (let i = 0; i < repeats; i++) {
    const started = now()
    await send()
    times.push(now() - started)
  }
  return { medianMs: median(times), times }
}

async function pgBoss () {
  const boss = new PgBoss({ connectionString: process.env.PEERS_DATABASE_URL })
  boss.on('error', (error) => console.error('pg-boss:', error.message))
  await boss.start()
  const queue = 'bench-batch'
  await boss.createQueue(queue)
  const result = await timed(() => boss.insert(Array.from({ length: jobs }, () => ({ name: queue, data: {} }))))
  await boss.stop({ graceful: false, wait: true })
  return result
}

async function bullMq () {
  const connection = new IORedis(process.env.PEERS_REDIS_URL, { maxRetriesPerRequest: null })
  const queue = new Queue('bench-batch', { connection })
  const result = await timed(() => queue.addBulk(Array.from({ length: jobs }, () => ({ name: 'noop', data: {} }))))
  await queue.close()
  await connection.quit()
  return result
}

const results = { pgBoss: await pgBoss(), bullMq: await bullMq() }
console.log(JSON.stringify(results))
process.exit(0)
