/**
 * The roomlink room server (wire protocol v1, docs/PROTOCOL.md).
 *
 * <p>Entry points: {@link io.roomlink.server.RoomServer} (embedded), {@link io.roomlink.server.RoomServerMain}
 * (standalone jar), {@link io.roomlink.server.TokenBuilder} (join tokens for app backends and tests).
 *
 * <p>Threading model: Netty I/O threads decode frames and datagrams, verify tokens and answer
 * keepalives; every change to room and session state happens on one "roomlink-rooms" executor
 * ({@code RoomRegistry}), which also runs a 100 ms sweep for idle connections and grace expiry.
 * The media path shares a concurrent mediaKey → session map with it and reports every accepted
 * BIND to it (a session becomes visible to its peers once its media is bound).
 */
package io.roomlink.server;
