// An actor the registry does not have: `tsc` must refuse it.
import { createClient } from "rivetkit/client";
import type { Registry } from "./generated/actors";

const client = createClient<Registry>("http://127.0.0.1:6420");
await client.chatRom.getOrCreate(["general"]).sendMessage("hi");
