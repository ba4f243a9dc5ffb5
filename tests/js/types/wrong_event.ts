// An event payload used as the wrong type: `tsc` must refuse it.
import { createClient } from "rivetkit/client";
import type { Registry } from "./generated/actors";

const client = createClient<Registry>("http://127.0.0.1:6420");
const conn = client.chatRoom.getOrCreate(["general"]).connect();
conn.on("newMessage", (message: { count: number }) => console.log(message.count));
