// The real npm client (rivetkit 2.3.19) against the `lobby` actor of
// tests/tests/connections.rs: what a connection the actor closes, or an actor that is
// destroyed, looks like to the client. Run once per encoding with RIVET_ENDPOINT set.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { createClient } from "rivetkit/client";

const endpoint = process.env.RIVET_ENDPOINT;
const encoding = process.env.RIVET_ENCODING ?? "json";
assert.ok(endpoint, "RIVET_ENDPOINT must be set");

const client =
	encoding === "default" ? createClient(endpoint) : createClient({ endpoint, encoding });
const run = `${encoding}-${process.pid}`;
const conns = [];
after(async () => {
	await Promise.all(conns.map((c) => c.dispose()));
});

const as = (name) => ({ params: { name } });

async function eventually(what, check) {
	for (let i = 0; i < 200; i++) {
		if (await check()) return;
		await new Promise((r) => setTimeout(r, 50));
	}
	assert.fail(`never happened: ${what}`);
}

test("a connection the actor kicks hears the reason, and on_disconnect learns it", async () => {
	const key = [`kick-${run}`];
	const victim = client.lobby.getOrCreate(key, as("victim")).connect();
	conns.push(victim);
	const errors = [];
	let closes = 0;
	victim.onError((error) => errors.push(error));
	victim.onClose(() => closes++);
	assert.equal(await victim.me(), "victim");

	const kicker = client.lobby.getOrCreate(key, as("kicker"));
	assert.equal(await kicker.kick("victim", "lobby.kicked"), 1);
	await eventually("the victim saw the close", () => closes >= 1);
	assert.ok(
		errors.some((e) => e.group === "lobby" && e.code === "kicked"),
		`errors seen: ${errors.map((e) => `${e.group}.${e.code}`)}`,
	);
	const probe = client.lobby.getOrCreate(key, as("probe"));
	await eventually("on_disconnect ran", async () =>
		(await probe.departures()).includes("victim:kicked lobby.kicked"),
	);
});

test("a connection that asks to be kicked gets its answer first", async () => {
	const key = [`self-kick-${run}`];
	const conn = client.lobby.getOrCreate(key, as("leaver")).connect();
	conns.push(conn);
	assert.equal(await conn.leaveMe(), "bye");
	const probe = client.lobby.getOrCreate(key, as("probe"));
	await eventually("on_disconnect ran", async () =>
		(await probe.departures()).includes("leaver:kicked lobby.bye"),
	);
});

test("a destroyed actor closes its connections with actor.destroyed", async () => {
	const key = [`destroy-${run}`];
	const conn = client.lobby.getOrCreate(key, as("witness")).connect();
	conns.push(conn);
	const errors = [];
	conn.onError((error) => errors.push(error));
	await conn.me();
	await client.lobby.getOrCreate(key, as("probe")).end();
	await eventually("the witness heard", () =>
		errors.some((e) => e.group === "actor" && e.code === "destroyed"),
	);
});

test("a client that disposes its connection is ClientClosed", async () => {
	const key = [`dispose-${run}`];
	const conn = client.lobby.getOrCreate(key, as("quitter")).connect();
	assert.equal(await conn.me(), "quitter");
	await conn.dispose();
	const probe = client.lobby.getOrCreate(key, as("probe"));
	await eventually("on_disconnect ran", async () =>
		(await probe.departures()).includes("quitter:ClientClosed"),
	);
});
