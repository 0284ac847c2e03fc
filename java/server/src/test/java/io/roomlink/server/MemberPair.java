package io.roomlink.server;

import io.roomlink.server.protocol.Message;

/**
 * Members 1 ({@code a}) and 2 ({@code b}) of "room" on a fresh {@code server}, both fully connected
 * and each having seen the other: the starting point of the tests about drops, grace, RESUME and
 * replaced sessions. {@code okA} is a's JOIN_OK, whose session a RESUME names. Made by
 * {@link TestServers#startPair}.
 */
record MemberPair(RoomServer server, TestClient a, Message.JoinOk okA, TestClient b) {
    /** Both of a's paths die at once (RST on signaling, media goes quiet), without a LEAVE. */
    void cutA() throws Exception {
        a.media().stopKeepAlive();
        a.abort();
    }
}
