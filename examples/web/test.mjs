// Drives the built page (dist/) in headless Chromium through playwright-core:
//   (a) with a token: connects, sends a message, and shows it from the `newMessage` event;
//   (b) with an empty token: shows the room's `forbidden` refusal.
// Started by examples/tests/web.rs, which serves dist/ and the seeds registry. Environment:
//   WEB_URL        where dist/ is served, e.g. http://127.0.0.1:40001
//   RIVET_ENDPOINT the seeds registry, e.g. http://127.0.0.1:40002
//   CHROMIUM       the browser binary (default /usr/bin/chromium)
//   SCREENSHOT_DIR where the screenshots go (default ./screenshots)
import assert from "node:assert/strict";
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { chromium } from "playwright-core";

const webUrl = required("WEB_URL");
const endpoint = required("RIVET_ENDPOINT");
const executablePath = process.env.CHROMIUM ?? "/usr/bin/chromium";
const screenshotDir = resolve(process.env.SCREENSHOT_DIR ?? "screenshots");

// Every wait below is bounded; this bounds the whole run, so a page that never renders
// fails within a minute instead of hanging the Rust test.
const RUN_TIMEOUT_MS = 55_000;
const STEP_TIMEOUT_MS = 15_000;
const watchdog = setTimeout(() => {
	console.error(`browser test did not finish in ${RUN_TIMEOUT_MS} ms`);
	process.exit(1);
}, RUN_TIMEOUT_MS);

function required(name) {
	const value = process.env[name];
	if (!value) throw new Error(`${name} is not set`);
	return value;
}

function pageUrl(token, key) {
	const query = new URLSearchParams({ endpoint, token, key });
	return `${webUrl}/?${query}`;
}

/** How many WebSockets each page has opened. */
const sockets = new Map();

/** A new tab whose console errors and uncaught exceptions end up in the test's output. */
async function openPage(context, url) {
	const page = await context.newPage();
	lastPage = page;
	sockets.set(page, 0);
	page.on("websocket", () => sockets.set(page, sockets.get(page) + 1));
	page.setDefaultTimeout(STEP_TIMEOUT_MS);
	page.on("console", (message) => {
		if (message.type() === "error" || message.type() === "warning") {
			console.log(`  [browser ${message.type()}] ${message.text()}`);
		}
	});
	page.on("pageerror", (error) => console.log(`  [page error] ${error.message}`));
	page.on("response", (response) => {
		if (response.status() >= 400) {
			console.log(`  [http ${response.status()}] ${response.request().method()} ${response.url()}`);
		}
	});
	await page.goto(url, { waitUntil: "load" });
	return page;
}

async function sendsAndShowsAMessage(context) {
	const key = `web-${Date.now()}`;
	const page = await openPage(context, pageUrl("member-token", key));
	await page.getByTestId("status").filter({ hasText: /^connected$/ }).waitFor();
	const text = `hello from Chromium ${Date.now()}`;
	await page.getByTestId("message-input").fill(text);
	await page.getByTestId("send").click();
	const item = page.getByTestId("messages").locator("li", { hasText: text });
	await item.waitFor();
	assert.equal(await item.innerText(), `user-123: ${text}`);
	assert.equal(await page.getByTestId("conn-error").count(), 0);
	// The page clears the input once the action has resolved, which may be after the event.
	await page.waitForFunction(
		() => document.querySelector('[data-testid="message-input"]').value === "",
	);
	return screenshot(page, "chat-connected.png");
}

async function showsForbiddenForAnEmptyToken(context) {
	const page = await openPage(context, pageUrl("", `web-${Date.now()}`));
	const error = page.locator('[data-testid="conn-error"][data-code="forbidden"]');
	await error.waitFor();
	assert.match(await error.innerText(), /forbidden/);
	assert.equal(await page.getByTestId("send").isDisabled(), true);
	// The refusal stays on screen and the page stops connecting (no reconnect storm).
	const attempts = sockets.get(page);
	await page.waitForTimeout(1_000);
	assert.equal(await error.isVisible(), true);
	assert.equal(await page.getByTestId("status").innerText(), "idle");
	assert.equal(sockets.get(page), attempts, "the page kept reconnecting after forbidden");
	assert.ok(attempts <= 3, `${attempts} WebSocket attempts for one refused connect`);
	return screenshot(page, "chat-forbidden.png");
}

async function screenshot(page, name) {
	const path = join(screenshotDir, name);
	await page.screenshot({ path, fullPage: true });
	console.log(`  screenshot: ${path}`);
	return path;
}

await mkdir(screenshotDir, { recursive: true });
// A fresh profile per run: nothing cached or remembered from an earlier run.
const profile = await mkdtemp(join(tmpdir(), "rivet-actor-chromium-"));
let context;
let failed = false;
// The page of the running case, photographed when the case fails.
let lastPage;
try {
	context = await chromium.launchPersistentContext(profile, {
		executablePath,
		headless: true,
		timeout: STEP_TIMEOUT_MS,
		args: [
			"--headless",
			"--no-sandbox",
			"--disable-gpu",
			"--disable-quic",
			"--no-first-run",
			"--disable-background-networking",
			"--disable-component-update",
			"--disable-sync",
		],
	});
	for (const [name, run] of [
		["connects, sends and renders newMessage", sendsAndShowsAMessage],
		["renders forbidden for an empty token", showsForbiddenForAnEmptyToken],
	]) {
		const started = Date.now();
		lastPage = undefined;
		try {
			await run(context);
			console.log(`ok - ${name} (${Date.now() - started} ms)`);
		} catch (error) {
			failed = true;
			console.log(`not ok - ${name} (${Date.now() - started} ms)\n${error.stack ?? error}`);
			await screenshot(lastPage, `failed-${run.name}.png`).catch(() => {});
		}
	}
} finally {
	await context?.close().catch(() => {});
	await rm(profile, { recursive: true, force: true });
	clearTimeout(watchdog);
}
process.exit(failed ? 1 : 0);
