// The real npm client (rivetkit 2.3.19) sending to a rivet-actor server's queues: the
// `worker` actor of tests/tests/queues.rs. Run by that file with RIVET_ENDPOINT set; once
// per encoding.
import { test } from "node:test";
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
const as = (role) => ({ params: { role } });

async function rejects(promise, group, code) {
	try {
		await promise;
	} catch (error) {
		assert.ok(error instanceof ActorError, `expected ActorError, got ${error}`);
		assert.equal(`${error.group}.${error.code}`, `${group}.${code}`, error.message);
		return error;
	}
	assert.fail(`expected ${group}.${code}`);
}

test("handle.send queues a message an action takes", async () => {
	const worker = client.worker.getOrCreate([`send-${run}`], as("user"));
	assert.equal(await worker.send("jobs", { task: "a" }), undefined);
	await worker.send("jobs", { task: "b" });
	assert.equal(Number(await worker.waiting()), 2);
	assert.equal(Number(await worker.work(false)), 2);
	assert.deepEqual(await worker.done(), ["a", "b"]);
});

test("handle.send with wait gets the run loop's completion", async () => {
	const worker = client.worker.getOrCreate([`wait-${run}`], as("user"));
	const result = await worker.send("questions", { text: "hi" }, { wait: true, timeout: 5000 });
	assert.deepEqual(result, { status: "completed", response: { text: "HI" } });
});

test("a wait nobody completes times out", async () => {
	const worker = client.worker.getOrCreate([`timeout-${run}`], as("user"));
	const result = await worker.send("jobs", { task: "later" }, { wait: true, timeout: 200 });
	assert.equal(result.status, "timedOut");
	assert.equal(Number(await worker.work(false)), 1);
});

test("undeclared queues and denied sends are errors, never silent", async () => {
	const worker = client.worker.getOrCreate([`denied-${run}`], as("user"));
	await rejects(worker.send("nope", { x: 1 }), "queue", "not_found");
	await rejects(worker.send("admin", { command: "drop" }), "auth", "forbidden");
	await rejects(worker.send("vault", { amount: 1 }), "auth", "forbidden");
	const keeper = client.worker.getOrCreate([`denied-${run}`], as("keeper"));
	await keeper.send("vault", { amount: 1 });
});

test("an oversized message is refused and nothing is queued", async () => {
	const worker = client.worker.getOrCreate([`oversized-${run}`], as("user"));
	await worker.send("jobs", { task: "small" });
	await rejects(worker.send("jobs", { task: "x".repeat(70_000) }), "queue", "message_too_large");
	assert.equal(Number(await worker.waiting()), 1);
});
