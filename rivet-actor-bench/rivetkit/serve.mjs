// Starts the RivetKit peer: the local engine (from @rivetkit/engine-cli) plus this process as
// its envoy hosting `actors.mjs`. Prints `ready http://127.0.0.1:PORT` once the registry has
// registered with the engine. Port from argv[2] (default 6520).
import { registry } from "./actors.mjs";

const port = Number(process.argv[2] ?? 6520);
const r = registry(port);
await r.startAndWait();
console.log(`ready http://127.0.0.1:${port}`);
