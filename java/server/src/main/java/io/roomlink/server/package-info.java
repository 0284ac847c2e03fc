/**
 * The roomlink room server (wire protocol v1, docs/PROTOCOL.md).
 *
 * <p>Entry points: {@link io.roomlink.server.RoomServer} (embedded), {@link io.roomlink.server.RoomServerMain}
 * (standalone jar), {@link io.roomlink.server.TokenBuilder} (join tokens for app backends and tests).
 *
 * <p>Threading model: Netty I/O threads decode frames and datagrams, verify tokens and answer
 * keepalives; every change to room and session state happens on one "roomlink-rooms" executor
 * ({@code RoomRegistry}), which also runs a 100 ms sweep for idle connections and grace expiry.
 * The media path shares only a concurrent mediaKey → session map with it.
 */
package io.roomlink.server;
