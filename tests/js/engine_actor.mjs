// A RivetKit 2.3.19 registry hosting one actor, `jsCounter`, as an envoy of an EXTERNAL Rivet
// Engine: the reference host our engine mode is compared with. Plain ESM, run with `node`.
//
// Environment:
//   RIVET_ENGINE_ENDPOINT   the engine, e.g. http://127.0.0.1:6420 (required)
//   RIVET_ENGINE_NAMESPACE  namespace (default "default")
//   RIVET_ENGINE_POOL       pool (runner config) name, upserted beforehand (required)
// Prints `READY` on stdout once the engine has registered the envoy.
//
// Verified by hand (engine from tests/js/node_modules, pool upserted first):
//   E=node_modules/@rivetkit/engine-cli-linux-x64-musl/rivet-engine; P=17420
//   RIVET__FILE_SYSTEM__PATH=/tmp/e/db RIVET__GUARD__HOST=127.0.0.1 RIVET__GUARD__PORT=$P \
//   RIVET__API_PEER__HOST=127.0.0.1 RIVET__API_PEER__PORT=$((P+1)) \
//   RIVET__METRICS__HOST=127.0.0.1 RIVET__METRICS__PORT=$((P+10)) \
//   RIVET__TELEMETRY__ENABLED=false $E start > /tmp/e/log 2>&1 &
//   curl -X PUT "http://127.0.0.1:$P/runner-configs/jspool?namespace=default" \
//     -H 'content-type: application/json' -d '{"datacenters":{"default":{"normal":{}}}}'
//   RIVET_ENGINE_ENDPOINT=http://127.0.0.1:$P RIVET_ENGINE_POOL=jspool node engine_actor.mjs &
//   # ... READY
//   curl -X POST -H 'x-rivet-encoding: json' -H 'content-type: application/json' -d '{"args":[5]}' \
//     "http://127.0.0.1:$P/gateway/jsCounter/action/increment?rvt-namespace=default&rvt-method=getOrCreate&rvt-runner=jspool&rvt-key=k&rvt-crash-policy=sleep"
//   # {"output":5}   (again with [2]: {"output":7})

const endpoint = process.env.RIVET_ENGINE_ENDPOINT;
const namespace = process.env.RIVET_ENGINE_NAMESPACE || "default";
const pool = process.env.RIVET_ENGINE_POOL;
if (!endpoint || !pool) {
	console.error("RIVET_ENGINE_ENDPOINT and RIVET_ENGINE_POOL are required");
	process.exit(2);
}

// Read by rivetkit's native core when it starts (not at import), but set before importing
// anyway. For a loopback endpoint the core's default ("auto") would manage an engine of its
// own — reuse or SPAWN one, orphaned on purpose — and start the "Services" actor host;
// we connect to the engine we were given and nothing else.
process.env.RIVETKIT_ENGINE_SPAWN = "never";
process.env.RIVET_RUN_SERVICES = "0";
// No other envoy settings may leak in from the caller's environment.
for (const name of ["RIVET_ENGINE", "RIVET_ENDPOINT", "RIVET_TOKEN", "RIVET_NAMESPACE", "RIVET_POOL"]) {
	delete process.env[name];
}

const { actor, event, setup } = await import("rivetkit");

const jsCounter = actor({
	state: { count: 0 },
	events: { newCount: event() },
	actions: {
		increment: (c, amount) => {
			c.state.count += amount;
			c.broadcast("newCount", c.state.count);
			return c.state.count;
		},
		getCount: (c) => c.state.count,
	},
});

const registry = setup({
	use: { jsCounter },
	endpoint,
	namespace,
	// Local engines run with auth off; the token is still sent and ignored.
	token: "dev",
	startEngine: false,
	startServices: false,
	noWelcome: true,
	envoy: { poolName: pool, version: 1 },
});

// Resolves once the engine has sent the envoy its init (it is then listed under
// GET /envoys); rejects after 30 s. The envoy keeps the process alive until SIGTERM/SIGINT,
// which rivetkit handles by draining its actors.
try {
	await registry.startAndWait();
} catch (error) {
	console.error("engine_actor: not registered with the engine:", error);
	process.exit(1);
}
console.log("READY");
