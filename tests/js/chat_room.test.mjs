// The real npm client (rivetkit 2.3.19) against a rivet-actor server hosting the
// hand-written chat room of rivet-actor/tests/common/chat_room.rs.
// Run by rivet-actor/tests/js_compat.rs with RIVET_ENDPOINT set; once per encoding.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { createClient, ActorError } from "rivetkit/client";

const endpoint = process.env.RIVET_ENDPOINT;
const encoding = process.env.RIVET_ENCODING ?? "json";
assert.ok(endpoint, "RIVET_ENDPOINT must be set");

// "default": built the way the seeds' own snippets build it, with no options at all (the
// client's default encoding, BARE).
const client =
	encoding === "default" ? createClient(endpoint) : createClient({ endpoint, encoding });
const run = `${encoding}-${process.pid}`;
const member = { params: { auth_token: "a" } };
const conns = [];
after(async () => {
	await Promise.all(conns.map((c) => c.dispose()));
});

async function rejects(promise, group, code) {
	try {
		await promise;
	} catch (error) {
		assert.ok(error instanceof ActorError, `expected ActorError, got ${error}`);
		assert.equal(error.group, group, `group of ${error.group}.${error.code}: ${error.message}`);
		assert.equal(error.code, code);
		return error;
	}
	assert.fail(`expected ${group}.${code}`);
}

test("stateless actions with params reaching before_connect and conn_state", async () => {
	const room = client.chatRoom.getOrCreate([`stateless-${run}`], member);
	await room.sendMessage("hello");
	const messages = await room.getMessages();
	assert.deepEqual(messages, [{ user_id: "user-a", text: "hello" }]);
});

test("connected actions and events reach subscribers only", async () => {
	const key = [`events-${run}`];
	const listener = client.chatRoom.getOrCreate(key, member).connect();
	const bystander = client.chatRoom.getOrCreate(key, member).connect();
	conns.push(listener, bystander);
	const heard = [];
	let resolveHeard;
	const gotOne = new Promise((r) => (resolveHeard = r));
	listener.on("newMessage", (event) => {
		heard.push(event);
		resolveHeard();
	});
	await listener.getMessages(); // the subscription is on the wire before this answer
	await bystander.sendMessage("over the socket");
	await gotOne;
	assert.deepEqual(heard, [{ user_id: "user-a", text: "over the socket" }]);
	const messages = await bystander.getMessages();
	assert.equal(messages.length, 1);
});

test("user errors keep group, code and metadata over HTTP", async () => {
	const room = client.chatRoom.getOrCreate([`errors-${run}`], member);
	const error = await rejects(room.sendMessage(""), "user", "empty");
	assert.deepEqual(error.metadata, { min: 1 });
});

test("user errors keep group, code and metadata over WebSocket", async () => {
	const conn = client.chatRoom.getOrCreate([`errors-ws-${run}`], member).connect();
	conns.push(conn);
	const error = await rejects(conn.sendMessage(""), "user", "empty");
	assert.deepEqual(error.metadata, { min: 1 });
	// The connection is still usable.
	await conn.sendMessage("after");
});

test("can_invoke denies with auth.forbidden", async () => {
	const guest = client.chatRoom.getOrCreate([`deny-${run}`], { params: { auth_token: "guest" } });
	await rejects(guest.sendMessage("x"), "auth", "forbidden");
	const conn = guest.connect();
	conns.push(conn);
	await rejects(conn.sendMessage("x"), "auth", "forbidden");
});

test("a rejected connect reports the hook's error through onError and the call", async () => {
	const conn = client.chatRoom.getOrCreate([`reject-${run}`], { params: { auth_token: "" } }).connect();
	conns.push(conn);
	const seen = new Promise((resolve) => conn.onError(resolve));
	await rejects(conn.getMessages(), "user", "forbidden");
	const error = await seen;
	assert.equal(error.code, "forbidden");
});

test("internal errors are masked on HTTP and WebSocket", async () => {
	const room = client.chatRoom.getOrCreate([`panic-${run}`], member);
	const http = await rejects(room.explode(), "rivetkit", "internal_error");
	assert.ok(!JSON.stringify(http).includes("secret"), "internal text leaked over HTTP");
	assert.ok(!http.message.includes("secret"));
	const conn = room.connect();
	conns.push(conn);
	const ws = await rejects(conn.explode(), "rivetkit", "internal_error");
	assert.ok(!ws.message.includes("secret"), "internal text leaked over WebSocket");
	await conn.sendMessage("still alive");
});
