// Watches jobs with the official Socket.IO JavaScript client, as a browser app would, and prints
// everything it sees as JSON lines on stdout (driven by tests/sockets/test_js_client.py).
//
//   node watch-jobs.mjs --url http://127.0.0.1:5000 --token <access token> [--job <id>]... [--follow]
//
// --job     subscribe to this job once authenticated (repeatable)
// --follow  subscribe to every job that a `job_queued` notification announces
// Exits 2 when the connection is refused, 0 on SIGTERM / SIGINT.
import { parseArgs } from "node:util";
import { io } from "socket.io-client";

const { values: args } = parseArgs({
  options: {
    url: { type: "string" },
    token: { type: "string" },
    job: { type: "string", multiple: true, default: [] },
    follow: { type: "boolean", default: false },
  },
});
if (!args.url || !args.token) {
  console.error("usage: node watch-jobs.mjs --url URL --token TOKEN [--job ID]... [--follow]");
  process.exit(64);
}

const print = (line) => process.stdout.write(JSON.stringify(line) + "\n");
const subscribed = new Set();

const socket = io(args.url, { auth: { token: args.token }, reconnection: false });

async function subscribe(jobId) {
  if (subscribed.has(jobId)) return;
  subscribed.add(jobId);
  const ack = await socket.timeout(10_000).emitWithAck("subscribe:job", { jobId });
  print({ type: "ack", event: "subscribe:job", jobId, data: ack });
}

socket.on("connect", () => print({ type: "connect", transport: socket.io.engine.transport.name }));
socket.on("connect_error", (err) => {
  print({ type: "connect_error", message: err.message, data: err.data ?? null });
  process.exit(2);
});
socket.on("disconnect", (reason) => print({ type: "disconnect", reason }));

socket.onAny((event, data) => {
  print({ type: "event", event, data });
  if (event === "authenticated") args.job.forEach(subscribe);
  if (args.follow && event === "notification" && data?.type === "job_queued" && data.data?.jobId) {
    subscribe(data.data.jobId);
  }
});

for (const signal of ["SIGTERM", "SIGINT"]) {
  process.on(signal, () => {
    socket.close();
    process.exit(0);
  });
}
