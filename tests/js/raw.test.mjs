// The real npm client (rivetkit 2.3.19) against raw handlers: `handle.fetch` to
// `#[on_request]` and `handle.webSocket` to `#[on_websocket]` of the `site` actor in
// tests/tests/raw.rs, with conn params, and both refused by `can_invoke`. Run by that file
// with RIVET_ENDPOINT set; once per encoding.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createClient } from "rivetkit/client";

const endpoint = process.env.RIVET_ENDPOINT;
const encoding = process.env.RIVET_ENCODING ?? "json";
assert.ok(endpoint, "RIVET_ENDPOINT must be set");

// "default": built the way the seeds' own snippets build it, with no options at all (the
// client's default encoding, BARE).
const client =
	encoding === "default" ? createClient(endpoint) : createClient({ endpoint, encoding });
const run = `${encoding}-${process.pid}`;
const as = (user) => ({ params: { user } });

/** Resolves with the next `message` event's data (text) of a raw socket. */
function nextMessage(ws) {
	return new Promise((resolve, reject) => {
		ws.addEventListener("message", (event) => resolve(String(event.data)), { once: true });
		ws.addEventListener("close", (event) => reject(new Error(`closed ${event.code} ${event.reason}`)), {
			once: true,
		});
	});
}

function closed(ws) {
	return new Promise((resolve) =>
		ws.addEventListener("close", (event) => resolve({ code: event.code, reason: event.reason }), {
			once: true,
		}),
	);
}

test("handle.fetch reaches #[on_request] with method, path, query, headers, body and params", async () => {
	const site = client.site.getOrCreate([`fetch-${run}`], as("ann"));
	const response = await site.fetch("/hit?x=1", {
		method: "POST",
		body: "payload",
		headers: { "x-test": "h" },
	});
	assert.equal(response.status, 200);
	assert.equal(await response.text(), "POST /hit x=1 h payload ann");
	assert.equal(Number(await site.hits()), 1);
	const missing = await site.fetch("/elsewhere");
	assert.equal(missing.status, 404);
	assert.equal(await missing.text(), "not here");
});

test("handle.fetch paths reach the actor as the URL carries them, the root included", async () => {
	const site = client.site.getOrCreate([`fetch-paths-${run}`], as("ann"));
	// `new URL` in the client escapes the space; our server keeps escapes as they came.
	const escaped = await site.fetch("/path/a b/c%2Fd?x=1");
	assert.equal(await escaped.text(), "/path/a%20b/c%2Fd?x=1");
	// `fetch("/")` requests `…/request/` (trailing slash): the actor's handler answers it.
	const root = await site.fetch("/");
	assert.equal(root.status, 404);
	assert.equal(await root.text(), "not here");
});

test("a fetch refused by can_invoke answers 403 auth.forbidden", async () => {
	const site = client.site.getOrCreate([`fetch-denied-${run}`], as("blocked"));
	const response = await site.fetch("/hit");
	assert.equal(response.status, 403);
	const body = await response.json();
	assert.equal(`${body.group}.${body.code}`, "auth.forbidden");
	const ann = client.site.getOrCreate([`fetch-denied-${run}`], as("ann"));
	assert.equal(Number(await ann.hits()), 0);
});

test("handle.webSocket reaches #[on_websocket] and calls back into the actor", async () => {
	const site = client.site.getOrCreate([`socket-${run}`], as("bob"));
	const ws = await site.webSocket("/chat");
	try {
		const greeting = nextMessage(ws);
		assert.equal(await greeting, "hello bob at /chat");
		const echo = nextMessage(ws);
		ws.send("hi");
		assert.equal(await echo, "bob: hi");
		const hits = nextMessage(ws);
		ws.send("hit");
		assert.equal(await hits, "hits 1");
	} finally {
		const done = closed(ws);
		ws.close();
		await done;
	}
});

test("handle.webSocket without a path, and with a path and query", async () => {
	const site = client.site.getOrCreate([`socket-paths-${run}`], as("cy"));
	for (const [path, seen] of [
		[undefined, "/"],
		["/path/q?x=1", "/path/q"],
	]) {
		const ws = await site.webSocket(path);
		try {
			assert.equal(await nextMessage(ws), `hello cy at ${seen}`);
		} finally {
			const done = closed(ws);
			ws.close();
			await done;
		}
	}
});

test("a raw WebSocket refused by before_connect closes with its error", async () => {
	const site = client.site.getOrCreate([`socket-hook-${run}`], as(""));
	const ws = await site.webSocket("/chat");
	const { code, reason } = await closed(ws);
	assert.equal(code, 1011);
	assert.equal(reason, "user.forbidden");
});

test("a raw WebSocket refused by can_invoke closes with auth.forbidden", async () => {
	const site = client.site.getOrCreate([`socket-denied-${run}`], as("blocked"));
	const ws = await site.webSocket("/chat");
	const { code, reason } = await closed(ws);
	assert.equal(code, 1011);
	assert.equal(reason, "auth.forbidden");
});
