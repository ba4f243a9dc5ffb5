// Correct uses of the generated types: `tsc` must accept all of them. The client is built
// as the seeds build theirs (`createClient("http://…")`), typed with the generated Registry.
import { createClient } from "rivetkit/client";
import type { Message, NewMessage, Registry } from "./generated/actors";

const client = createClient<Registry>("http://127.0.0.1:6420");

export async function uses(): Promise<void> {
	const room = client.chatRoom.getOrCreate(["general"], { params: { authToken: "t" } });
	await room.sendMessage("hi");
	const messages: Message[] = await room.getMessages();
	const first: string | undefined = messages[0]?.text;
	const conn = room.connect();
	conn.on("newMessage", (message: NewMessage) => console.log(message.userId, message.text));
	const id: number = await client.guardedChatRoom.getOrCreate(["g"]).sendMessage("x");
	const data = await client.cachedAuthActor.getOrCreate(["c"]).getData();
	const userId: string = data.userId;
	const count: number = await client.corsCounter.getOrCreate(["k"]).increment();
	await client.forumActor.getOrCreate(["f"]).editPost("post-1", "new text");
	console.log(first, id, userId, count);
}
