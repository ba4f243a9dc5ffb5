// The seed documents' TypeScript client snippets, run with the real npm client (rivetkit
// 2.3.19) against the Rust seed actors of examples/src/seeds (CORS, authentication, access
// control, agentOS authentication). Run by examples/tests/seeds_js.rs with RIVET_ENDPOINT,
// RIVET_ENCODING and JWT_SECRET set; once per encoding.
//
// The snippets are adapted only as needed: the endpoint and encoding, unique keys per run,
// `window.location.href = "/login"` and `showError` record what they would do, and a
// browser's Origin is simulated (see `browserOrigin`).
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import WS from "ws";
import { createClient, ActorError } from "rivetkit/client";

const endpoint = process.env.RIVET_ENDPOINT;
const encoding = process.env.RIVET_ENCODING ?? "json";
const jwtSecret = process.env.JWT_SECRET ?? "secret";
assert.ok(endpoint, "RIVET_ENDPOINT must be set");

// Node has no browser: its WebSockets (the `ws` package, which rivetkit loads when there is
// no global WebSocket) send no Origin. This stand-in sends `browserOrigin` when it is set,
// as a browser page on that origin would. rivetkit resolves the WebSocket class once, on
// first use, from `globalThis.WebSocket`.
let browserOrigin;
globalThis.WebSocket = class BrowserLikeWebSocket extends WS {
	constructor(url, protocols) {
		super(url, protocols, browserOrigin ? { origin: browserOrigin } : {});
	}
};

const run = `${encoding}-${process.pid}`;
const conns = [];
after(async () => {
	await Promise.all(conns.map((c) => c.dispose()));
});

/**
 * createClient for this server, with extra options (headers). In the "default" run it is
 * built exactly as the seeds build theirs: `createClient("http://…")`, no options (the
 * client's default encoding, BARE), or only the snippet's own options.
 */
function client(options = {}) {
	if (encoding === "default") {
		return Object.keys(options).length === 0
			? createClient(endpoint)
			: createClient({ endpoint, ...options });
	}
	return createClient({ endpoint, encoding, ...options });
}

async function rejects(promise, group, code) {
	try {
		await promise;
	} catch (error) {
		assert.ok(error instanceof ActorError, `expected ActorError, got ${error}`);
		assert.equal(error.group, group, `group of ${error.group}.${error.code}: ${error.message}`);
		assert.equal(error.code, code, `${error.group}.${error.code}: ${error.message}`);
		return error;
	}
	assert.fail(`expected ${group}.${code}`);
}

function track(conn) {
	conns.push(conn);
	return conn;
}

// ---------------------------------------------------------------- CORS

/** The CORS seed's client.ts, verbatim but for the key; returns what it did. */
async function corsSeedClient(c, key) {
	const outcome = { rejected: false, count: undefined };
	try {
		const actorHandle = c.myActor.getOrCreate([key]);
		const conn = track(actorHandle.connect());

		// Connection will be established or error will be thrown
		outcome.count = await conn.increment();
	} catch (error) {
		if (error instanceof ActorError && error.code === "origin_not_allowed") {
			outcome.rejected = true;
			outcome.group = error.group;
		} else {
			throw error;
		}
	}
	return outcome;
}

test("cors: a browser on an allowed origin connects", async () => {
	browserOrigin = "https://myapp.com";
	try {
		const outcome = await corsSeedClient(client(), `cors-ok-${run}`);
		assert.deepEqual(outcome, { rejected: false, count: 1 });
	} finally {
		browserOrigin = undefined;
	}
});

test("cors: a client without an Origin is rejected by onBeforeConnect", async () => {
	const outcome = await corsSeedClient(client(), `cors-none-${run}`);
	assert.equal(outcome.rejected, true);
	assert.equal(outcome.group, "user");
});

test("cors: lookalike origins are rejected before the actor runs", async () => {
	for (const origin of ["https://evilmyapp.com", "https://myapp.com.evil.com"]) {
		browserOrigin = origin;
		try {
			const outcome = await corsSeedClient(client(), `cors-evil-${run}`);
			assert.equal(outcome.rejected, true, origin);
			assert.equal(outcome.group, "auth", origin);
		} finally {
			browserOrigin = undefined;
		}
	}
});

test("cors: stateless calls carry the Origin header", async () => {
	const key = [`cors-http-${run}`];
	const allowed = client({ headers: { origin: "https://www.myapp.com" } });
	assert.equal(Number(await allowed.myActor.getOrCreate(key).increment()), 1);
	assert.equal(Number(await allowed.corsCounter.getOrCreate(key).increment()), 1);
	for (const origin of ["https://evil.com", "https://evilmyapp.com", "https://myapp.com.evil.com"]) {
		const evil = client({ headers: { origin } });
		await rejects(evil.myActor.getOrCreate(key).increment(), "auth", "origin_not_allowed");
		await rejects(evil.corsCounter.getOrCreate(key).increment(), "auth", "origin_not_allowed");
	}
	// No Origin: myActor's hook refuses it; corsCounter's declared policy does too.
	await rejects(client().myActor.getOrCreate(key).increment(), "user", "origin_not_allowed");
	await rejects(client().corsCounter.getOrCreate(key).increment(), "auth", "origin_not_allowed");
	assert.equal(Number(await allowed.myActor.getOrCreate(key).increment()), 2);
});

// ---------------------------------------------------------------- authentication: chatRoom

test("auth: params on connect (authentication happens on connect)", async () => {
	const c = client();
	const chat = c.chatRoom.getOrCreate([`general-connect-${run}`], {
		params: { authToken: "jwt-token-here" },
	});
	// Authentication will happen on connect by reading connection parameters
	const connection = track(chat.connect());
	const heard = new Promise((resolve) => connection.on("newMessage", resolve));
	assert.deepEqual(await connection.getMessages(), []);
	await connection.sendMessage("hi from the socket");
	assert.deepEqual(await heard, { userId: "user-123", text: "hi from the socket" });
});

test("auth: params on a stateless action", async () => {
	const c = client();
	const chat = c.chatRoom.getOrCreate([`general-action-${run}`], {
		params: { authToken: "jwt-token-here" },
	});
	// Authentication will happen when calling the action by reading input
	// parameters
	await chat.sendMessage("Hello, world!");
	const messages = await chat.getMessages();
	assert.equal(messages.length, 1);
	assert.equal(messages[0].userId, "user-123");
	assert.equal(messages[0].text, "Hello, world!");
	assert.ok(Number(messages[0].timestamp) > 1_600_000_000_000);
});

test("auth: an Authorization header on a stateless action", async () => {
	// This only works for stateless actions, not WebSockets
	const c = client({
		headers: {
			Authorization: "Bearer my-token",
		},
	});
	const chat = c.chatRoom.getOrCreate([`general-headers-${run}`]);
	// Authentication will happen when calling the action by reading headers
	await chat.sendMessage("Hello, world!");
	assert.equal((await chat.getMessages()).length, 1);
	// Not over WebSockets: the connection has no token.
	const conn = track(chat.connect());
	await rejects(conn.getMessages(), "user", "forbidden");
	// No header, no params: forbidden.
	await rejects(client().chatRoom.getOrCreate([`general-headers-${run}`]).getMessages(), "user", "forbidden");
});

test("auth: handling errors on a connection (forbidden -> login)", async () => {
	const c = client();
	const actorHandle = await c.chatRoom.getOrCreate([`errors-conn-${run}`], {
		params: { authToken: "" },
	});
	const seen = { redirectedTo: undefined, shown: undefined };
	const showError = (message) => (seen.shown = message);
	const handler = (error) => {
		if (error.code === "forbidden") {
			seen.redirectedTo = "/login";
		} else if (error.code === "insufficient_permissions") {
			showError("You don't have permission for this action");
		}
	};
	const conn = track(actorHandle.connect());
	// The seed writes `conn.on("error", ...)`; in rivetkit 2.3.19 `on` subscribes to an
	// actor event of that name, and connection errors reach `onError`.
	conn.on("error", handler);
	const reported = new Promise((resolve) => conn.onError((error) => resolve(handler(error))));
	await rejects(conn.getMessages(), "user", "forbidden");
	await reported;
	assert.equal(seen.redirectedTo, "/login");
});

test("auth: handling errors on an action (insufficient_permissions)", async () => {
	const c = client();
	const actorHandle = await c.chatRoom.getOrCreate([`errors-action-${run}`], {
		params: { authToken: "guest" },
	});
	const seen = { redirectedTo: undefined, shown: undefined };
	function showError(message) {
		seen.shown = message;
	}
	try {
		await actorHandle.sendMessage("hello");
		assert.fail("a guest posted");
	} catch (error) {
		if (error instanceof ActorError && error.code === "forbidden") {
			seen.redirectedTo = "/login";
		} else if (error instanceof ActorError && error.code === "insufficient_permissions") {
			showError("You don't have permission for this action");
		} else {
			throw error;
		}
	}
	assert.equal(seen.shown, "You don't have permission for this action");
	// Over a connection too; the connection stays usable.
	const conn = track(actorHandle.connect());
	await rejects(conn.sendMessage("x"), "user", "insufficient_permissions");
	assert.deepEqual(await conn.getMessages(), []);
});

test("auth: the Handling Errors snippet's myActor.protectedAction, verbatim", async () => {
	// The snippet's body, as written (both seeds call their actor `myActor`: ours keeps the
	// CORS seed's origin check, so the snippet's client comes from an allowed origin).
	async function snippet(client) {
		const outcome = { result: undefined, redirectedTo: undefined, shown: undefined };
		function showError(message) {
			outcome.shown = message;
		}
		const actorHandle = await client.myActor.getOrCreate();
		try {
			const result = await actorHandle.protectedAction();
			outcome.result = result;
		} catch (error) {
			if (error instanceof ActorError && error.code === "forbidden") {
				outcome.redirectedTo = "/login";
			} else if (error instanceof ActorError && error.code === "insufficient_permissions") {
				showError("You don't have permission for this action");
			} else {
				outcome.error = `${error.group}.${error.code}`;
			}
		}
		return outcome;
	}
	const allowed = await snippet(client({ headers: { origin: "https://myapp.com" } }));
	assert.deepEqual(allowed, { result: { success: true }, redirectedTo: undefined, shown: undefined });
	const refused = await snippet(client());
	assert.equal(refused.error, "user.origin_not_allowed");
});

// ---------------------------------------------------------------- authentication: JWT

function b64url(value) {
	return Buffer.from(typeof value === "string" ? value : JSON.stringify(value)).toString("base64url");
}

function signJwt(payload, secret = jwtSecret, header = { alg: "HS256", typ: "JWT" }) {
	const unsigned = `${b64url(header)}.${b64url(payload)}`;
	const signature = createHmac("sha256", secret).update(unsigned).digest("base64url");
	return `${unsigned}.${signature}`;
}

const inAnHour = () => Math.floor(Date.now() / 1000) + 3600;

test("jwt: protectedAction with write permission, and the seed's error handling", async () => {
	const c = client();
	const key = [`jwt-${run}`];
	const writer = c.jwtActor.getOrCreate(key, {
		params: { token: signJwt({ sub: "user-1", role: "editor", permissions: ["write"], exp: inAnHour() }) },
	});
	assert.deepEqual(await writer.protectedAction(), { success: true });
	const conn = track(writer.connect());
	assert.deepEqual(await conn.protectedAction(), { success: true });

	// The seed's try/catch: a token without `write` is forbidden -> login.
	const actorHandle = c.jwtActor.getOrCreate(key, {
		params: { token: signJwt({ sub: "user-2", role: "viewer", exp: inAnHour() }) },
	});
	let redirectedTo;
	try {
		await actorHandle.protectedAction();
	} catch (error) {
		if (error instanceof ActorError && error.code === "forbidden") {
			redirectedTo = "/login";
		}
	}
	assert.equal(redirectedTo, "/login");
});

test("jwt: the seed's conn.on(\"error\") handler on an open connection", async () => {
	const c = client();
	const actorHandle = c.jwtActor.getOrCreate([`jwt-conn-${run}`], {
		params: { token: signJwt({ sub: "user-3", role: "viewer", permissions: ["read"], exp: inAnHour() }) },
	});
	const seen = { redirectedTo: undefined, shown: undefined };
	function showError(message) {
		seen.shown = message;
	}
	const conn = track(actorHandle.connect());
	conn.on("error", (error) => {
		if (error.code === "forbidden") {
			seen.redirectedTo = "/login";
		} else if (error.code === "insufficient_permissions") {
			showError("You don't have permission for this action");
		}
	});
	const connectionErrors = [];
	conn.onError((error) => connectionErrors.push(error));
	// An action's error rejects that call only; the connection is fine.
	await rejects(conn.protectedAction(), "user", "forbidden");
	await rejects(conn.protectedAction(), "user", "forbidden");
	assert.deepEqual(connectionErrors, []);
	assert.deepEqual(seen, { redirectedTo: undefined, shown: undefined });
});

test("jwt: expired, wrongly signed and unsigned tokens are invalid_token", async () => {
	const c = client();
	const key = [`jwt-bad-${run}`];
	const claims = { sub: "user-1", role: "admin", permissions: ["write"] };
	const bad = {
		expired: signJwt({ ...claims, exp: Math.floor(Date.now() / 1000) - 3600 }),
		"wrong key": signJwt({ ...claims, exp: inAnHour() }, "not-the-secret"),
		"alg none": `${b64url({ alg: "none", typ: "JWT" })}.${b64url({ ...claims, exp: inAnHour() })}.`,
		"not a jwt": "jwt-token-here",
	};
	for (const [what, token] of Object.entries(bad)) {
		const handle = c.jwtActor.getOrCreate(key, { params: { token } });
		await rejects(handle.protectedAction(), "user", "invalid_token").catch((e) => {
			throw new Error(`${what}: ${e.message}`);
		});
		const conn = track(handle.connect());
		await rejects(conn.protectedAction(), "user", "invalid_token");
	}
});

// ---------------------------------------------------------------- authentication: the rest

test("external auth provider: premium, free and unknown API keys", async () => {
	const c = client();
	const key = [`api-${run}`];
	const premium = c.apiActor.getOrCreate(key, { params: { apiKey: "premium-key" } });
	assert.equal(await premium.premiumAction(), "Premium content");
	const free = c.apiActor.getOrCreate(key, { params: { apiKey: "free-key" } });
	const error = await rejects(free.premiumAction(), "user", "forbidden");
	assert.equal(error.message, "Premium subscription required");
	const stolen = c.apiActor.getOrCreate(key, { params: { apiKey: "stolen" } });
	await rejects(stolen.premiumAction(), "user", "invalid_api_key");
	await rejects(track(stolen.connect()).premiumAction(), "user", "invalid_api_key");
});

test("c.state in authorization: a private profile admits its owner", async () => {
	const c = client();
	const key = [`profile-${run}`];
	const owner = c.userProfile.getOrCreate(key, { params: { userId: "user-123" } });
	assert.deepEqual(await owner.getProfile(), { ownerId: "user-123" });
	const other = c.userProfile.getOrCreate(key, { params: { userId: "user-456" } });
	await rejects(other.getProfile(), "user", "forbidden");
	await rejects(c.userProfile.getOrCreate(key).getProfile(), "user", "forbidden");
	await rejects(track(other.connect()).getProfile(), "user", "forbidden");
});

test("role-based access control: forum roles and permissions", async () => {
	const c = client();
	const key = [`forum-${run}`];
	const user = c.forumActor.getOrCreate(key, { params: { token: "user" } });
	await user.editPost("post-1", "edited");
	const error = await rejects(user.deletePost("post-1"), "user", "forbidden");
	assert.equal(error.message, "moderator role required");
	for (const token of ["moderator", "admin"]) {
		const conn = track(c.forumActor.getOrCreate(key, { params: { token } }).connect());
		await conn.deletePost("post-1");
		await conn.editPost("post-1", "by staff");
	}
	await rejects(c.forumActor.getOrCreate(key, { params: { token: "root" } }).editPost("p", "x"), "user", "invalid_token");
});

test("rate limiting: ten connects a minute per user", async () => {
	const c = client();
	const key = [`limited-${run}`];
	const handle = c.rateLimitedActor.getOrCreate(key, { params: { authToken: "ann" } });
	for (let i = 0; i < 10; i++) {
		assert.deepEqual(await handle.getData(), { success: true });
	}
	const error = await rejects(handle.getData(), "user", "rate_limited");
	assert.equal(error.message, "Too many requests, try again later");
	await rejects(track(handle.connect()).getData(), "user", "rate_limited");
	const bob = c.rateLimitedActor.getOrCreate(key, { params: { authToken: "bob" } });
	assert.deepEqual(await bob.getData(), { success: true });
});

test("caching tokens: getData answers the cached user", async () => {
	const c = client();
	const key = [`cached-${run}`];
	const handle = c.cachedAuthActor.getOrCreate(key, { params: { authToken: `token-${run}` } });
	assert.deepEqual(await handle.getData(), { userId: "user-123" });
	assert.deepEqual(await track(handle.connect()).getData(), { userId: "user-123" });
	const empty = c.cachedAuthActor.getOrCreate(key, { params: { authToken: "" } });
	await rejects(empty.getData(), "user", "invalid_token");
});

// ---------------------------------------------------------------- access control

test("canInvoke: allowed action and subscription pass, the rest is forbidden", async () => {
	const c = client();
	const key = [`guarded-${run}`];
	const room = c.guardedChatRoom.getOrCreate(key);
	assert.equal(Number(await room.sendMessage("first")), 1);
	await rejects(room.deleteAll(), "auth", "forbidden");

	const conn = track(room.connect());
	const heard = new Promise((resolve) => conn.on("messages", resolve));
	await rejects(conn.deleteAll(), "auth", "forbidden");
	assert.equal(Number(await conn.sendMessage("second")), 2);
	assert.deepEqual(await heard, { text: "second" });

	// A refused subscription reaches onError, naming the event.
	const refused = new Promise((resolve) => conn.onError(resolve));
	conn.on("secrets", () => assert.fail("a secret was delivered"));
	const error = await refused;
	assert.equal(error.group, "auth");
	assert.equal(error.code, "forbidden");
	assert.equal(error.metadata?.eventName, "secrets");
	// The connection stays usable.
	assert.equal(Number(await conn.sendMessage("third")), 3);
});

test("canInvoke: the jobs queue, raw requests and raw WebSockets pass; the admin queue is forbidden", async () => {
	const c = client();
	const key = [`guarded-kinds-${run}`];
	const room = c.guardedChatRoom.getOrCreate(key);
	const done = await room.send("jobs", { task: "resize" }, { wait: true, timeout: 5000 });
	assert.equal(done.status, "completed");
	assert.equal(Number(done.response), 1);
	await rejects(room.send("admin", { command: "wipe" }), "auth", "forbidden");

	const response = await room.fetch("/messages");
	assert.equal(response.status, 200);
	assert.deepEqual(await response.json(), ["job: resize"]);

	const ws = await room.webSocket("/chat");
	try {
		// The socket is returned while it connects; send once it is open.
		if (ws.readyState !== 1) {
			await new Promise((resolve) => ws.addEventListener("open", resolve, { once: true }));
		}
		const echo = new Promise((resolve, reject) => {
			ws.addEventListener("message", (event) => resolve(String(event.data)), { once: true });
			ws.addEventListener("close", (event) => reject(new Error(`closed ${event.code} ${event.reason}`)));
		});
		ws.send("hello");
		assert.equal(await echo, "2: hello");
	} finally {
		ws.close();
	}
});

test("queues.bans.canPublish: only admins ask for bans", async () => {
	const c = client();
	const key = [`board-queues-${run}`];
	const user = c.moderationBoard.getOrCreate(key, { params: { token: "user" } });
	await user.send("reports", { text: "spam" });
	await rejects(user.send("bans", { user: "spammer" }), "auth", "forbidden");
	const admin = c.moderationBoard.getOrCreate(key, { params: { token: "admin" } });
	await admin.send("bans", { user: "spammer" });
	const moderator = c.moderationBoard.getOrCreate(key, { params: { token: "moderator" } });
	assert.deepEqual(await moderator.review(), ["report: spam", "ban: spammer"]);
});

test("events.modLog.canSubscribe: moderators hear the log, users are refused it", async () => {
	const c = client();
	const key = [`board-${run}`];
	const user = track(c.moderationBoard.getOrCreate(key, { params: { token: "user" } }).connect());
	const moderator = track(
		c.moderationBoard.getOrCreate(key, { params: { token: "moderator" } }).connect(),
	);
	let heardUser;
	const userEntry = new Promise((resolve) => (heardUser = resolve));
	moderator.on("modLog", (entry) => entry.role === "user" && heardUser(entry));
	// Subscriptions and actions of one connection are handled in order: once this answers,
	// the moderator's subscription is in place.
	assert.equal(Number(await moderator.post("warm-up")), 1);

	const refused = new Promise((resolve) => user.onError(resolve));
	user.on("modLog", () => assert.fail("a user heard the moderation log"));
	const userHeard = new Promise((resolve) => user.on("posts", (post) => post.text === "hello" && resolve(post)));
	const error = await refused;
	assert.equal(`${error.group}.${error.code}`, "auth.forbidden");
	assert.equal(error.metadata?.eventName, "modLog");

	assert.equal(Number(await user.post("hello")), 2);
	assert.equal((await userEntry).role, "user");
	assert.equal((await userHeard).text, "hello");
	// The refused connection keeps working.
	assert.equal(Number(await user.post("again")), 3);
});

// ---------------------------------------------------------------- internal errors

test("internal errors never reach the client", async () => {
	const c = client();
	const key = [`leaky-${run}`];
	const plain = c.leakyActor.getOrCreate(key);
	assert.equal(await plain.ping(), "pong");
	const http = await rejects(plain.boom(), "rivetkit", "internal_error");
	assert.ok(!JSON.stringify({ ...http, message: http.message }).includes("secret"), "leaked over HTTP");
	const conn = track(plain.connect());
	const ws = await rejects(conn.boom(), "rivetkit", "internal_error");
	assert.ok(!ws.message.includes("secret"), "leaked over WebSocket");
	for (const explode of ["beforeConnect", "connState", "panic"]) {
		const handle = c.leakyActor.getOrCreate(key, { params: { explode } });
		const viaHttp = await rejects(handle.ping(), "rivetkit", "internal_error");
		assert.ok(!viaHttp.message.includes("secret"), `${explode} leaked over HTTP`);
		const failing = track(handle.connect());
		const reported = new Promise((resolve) => failing.onError(resolve));
		const viaWs = await rejects(failing.ping(), "rivetkit", "internal_error");
		assert.ok(!viaWs.message.includes("secret"), `${explode} leaked over WebSocket`);
		const onError = await reported;
		assert.ok(!String(onError.message).includes("secret"));
	}
	assert.equal(await conn.ping(), "pong");
});

// ---------------------------------------------------------------- agentOS

test("agentOS: the vm's guards read authToken params", async () => {
	const c = client();
	const agent = c.vm.getOrCreate([`my-agent-${run}`], {
		params: { authToken: "my-jwt-token" },
	});
	assert.deepEqual(await agent.whoami(), { userId: "user-123", role: "member" });
	assert.equal(await agent.exec("ls"), "user-123$ ls");
	const conn = track(agent.connect());
	assert.equal(await conn.exec("pwd"), "user-123$ pwd");
	const refused = c.vm.getOrCreate([`my-agent-${run}`], { params: { authToken: "" } });
	await rejects(refused.exec("rm -rf /"), "user", "forbidden");
	await rejects(track(refused.connect()).exec("rm -rf /"), "user", "forbidden");
});
