// A wrong argument type: `tsc` must refuse it.
import { createClient } from "rivetkit/client";
import type { Registry } from "./generated/actors";

const client = createClient<Registry>("http://127.0.0.1:6420");
await client.chatRoom.getOrCreate(["general"]).sendMessage(42);
