// A result used as the wrong type: `tsc` must refuse it.
import { createClient } from "rivetkit/client";
import type { Registry } from "./generated/actors";

const client = createClient<Registry>("http://127.0.0.1:6420");
const count: number = await client.chatRoom.getOrCreate(["general"]).getMessages();
console.log(count);
