// The benchmark's two actors for RivetKit 2.3.19: the same counter and chat room as
// `src/bin/server.rs` (same wire names, arguments, events, hooks and history cap).
import { actor, setup, UserError } from "rivetkit";

const HISTORY = 100;

export const counter = actor({
  state: { count: 0 },
  actions: {
    increment: (c, by) => {
      c.state.count += by;
      c.broadcast("newCount", { count: c.state.count });
      return c.state.count;
    },
    getCount: (c) => c.state.count,
  },
});

export const chatRoom = actor({
  state: { messages: [] },
  // Refuses connections without a token.
  onBeforeConnect: (_c, params) => {
    if (!params?.authToken) {
      throw new UserError("Forbidden", { code: "forbidden" });
    }
  },
  // Derives the member from the token.
  createConnState: (_c, params) => ({ userId: `user-${params.authToken}` }),
  actions: {
    sendMessage: (c, text) => {
      const message = { userId: c.conn.state.userId, text };
      if (c.state.messages.length >= HISTORY) c.state.messages.shift();
      c.state.messages.push(message);
      c.broadcast("newMessage", message);
    },
    getMessages: (c) => c.state.messages,
  },
});

export function registry(port) {
  return setup({
    use: { counter, chatRoom },
    startEngine: true,
    engineHost: "127.0.0.1",
    enginePort: port,
    noWelcome: true,
  });
}
