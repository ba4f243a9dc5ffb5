// The seeds' `chatRoom` from React, through @rivetkit/react's hooks as RivetKit's React
// docs use them: `createRivetKit(endpoint)` (the client's default encoding), `useActor`
// with the room's params, `useEvent("newMessage")`, and `connection.sendMessage(text)`.
//
// Everything comes from the page's query string, so one bundle serves any server and
// case: `?endpoint=http://127.0.0.1:6420&token=my-token&key=general`. An empty token is
// refused by the room's `onBeforeConnect` (`forbidden`), which the page shows.
import { createRivetKit } from "@rivetkit/react";
import { useEffect, useState } from "react";
import { createRoot } from "react-dom/client";

const query = new URLSearchParams(window.location.search);
const endpoint = query.get("endpoint") ?? "http://127.0.0.1:6420";
const token = query.get("token") ?? "";
const roomKey = query.get("key") ?? "general";

const { useActor } = createRivetKit(endpoint);

/** `code: message` for a RivetKit error, the message alone for anything else. */
function describe(error) {
	return error.code ? `${error.code}: ${error.message}` : String(error.message ?? error);
}

function ChatRoom() {
	// A refused connect, kept until the user retries. useActor's own `error` cannot hold it:
	// a refused connection ends `idle`, which makes the hook connect again at once and clear
	// `error`, over and over (dozens of attempts a second). Disabling the actor ends that.
	const [refusal, setRefusal] = useState(null);
	const chat = useActor({
		name: "chatRoom",
		key: [roomKey],
		params: { authToken: token },
		enabled: refusal === null,
	});
	useEffect(() => {
		if (!chat.connection) return;
		// Errors of the actor's own (`user` group: `forbidden`) will not go away by retrying.
		return chat.connection.onError((error) => {
			if (error.group === "user") setRefusal(error);
		});
	}, [chat.connection]);
	const connError = refusal ?? chat.error;
	const [messages, setMessages] = useState([]);
	const [text, setText] = useState("");
	const [sendError, setSendError] = useState(null);

	chat.useEvent("newMessage", (message) => {
		setMessages((previous) => [...previous, message]);
	});

	const send = async (event) => {
		event.preventDefault();
		if (!chat.connection || text === "") return;
		try {
			await chat.connection.sendMessage(text);
			setText("");
			setSendError(null);
		} catch (error) {
			// Shown, not swallowed: e.g. `insufficient_permissions` for the token `guest`.
			setSendError(error);
		}
	};

	const connected = chat.connStatus === "connected";
	return (
		<main>
			<h1>Chat room “{roomKey}”</h1>
			<p>
				Status: <span data-testid="status">{chat.connStatus}</span>
			</p>
			{connError && (
				<p role="alert" data-testid="conn-error" data-code={connError.code ?? ""}>
					Connection refused — {describe(connError)}{" "}
					{refusal && (
						<button type="button" onClick={() => setRefusal(null)}>
							Retry
						</button>
					)}
				</p>
			)}
			<form onSubmit={send}>
				<input
					data-testid="message-input"
					aria-label="Message"
					value={text}
					onChange={(event) => setText(event.target.value)}
					disabled={!connected}
				/>
				<button type="submit" data-testid="send" disabled={!connected || text === ""}>
					Send
				</button>
			</form>
			{sendError && (
				<p role="alert" data-testid="send-error" data-code={sendError.code ?? ""}>
					Not sent — {describe(sendError)}
				</p>
			)}
			<ul data-testid="messages">
				{messages.map((message, index) => (
					<li key={index}>
						<b>{message.userId}</b>: {message.text}
					</li>
				))}
			</ul>
		</main>
	);
}

createRoot(document.getElementById("root")).render(<ChatRoom />);
